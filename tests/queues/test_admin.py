"""Queue items and follow-ups are written by their services only: the admin shows them, and
refuses to add, change or delete them, so no change skips the timeline and the events."""

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
    assert client.post(f"/admin/queues/followuptask/{followup.pk}/delete/").status_code == 403
    assert FollowUpTask.objects.filter(pk=followup.pk).exists()


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
def test_the_routing_audit_cannot_be_deleted_in_the_admin(client, admin_user, followup):
    from routing.models import RoutingRun, RuleMatch

    client.force_login(admin_user)
    match = RuleMatch.objects.get(ticket=followup.ticket)
    run = RoutingRun.objects.filter(event=followup.event).get()
    assert client.post(f"/admin/routing/rulematch/{match.pk}/delete/").status_code == 403
    assert client.post(f"/admin/routing/routingrun/{run.pk}/delete/").status_code == 403
    assert RuleMatch.objects.filter(pk=match.pk).exists()
    assert RoutingRun.objects.filter(pk=run.pk).exists()
