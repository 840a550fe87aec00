"""The customer's page for staff: everything about one customer in one place, and the edits
made there (contacts, portal sharing, revoking a contact's links)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Contact, Invoice
from accounts.portal_links import contact_token
from queues.followups import followup_record_outcome
from surveys.models import Survey
from surveys.services import survey_answer, surveys_send_due
from tests.conftest import dispatch_pending
from tests.factories import ContactFactory
from tickets.services import note_add, ticket_create, ticket_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, rep):
    client.force_login(rep)
    return client


def _url(customer) -> str:
    return f"/customers/{customer.pk}/"


def test_the_page_needs_a_login(client, customer):
    response = client.get(_url(customer))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_page_brings_together_what_is_known_of_the_customer(
    staff_client, customer, rep, salesperson, starter_rules
):
    today = timezone.localdate()
    Invoice.objects.create(
        customer=customer,
        number="INV-9",
        amount=Decimal("1200"),
        issued_on=today - timedelta(days=60),
        due_on=today - timedelta(days=30),
    )
    ada = ContactFactory(customer=customer, name="Ada Lovelace", email="ada@plain.example")
    ContactFactory(
        customer=customer,
        name="Bob Bounce",
        email="bob@plain.example",
        email_bouncing_since=timezone.now(),
        email_bounce_reason="550 no such user",
    )
    ticket = ticket_create(
        customer=customer, contact=ada, kind="bug", channel="phone", subject="Export fails"
    )
    note_add(ticket=ticket, author=rep, body="Called back")
    ticket_update(
        ticket=ticket, actor=rep, status="resolved", root_cause="product_defect", resolution="ok"
    )
    dispatch_pending()
    survey = Survey.objects.get()
    surveys_send_due(now=survey.send_after + timedelta(minutes=1))
    survey.refresh_from_db()
    survey_answer(survey=survey, score=3, comment="late part")
    dispatch_pending()
    for task in customer.followups.all():
        # The detractor's call found an opportunity; the bug's follow-up a satisfied customer.
        outcome = "upsell" if task.reason.startswith("Detractor") else "satisfied"
        followup_record_outcome(
            task=task,
            user=salesperson,
            outcome=outcome,
            notes="Wants 20 more seats" if outcome == "upsell" else "",
            upsell_value=Decimal("5000") if outcome == "upsell" else None,
        )
    body = staff_client.get(_url(customer)).content.decode()
    assert customer.name in body
    assert "1 overdue invoice" in body
    assert "INV-9" in body
    assert "Ada Lovelace" in body
    assert "bounces since" in body
    assert "550 no such user" in body
    assert ticket.reference in body
    assert "Export fails" in body
    assert "late part" in body
    assert "Detractor (0-6)" in body
    assert "NPS -100 ± 0, 1 answer" in body
    assert "Up-sell opportunity" in body
    assert "Wants 20 more seats" in body
    assert "5,000.00" in body
    assert str(salesperson.get_full_name()) in body
    assert rep.get_full_name() in body  # a recent rep


def test_staff_edit_a_contact_and_add_one(staff_client, customer):
    ada = ContactFactory(customer=customer, name="Ada", email="ada@plain.example")
    response = staff_client.post(
        f"/customers/{customer.pk}/contacts/{ada.pk}/",
        {"name": "Ada King", "email": "ada.king@plain.example", "phone": "", "title": "CTO"},
    )
    assert response.status_code == 302
    ada.refresh_from_db()
    assert (ada.name, ada.email, ada.title) == ("Ada King", "ada.king@plain.example", "CTO")
    response = staff_client.post(
        f"/customers/{customer.pk}/contacts/", {"name": "", "email": "not an address"}
    )
    assert response.status_code == 400
    assert b"This field is required." in response.content
    staff_client.post(f"/customers/{customer.pk}/contacts/", {"name": "Cy", "email": ""})
    assert Contact.objects.filter(customer=customer, name="Cy").exists()


def test_the_sharing_switch_and_the_internal_flag(staff_client, customer):
    staff_client.post(
        f"/customers/{customer.pk}/portal/",
        {"colleagues_see_tickets": "on", "is_internal": "on"},
    )
    customer.refresh_from_db()
    assert customer.colleagues_see_tickets
    assert customer.is_internal
    staff_client.post(f"/customers/{customer.pk}/portal/", {})
    customer.refresh_from_db()
    assert not customer.colleagues_see_tickets
    assert not customer.is_internal


def test_revoking_a_contacts_links(staff_client, client, customer):
    ada = ContactFactory(customer=customer)
    old = f"/support/my/{contact_token(ada)}/"
    staff_client.post(f"/customers/{customer.pk}/contacts/{ada.pk}/revoke-links/")
    staff_client.logout()
    assert client.get(old).status_code == 404
    ada.refresh_from_db()
    assert client.get(f"/support/my/{contact_token(ada)}/").status_code == 200


def test_the_ticket_page_links_to_the_customer_page(staff_client, customer):
    ticket = ticket_create(customer=customer, kind="call", channel="phone", subject="Hello")
    body = staff_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert f'href="/customers/{customer.pk}/"' in body


def test_an_unknown_customer_is_404(staff_client):
    assert staff_client.get("/customers/999999/").status_code == 404
