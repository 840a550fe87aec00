"""The request form: a known address opens its ticket at once, an unknown one waits in triage;
the honeypot, the proof of work and the limits keep robots out, with clear answers."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Contact
from conversations.models import InboundMessage, Message
from conversations.services import inbound_assign
from deliveries.models import EmailDelivery
from tests.portal.conftest import form_data
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
URL = "/support/"


def test_the_form_is_served_with_a_challenge_url_and_the_widget_script(client):
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'challengeurl="/support/challenge/"' in body
    assert "altcha/altcha.min.js" in body
    challenge = client.get("/support/challenge/").json()
    assert set(challenge) == {"algorithm", "challenge", "maxnumber", "salt", "signature"}
    assert "expires=" in challenge["salt"]


def test_a_known_address_opens_its_ticket_and_is_told_its_number(client, contact, proof):
    upload = SimpleUploadedFile("log.txt", b"error 42\n", content_type="text/plain")
    response = client.post(
        URL, {**form_data(proof, email="ADA@customer.example"), "attachments": [upload]}
    )
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.reference.encode() in response.content
    assert (ticket.kind, ticket.channel, ticket.product) == ("bug", "web", "Widget Pro")
    assert ticket.contact == contact
    assert ticket.customer == contact.customer
    assert ticket.description == "The export stops at 42%."
    message = Message.objects.get(ticket=ticket, direction="in")
    assert message.channel == "web"
    assert [a.filename for a in message.attachments.all()] == ["log.txt"]
    assert message.attachments.get().file.read() == b"error 42\n"
    confirmation = EmailDelivery.objects.get(ticket=ticket)
    assert confirmation.recipient == "ada@customer.example"
    assert ticket.reference in confirmation.subject
    assert "/support/my/" in confirmation.body
    assert f"/{ticket.pk}/" in confirmation.body


def test_a_return_needs_its_details_and_keeps_them(client, contact, proof):
    response = client.post(URL, form_data(proof, kind="rma"))
    assert response.status_code == 400
    assert response.content.decode().count("A return needs this.") == 3
    assert not InboundMessage.objects.exists()
    response = client.post(
        URL,
        form_data(
            proof,
            kind="rma",
            rma_serial_number="SN-1",
            rma_order_number="PO-9",
            rma_reason="Arrived cracked",
        ),
    )
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert (ticket.kind, ticket.rma_serial_number, ticket.rma_order_number) == (
        "rma",
        "SN-1",
        "PO-9",
    )
    assert ticket.rma_reason == "Arrived cracked"
    assert ticket.rma_number


def test_an_unknown_address_waits_in_triage_and_the_rep_opens_the_ticket(
    client, customer, rep, proof
):
    response = client.post(URL, form_data(proof, email="new@plain.example", kind="rfe"))
    assert response.status_code == 200
    assert b"A member of our team will look at it" in response.content
    inbound = InboundMessage.objects.get()
    assert (inbound.source, inbound.status) == ("web", "triage")
    assert not Ticket.objects.exists()
    inbound_assign(inbound=inbound, actor=rep, customer=customer, contact_name="Nina New")
    ticket = Ticket.objects.get()
    assert (ticket.kind, ticket.channel, ticket.product) == ("rfe", "web", "Widget Pro")
    assert ticket.contact == Contact.objects.get(email="new@plain.example")
    assert EmailDelivery.objects.filter(ticket=ticket, recipient="new@plain.example").exists()


def test_a_filled_honeypot_looks_like_success_and_keeps_nothing(client, contact, proof):
    response = client.post(URL, form_data(proof, website="http://spam.example"))
    assert response.status_code == 200
    assert b"Thank you, we have your request" in response.content
    assert not InboundMessage.objects.exists()
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("payload", ["", "not base64!", "eyJhIjogMX0=", "W10="])
def test_a_missing_or_forged_proof_of_work_is_refused(client, contact, proof, payload):
    response = client.post(URL, form_data(proof, altcha=payload))
    assert response.status_code == 400
    assert b"not a robot" in response.content
    assert not InboundMessage.objects.exists()


def test_a_proof_of_work_counts_once(client, contact, proof):
    solved = proof()
    assert client.post(URL, form_data(lambda: solved)).status_code == 200
    response = client.post(URL, form_data(lambda: solved, subject="Again"))
    assert response.status_code == 400
    assert b"already used" in response.content
    assert Ticket.objects.count() == 1


def test_a_proof_of_work_signed_by_someone_else_is_refused(client, contact, settings):
    from tests.portal.conftest import solve

    settings.ALTCHA_HMAC_KEY = "another key"
    from portal.challenge import challenge_new

    forged = solve(challenge_new())
    settings.ALTCHA_HMAC_KEY = "the real key"
    response = client.post(URL, form_data(lambda: forged))
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_missing_fields_are_named(client, proof):
    response = client.post(URL, form_data(proof, name="", email="not an address", subject=""))
    assert response.status_code == 400
    body = response.content.decode()
    assert "This field is required." in body
    assert "Enter a valid email address." in body


def test_the_twenty_first_request_of_the_hour_from_one_address_is_refused(
    client, contact, proof, settings
):
    assert settings.PORTAL_REQUESTS_PER_HOUR == 20
    for number in range(20):
        response = client.post(URL, form_data(proof, subject=f"Request {number}"))
        assert response.status_code == 200, number
    response = client.post(URL, form_data(proof, subject="One too many"))
    assert response.status_code == 429
    assert b"20 requests within the hour" in response.content
    assert response["Retry-After"] == "3600"
    assert Ticket.objects.count() == 20
    # Another address is still welcome.
    other = client.post(URL, form_data(proof, subject="Hi"), REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200


def test_the_daily_limit_of_everyone_holds_off_a_flood_from_many_addresses(
    client, contact, proof, settings
):
    settings.PORTAL_REQUESTS_TOTAL_PER_DAY = 3
    for number in range(3):
        address = f"198.51.100.{number}"
        assert client.post(URL, form_data(proof), REMOTE_ADDR=address).status_code == 200
    response = client.post(URL, form_data(proof), REMOTE_ADDR="198.51.100.99")
    assert response.status_code == 429
    assert b"unusual number of requests" in response.content


def test_the_form_can_be_framed_by_the_company_site_and_other_pages_cannot(client, settings):
    settings.PORTAL_FRAME_ANCESTORS = ["'self'", "https://www.example.com"]
    form = client.get(URL)
    assert "frame-ancestors 'self' https://www.example.com" in form["Content-Security-Policy"]
    assert "X-Frame-Options" not in form
    assert "worker-src 'self' blob:" in form["Content-Security-Policy"]
    links = client.get(reverse("portal-link"))
    assert "frame-ancestors 'none'" in links["Content-Security-Policy"]
    assert links["X-Frame-Options"] == "DENY"


def test_portal_pages_are_never_cached_and_run_no_inline_script(client):
    for url in (URL, reverse("portal-link")):
        response = client.get(url)
        assert "no-store" in response["Cache-Control"]
        policy = response["Content-Security-Policy"]
        assert "script-src 'self';" in policy + ";"
        assert "unsafe-inline" not in policy
        assert "<script>" not in response.content.decode()


def test_the_triage_page_shows_what_the_form_asked_and_searches_the_organisation(
    client, customer, rep, proof
):
    client.post(
        URL,
        form_data(
            proof,
            email="new@plain.example",
            organisation="Plain",
            kind="rma",
            rma_serial_number="SN-77",
            rma_order_number="PO-1",
            rma_reason="Cracked",
        ),
    )
    inbound = InboundMessage.objects.get()
    client.force_login(rep)
    body = client.get(f"/mail/{inbound.pk}/").content.decode()
    assert "Return materials authorization" in body
    assert "SN-77" in body
    assert "Web request form" in body
    assert 'value="Plain"' in body  # the search box, already searched
    assert customer.name in body


def test_a_post_larger_than_its_files_may_be_is_refused_before_it_is_read(
    client, contact, proof, settings
):
    settings.PORTAL_ATTACHMENTS_MAX = 1
    settings.PORTAL_ATTACHMENT_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.bin", b"x" * (1024 * 1024 + 2048))
    response = client.post(URL, {**form_data(proof), "attachments": [big]})
    assert response.status_code == 413
    assert b"attach at most 1 files of 1.0\xc2\xa0KB each" in response.content
    assert b"Too much at once" in response.content
    assert not InboundMessage.objects.exists()
    small = SimpleUploadedFile("small.txt", b"x" * 2000)
    response = client.post(URL, {**form_data(proof), "attachments": [small]})
    assert response.status_code == 400
    assert b"small.txt is over the limit" in response.content
