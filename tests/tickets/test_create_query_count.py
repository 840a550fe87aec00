"""What creating a ticket through the API costs the database, so that the count cannot creep
back up.

A rep with an API token files a bug for a customer with an unpaid invoice. Every statement the
request sends is listed; the request's one transaction (validation's reads and the service's
writes) shows as a savepoint because the test runs inside one, so the savepoints count the
request's transactions. The token was used before, so it is authenticated from the cache
(accounts.token_cache); its first request reads it.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Department
from tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from tickets.api.serializers import TicketSerializer
from tickets.models import Tag, Ticket, TicketEvent, TimelineEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def owing_customer(salesperson):
    customer = CustomerFactory(name="Owing Co", salesperson=salesperson)
    InvoiceFactory(customer=customer)  # unpaid
    return customer


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def token_client(rep):
    """A client whose token has been used already, as a client's is after its first request."""
    client = _client(rep)
    assert client.get("/api/v1/departments/").status_code == 200
    return client


def _post(client, body) -> tuple:
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/tickets/", body, format="json")
    return response, [query["sql"] for query in queries.captured_queries]


def _shape(statements: list[str]) -> list[str]:
    """Each statement as its verb and table: ``SELECT accounts_customer``."""
    shapes = []
    for sql in statements:
        verb = sql.split(None, 1)[0]
        if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
            shapes.append(verb)
            continue
        table_after = {"INSERT": " INTO ", "UPDATE": "UPDATE "}.get(verb, " FROM ")
        table = sql.split(table_after, 1)[1].split()[0]
        shapes.append(f"{verb} {table.strip(chr(34))}")
    return shapes


def _as_read_back(ticket_id: int) -> dict:
    """The ticket as the API shows it when read from the database, serializer built anew."""
    ticket = Ticket.objects.get(pk=ticket_id)
    return TicketSerializer(ticket).data


def test_creating_a_bug(token_client, owing_customer, rep):
    body = {"kind": "bug", "customer": owing_customer.pk, "subject": "Crash", "description": "boom"}
    response, statements = _post(token_client, body)
    assert response.status_code == 201, response.content

    listing = "\n".join(statements)
    assert _shape(statements) == [
        "SAVEPOINT",  # the request's one transaction
        "SELECT accounts_customer",  # the customer named exists
        "INSERT tickets_ticket",
        "INSERT tickets_timelineentry",
        "INSERT tickets_ticketevent",
        "RELEASE",
    ], listing

    # Nothing less was written, and the answer is the ticket as it reads back.
    ticket = Ticket.objects.get()
    assert response.json() == _as_read_back(ticket.pk)
    assert response.json()["tags"] == []
    assert response.json()["related"] == []
    assert ticket.created_by == rep
    assert ticket.search_text == "Crash\nboom"
    entry = TimelineEntry.objects.get(ticket=ticket)
    assert (entry.kind, entry.author, entry.body) == (TimelineEntry.Kind.CREATED, rep, "boom")
    event = TicketEvent.objects.get(ticket=ticket)
    assert event.type == TicketEvent.Type.CREATED
    assert event.actor == rep
    assert event.snapshot["tags"] == []
    assert event.snapshot["customer_id"] == owing_customer.pk
    assert event.snapshot["created_at"] == ticket.created_at.isoformat()


def test_creating_with_everything_named(token_client, owing_customer, rep):
    """Contact, assignee, department and tags (one known, one new) each cost their lookup,
    and the answer still matches the ticket as it reads back."""
    Tag.objects.create(name="known")
    contact = ContactFactory(customer=owing_customer)
    body = {
        "kind": "rma",
        "customer": owing_customer.pk,
        "contact": contact.pk,
        "assignee": rep.pk,
        "department": "support",
        "subject": "Cracked case",
        "rma_serial_number": "SN-1",
        "tags": ["New", "known"],
    }
    response, statements = _post(token_client, body)
    assert response.status_code == 201, response.content

    listing = "\n".join(statements)
    assert _shape(statements) == [
        "SAVEPOINT",
        "SELECT accounts_customer",
        "SELECT accounts_contact",
        "SELECT accounts_user",
        "SELECT accounts_department",
        "INSERT tickets_ticket",
        "UPDATE tickets_ticket",  # the RMA number is made from the id
        "SELECT tickets_tag",
        "INSERT tickets_tag",  # the new one
        "SELECT tickets_tag",  # with its id
        "INSERT tickets_ticket_tags",
        "INSERT tickets_timelineentry",
        "INSERT tickets_ticketevent",
        "RELEASE",
    ], listing

    ticket = Ticket.objects.get()
    data = response.json()
    assert data == _as_read_back(ticket.pk)
    assert data["tags"] == ["known", "new"]
    assert data["department"] == "support"
    assert data["rma_number"] == f"RMA-{ticket.pk:06d}"
    assert f"RMA-{ticket.pk:06d}" in ticket.search_text
    assert TicketEvent.objects.get(ticket=ticket).snapshot["tags"] == ["known", "new"]


def test_a_refused_create_writes_nothing(token_client, owing_customer):
    other = ContactFactory()  # of another customer
    body = {"kind": "bug", "customer": owing_customer.pk, "contact": other.pk, "subject": "x"}
    response, statements = _post(token_client, body)
    assert response.status_code == 400
    assert "contact" in response.json()
    assert _shape(statements) == [
        "SAVEPOINT",
        "SELECT accounts_customer",
        "SELECT accounts_contact",
        "ROLLBACK",  # to the savepoint: nothing was written, nothing is kept
        "RELEASE",
    ]

    response = token_client.post("/api/v1/tickets/", {"kind": "bug", "customer": 0}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"customer", "subject"}
    assert not Ticket.objects.exists()


def test_a_first_request_reads_its_token(rep, owing_customer):
    """Before its token is cached, a request reads it, with its user, outside the transaction."""
    body = {"kind": "bug", "customer": owing_customer.pk, "subject": "Crash"}
    response, statements = _post(_client(rep), body)
    assert response.status_code == 201
    assert _shape(statements)[:3] == [
        "SELECT authtoken_token",
        "SAVEPOINT",
        "SELECT accounts_customer",
    ]
    assert len(statements) == 7


def test_the_answers_to_edits_are_the_ticket_as_it_reads_back(token_client, owing_customer):
    created = token_client.post(
        "/api/v1/tickets/", {"kind": "bug", "customer": owing_customer.pk, "subject": "Crash"}
    ).json()
    other = token_client.post(
        "/api/v1/tickets/", {"kind": "bug", "customer": owing_customer.pk, "subject": "Again"}
    ).json()
    changed = token_client.patch(
        f"/api/v1/tickets/{created['id']}/",
        {"tags": ["vip"], "department": Department.objects.get(slug="support").slug},
        format="json",
    )
    assert changed.status_code == 200
    assert changed.json() == _as_read_back(created["id"])
    linked = token_client.post(
        f"/api/v1/tickets/{created['id']}/related/", {"ticket": other["id"]}, format="json"
    )
    assert linked.status_code == 200
    assert linked.json() == _as_read_back(created["id"])
    assert linked.json()["related"] == [other["id"]]
