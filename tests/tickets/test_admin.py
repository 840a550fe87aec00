"""Tickets created and changed in the Django admin go through the same services as the API."""

import pytest

from tests.conftest import dispatch_pending
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_admin_add_records_event_and_routes(client, admin_user, customer, starter_rules):
    client.force_login(admin_user)
    response = client.post(
        "/admin/tickets/ticket/add/",
        {
            "kind": "rfe",
            "channel": "phone",
            "subject": "Bulk edit",
            "description": "",
            "customer": customer.pk,
            "product": "",
            "priority": "normal",
            "status": "new",
            "timeline-TOTAL_FORMS": "0",
            "timeline-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    ticket = Ticket.objects.get()
    assert ticket.created_by == admin_user
    assert TicketEvent.objects.get(ticket=ticket).type == "ticket.created"
    dispatch_pending()
    assert set(ticket.notifications.values_list("department__slug", flat=True)) == {
        "engineering",
        "marketing",
    }


def test_admin_change_records_status_event(client, admin_user, customer):
    from tickets.services import ticket_create

    ticket = ticket_create(customer=customer, kind="bug", channel="web", subject="S")
    client.force_login(admin_user)
    response = client.post(
        f"/admin/tickets/ticket/{ticket.pk}/change/",
        {
            "kind": "bug",
            "channel": "web",
            "subject": "S",
            "description": "",
            "customer": customer.pk,
            "product": "",
            "priority": "normal",
            "status": "resolved",
            "root_cause": "usability",
            "resolution": "Showed where the button is",
            "timeline-TOTAL_FORMS": "1",
            "timeline-INITIAL_FORMS": "1",
            "timeline-0-id": ticket.timeline.get().pk,
            "timeline-0-ticket": ticket.pk,
        },
    )
    assert response.status_code == 302, response.content[:3000]
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert ticket.resolved_at is not None
    event = TicketEvent.objects.get(ticket=ticket, type="ticket.status_changed")
    assert event.actor == admin_user
    assert event.changes == {
        "status": ["new", "resolved"],
        "root_cause": ["", "usability"],
        "resolution": ["", "Showed where the button is"],
    }


def test_admin_rule_form_shows_errors_at_their_place(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/routing/rule/add/",
        {
            "name": "Broken",
            "order": "1",
            "trigger": "ticket.created",
            "conditions": '{"all": [{"field": "kind", "operator": "is", "value": "bugz"}]}',
            "actions": '[{"type": "notify_department", "department": "engineering"}]',
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "conditions.all[0].value: Must be one of call, bug, rfe, rma." in (
        response.content.decode()
    )


def test_admin_tags_and_department_go_through_the_service(client, admin_user, customer):
    from accounts.models import Department
    from tickets.models import Tag
    from tickets.services import ticket_create

    ticket = ticket_create(customer=customer, kind="bug", channel="web", subject="S")
    vip = Tag.objects.create(name="vip")
    client.force_login(admin_user)
    response = client.post(
        f"/admin/tickets/ticket/{ticket.pk}/change/",
        {
            "kind": "bug",
            "channel": "web",
            "subject": "S",
            "description": "",
            "customer": customer.pk,
            "product": "",
            "priority": "normal",
            "status": "new",
            "department": Department.objects.get(slug="finance").pk,
            "tags": [vip.pk],
            "timeline-TOTAL_FORMS": "1",
            "timeline-INITIAL_FORMS": "1",
            "timeline-0-id": ticket.timeline.get().pk,
            "timeline-0-ticket": ticket.pk,
        },
    )
    assert response.status_code == 302, response.content[:3000]
    event = TicketEvent.objects.get(ticket=ticket, type="ticket.updated")
    assert event.changes == {"tags": [[], ["vip"]], "department": [None, "finance"]}
    assert list(ticket.tags.values_list("name", flat=True)) == ["vip"]
