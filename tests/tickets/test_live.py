"""The ticket page's live refresh (ticket-live): the facts as they are now, the departments'
response targets among them, who else has the ticket open, and who changed it since the page
was opened."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Department, Membership
from queues.models import Notification
from routing.services import rule_create
from tests.conftest import dispatch_pending
from tests.factories import UserFactory
from tickets.presence import gone_after_seconds, presence_report
from tickets.services import ticket_create, ticket_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(customer, rep):
    rule_create(
        name="Bugs to engineering",
        trigger="ticket.created",
        conditions={"all": [{"field": "kind", "operator": "is", "value": "bug"}]},
        actions=[{"type": "notify_department", "department": "engineering"}],
    )
    created = ticket_create(
        customer=customer, kind="bug", channel="phone", subject="Crash", created_by=rep
    )
    dispatch_pending()
    return created


def live(client, ticket, version=None):
    query = {} if version is None else {"version": version}
    response = client.get(f"/tickets/{ticket.pk}/live/", query)
    assert response.status_code == 200
    return response.json()


def test_the_facts_as_they_are_now_with_the_response_targets(client, rep, ticket):
    client.force_login(rep)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert f'data-version="{ticket.version}"' in page
    assert "Response targets" in page
    item = Notification.objects.get(ticket=ticket)
    # The rep reads engineering's target; only engineering's members get the link to its item.
    assert "<li>Engineering: take on by" in page
    assert "left</span>" in page
    engineer = UserFactory(username="eve")
    Membership.objects.create(user=engineer, department=Department.objects.get(slug="engineering"))
    client.force_login(engineer)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert f'<a href="/queue-items/{item.pk}/">Engineering</a>: take on by' in page
    client.force_login(rep)

    state = live(client, ticket, ticket.version)
    assert state["changed"] is None
    assert state["viewers"] == []
    assert '<span class="badge status-new">New</span>' in state["facts"]

    # The department's target passes: the facts say so without the ticket changing.
    Notification.objects.filter(pk=item.pk).update(due_at=timezone.now() - timedelta(hours=1))
    assert '<span class="badge overdue">past target</span>' in live(client, ticket)["facts"]
    # Taken on, it no longer has a deadline; done, it is no longer listed.
    erin = UserFactory(username="erin", first_name="Erin", last_name="Engineer")
    Notification.objects.filter(pk=item.pk).update(status="acknowledged", acted_by=erin)
    assert "taken on by Erin Engineer" in live(client, ticket)["facts"]
    Notification.objects.filter(pk=item.pk).update(status="done")
    assert "Response targets" not in live(client, ticket)["facts"]


def test_a_change_since_the_page_was_opened_names_who_made_it(client, rep, ticket):
    opened = ticket.version
    lead = UserFactory(username="lea", first_name="Lea", last_name="Lead")
    ticket_update(ticket=ticket, actor=lead, priority="urgent")
    client.force_login(rep)
    state = live(client, ticket, opened)
    assert state["version"] == opened + 1
    assert state["changed"]["by"] == "Lea Lead"
    assert state["changed"]["at"] == timezone.localtime(timezone.now()).strftime("%H:%M")
    assert '<span class="badge priority-urgent">Urgent</span>' in state["facts"]
    # A page opened after the change has nothing to be warned of.
    assert live(client, ticket, opened + 1)["changed"] is None
    assert client.get(f"/tickets/{ticket.pk + 1000}/live/").status_code == 404


def test_who_else_is_viewing(client, rep, ticket):
    erin = UserFactory(username="erin", first_name="Erin", last_name="Engineer")
    Membership.objects.create(user=erin, department=Department.objects.get(slug="engineering"))
    client.force_login(erin)
    assert live(client, ticket)["viewers"] == []
    client.force_login(rep)
    assert live(client, ticket)["viewers"] == ["Erin Engineer"]
    client.force_login(erin)
    assert live(client, ticket)["viewers"] == [rep.get_full_name() or rep.username]
    # A viewer not heard from for a while has left.
    later = time.time() + gone_after_seconds() + 1
    assert presence_report(ticket_id=ticket.pk, user=rep, now=later) == []


def test_the_live_refresh_needs_a_signed_in_user(client, ticket):
    response = client.get(f"/tickets/{ticket.pk}/live/")
    assert response.status_code == 302
