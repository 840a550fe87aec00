"""Queue items and follow-ups are written by their services only: the admin shows them, and
refuses to add or change them, so no change skips the timeline and the events."""

import pytest

from queues.models import FollowUpTask


@pytest.mark.django_db
def test_a_follow_up_can_be_seen_but_not_changed_in_the_admin(client, admin_user, followup):
    client.force_login(admin_user)
    page = f"/admin/queues/followuptask/{followup.pk}/change/"
    assert client.get(page).status_code == 200
    response = client.post(page, {"status": "done", "outcome": "satisfied", "due_on": "2030-01-01"})
    assert response.status_code == 403
    followup.refresh_from_db()
    assert followup.status == FollowUpTask.Status.OPEN
    assert client.get("/admin/queues/followuptask/add/").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/admin/queues/notification/add/",
        "/admin/routing/rulematch/add/",
        "/admin/routing/routingrun/add/",
        "/admin/deliveries/emaildelivery/add/",
    ],
)
def test_records_only_services_write_cannot_be_added_in_the_admin(client, admin_user, path):
    client.force_login(admin_user)
    assert client.get(path).status_code == 403


@pytest.mark.django_db
def test_a_routed_ticket_can_still_be_deleted_in_the_admin_with_its_records(
    client, admin_user, followup
):
    """Deleting a ticket takes its queue items, follow-ups and routing audit along: the
    read-only admins of those records must not stand in the way."""
    from routing.models import RoutingRun, RuleMatch
    from tickets.models import Ticket

    client.force_login(admin_user)
    ticket = followup.ticket
    response = client.post(f"/admin/tickets/ticket/{ticket.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Ticket.objects.filter(pk=ticket.pk).exists()
    assert not FollowUpTask.objects.filter(pk=followup.pk).exists()
    assert not RuleMatch.objects.filter(ticket_id=ticket.pk).exists()
    assert not RoutingRun.objects.filter(event__ticket_id=ticket.pk).exists()
