"""The API create validates with one TicketCreateSerializer kept for every request
(tickets.api.serializers.ticket_create_input): its answers are those of a serializer built for
the request, and nothing of one request's input is left for the next."""

import json

import pytest

from tests.factories import ContactFactory
from tickets.api.serializers import TicketCreateSerializer

pytestmark = pytest.mark.django_db


def _fresh_errors(body) -> dict:
    serializer = TicketCreateSerializer(data=body)
    assert not serializer.is_valid()
    return json.loads(json.dumps(serializer.errors))


@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        {"kind": "bug"},
        {"kind": "nope", "customer": 1.5, "subject": "x" * 201},
        {"kind": "bug", "customer": "0", "subject": "Crash", "tags": ["no spaces"]},
        {"kind": "rma", "customer": True, "subject": "", "priority": "urgent!"},
    ],
)
def test_bad_input_is_answered_as_a_fresh_serializer_would(api, customer, body):
    response = api.post("/api/v1/tickets/", body, format="json")
    assert response.status_code == 400
    assert response.json() == _fresh_errors(body)


def test_one_request_leaves_nothing_for_the_next(api, customer):
    other = ContactFactory()  # of another customer
    body = {"kind": "bug", "customer": customer.pk, "subject": "Crash", "tags": ["vip"]}
    refused = api.post("/api/v1/tickets/", {**body, "contact": other.pk}, format="json")
    assert set(refused.json()) == {"contact"}
    created = api.post("/api/v1/tickets/", {"kind": "bug", "customer": customer.pk, "subject": "x"})
    assert created.status_code == 201
    assert (created.json()["contact"], created.json()["tags"]) == (None, [])
