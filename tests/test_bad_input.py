"""Odd input found by fuzzing every page and endpoint: each is a clear 4xx, never a 500."""

import pytest

from routing.models import Notification, Rule
from routing.services import rule_create
from tests.conftest import dispatch_pending
from tests.routing.test_queues import member
from tickets.models import Ticket
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db


def raw(api, method, url, body: str):
    return getattr(api, method)(url, data=body, content_type="application/json")


@pytest.mark.parametrize("body", ['{"customer": 1e400}', '{"customer": NaN}', "[" * 5000])
def test_json_nothing_can_store_is_a_400(api, customer, body):
    response = raw(api, "post", "/api/v1/tickets/", body)
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert not Ticket.objects.exists()


def test_a_malformed_id_in_an_action_is_a_404(api):
    assert api.get("/api/v1/tickets/abc/timeline/").status_code == 404
    assert api.post("/api/v1/tickets/²/timeline/", {"body": "x"}).status_code == 404


def test_nul_in_a_rule_definition_is_a_400_at_its_place(admin_api):
    rule = {
        "name": "n",
        "trigger": "ticket.created",
        "conditions": {"all": [{"field": "assignee", "operator": "is", "value": "a\x00"}]},
        "actions": [{"type": "notify_department", "department": "\x00"}],
    }
    response = admin_api.post("/api/v1/rules/", rule, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"conditions.all[0].value", "actions[0].department"}


@pytest.mark.parametrize(
    ("change", "place"),
    [
        ({"name": ["x"]}, "rules[0].name"),
        ({"name": "a\x00b"}, "rules[0].name"),
        ({"trigger": ["x"]}, "rules[0].trigger"),
        ({"description": "a\x00b"}, "rules[0].description"),
    ],
)
def test_an_import_of_odd_types_is_a_400_at_its_place(admin_api, change, place):
    rule = {
        "name": "n",
        "trigger": "ticket.created",
        "conditions": {},
        "actions": [{"type": "notify_department", "department": "engineering"}],
        **change,
    }
    body = {"format": "switchboard.rules", "version": 1, "rules": [rule]}
    response = admin_api.post("/api/v1/rules/import/", body, format="json")
    assert response.status_code == 400
    assert place in response.json()
    assert not Rule.objects.exists()


@pytest.mark.parametrize("next_url", ["foo", "home", "queue", "²", ""])
def test_a_next_that_is_not_a_path_goes_back_to_the_queue(client, customer, next_url):
    engineer = member("erin", "engineering")
    rule_create(
        name="r",
        trigger="ticket.created",
        conditions={},
        actions=[{"type": "notify_department", "department": "engineering"}],
    )
    ticket_create(customer=customer, kind="bug", channel="web", subject="Crash")
    dispatch_pending()
    client.force_login(engineer)
    item = Notification.objects.get()
    response = client.post(f"/queue-items/{item.pk}/respond/", {"body": "Hi", "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == "/queues/engineering/"
