"""The request form: a known address opens its ticket at once, an unknown one waits in triage;
the honeypot, the proof of work and the limits keep robots out, with clear answers."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Contact
from conversations.models import InboundMessage, Message
from conversations.processing import inbound_process
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


@pytest.mark.parametrize("url", ["/support/", "/support/link/", "/support/my/made-up/1/reply/"])
def test_a_post_larger_than_its_files_may_be_is_refused_before_it_is_read(
    client, contact, proof, settings, url
):
    """Before the CSRF check too, which would read (and spool to disk) a post with a made-up
    cookie."""
    settings.PORTAL_ATTACHMENTS_TOTAL_MAX_BYTES = 1024
    client.cookies["csrftoken"] = "x" * 32
    big = SimpleUploadedFile("big.bin", b"x" * (1024 * 1024 + 2048))
    response = client.post(url, {**form_data(proof), "attachments": [big]})
    assert response.status_code == 413
    assert b"Too much at once" in response.content
    assert b"1.0\xc2\xa0KB together" in response.content
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response
    assert not InboundMessage.objects.exists()


def test_files_over_their_limits_are_named(client, contact, proof, settings):
    settings.PORTAL_ATTACHMENT_MAX_BYTES = 1024
    small = SimpleUploadedFile("small.txt", b"x" * 2000)
    response = client.post(URL, {**form_data(proof), "attachments": [small]})
    assert response.status_code == 400
    assert b"small.txt is over the limit" in response.content
    settings.PORTAL_ATTACHMENT_MAX_BYTES = 4096
    settings.PORTAL_ATTACHMENTS_TOTAL_MAX_BYTES = 3000
    files = [SimpleUploadedFile(f"{n}.txt", b"x" * 2000) for n in range(2)]
    response = client.post(URL, {**form_data(proof), "attachments": files})
    assert response.status_code == 400
    assert b"Together the files may weigh at most" in response.content


@pytest.mark.parametrize("field", ["name", "subject", "organisation", "product"])
def test_a_line_break_in_a_one_line_field_is_refused(client, contact, proof, field):
    response = client.post(URL, form_data(proof, **{field: "Export\r\nBcc: all@example.com"}))
    assert response.status_code == 400
    assert b"Write this on one line." in response.content
    assert not InboundMessage.objects.exists()


def _payload(salt: str, number=1, **changes) -> str:
    import base64
    import json

    data = {
        "algorithm": "SHA-256",
        "challenge": "0" * 64,
        "number": number,
        "salt": salt,
        "signature": "0" * 64,
        **changes,
    }
    return base64.b64encode(json.dumps(data).encode()).decode()


@pytest.mark.parametrize(
    "payload",
    [
        _payload("abc?expires=\u00b2&"),  # a digit that is not ASCII
        _payload("abc?x=1?expires=99999999999&"),
        _payload("abc?expires=99999999999&expires=1&"),
        _payload("abc?expires=99999999999&", number="7"),
        _payload("abc?expires=99999999999&", number=True),
        _payload("abc?expires=99999999999&", algorithm="MD5"),
        _payload("abc?expires=99999999999&", challenge=None),
    ],
)
def test_a_malformed_proof_of_work_is_refused_not_a_500(client, contact, proof, payload):
    response = client.post(URL, form_data(proof, altcha=payload))
    assert response.status_code == 400
    assert b"not a robot" in response.content


def test_an_old_solution_cannot_be_given_a_new_expiry(client, contact, time_machine):
    """The expiry is part of what is signed: a second "expires=" in front of the signed one
    would otherwise make a stockpiled solution valid for ever."""
    import base64
    import json

    from django.utils import timezone

    from portal.challenge import challenge_new
    from tests.portal.conftest import solve

    time_machine.move_to(timezone.now() - timedelta(hours=2))
    old = json.loads(base64.b64decode(solve(challenge_new())))
    time_machine.move_to(timezone.now() + timedelta(hours=2))
    random, _, expiry = old["salt"].partition("?")
    old["salt"] = f"{random}?expires=99999999999&{expiry}"
    forged = base64.b64encode(json.dumps(old).encode()).decode()
    response = client.post(URL, form_data(lambda: forged))
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_junk_posts_do_not_use_up_everyones_daily_limit(client, contact, proof, settings):
    settings.PORTAL_REQUESTS_TOTAL_PER_DAY = 2
    for number in range(5):
        junk = client.post(URL, form_data(proof, altcha="junk"), REMOTE_ADDR=f"203.0.113.{number}")
        assert junk.status_code == 400
    assert client.post(URL, form_data(proof)).status_code == 200


def test_an_ipv6_subscriber_is_counted_by_its_network(client, contact, proof, settings):
    settings.PORTAL_REQUESTS_PER_HOUR = 2
    for host in ("1", "2"):
        response = client.post(URL, form_data(proof), REMOTE_ADDR=f"2001:db8:1:1::{host}")
        assert response.status_code == 200
    response = client.post(URL, form_data(proof), REMOTE_ADDR="2001:db8:1:1:ffff::3")
    assert response.status_code == 429


def test_asking_for_links_does_not_use_up_the_forms_limit(client, contact, proof, settings):
    settings.PORTAL_REQUESTS_PER_HOUR = 2
    for _ in range(3):
        client.post(reverse("portal-link"), {"email": "someone@example.com"})
    assert client.post(URL, form_data(proof)).status_code == 200


def test_a_flood_of_requests_in_one_contacts_name_is_held_for_review(
    client, contact, proof, settings
):
    """Each request emails its confirmation to the address given: past the hourly limit of one
    sender, requests wait for a rep instead, and nobody's inbox is filled in their name."""
    settings.EMAIL_SENDER_HOURLY_LIMIT = 2
    for number in range(3):
        client.post(
            URL, form_data(proof, subject=f"Request {number}"), REMOTE_ADDR=f"10.0.0.{number}"
        )
    assert Ticket.objects.count() == 2
    held = InboundMessage.objects.get(status="quarantined")
    assert "within the hour" in held.reason
    assert EmailDelivery.objects.filter(recipient=contact.email).count() == 2


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ada@Bücher.example", "ada@xn--bcher-kva.example"),
        # IDNA 2008: the sharp s is a letter of its own (IDNA 2003 made it "ss": another domain).
        ("ada@straße.example", "ada@xn--strae-oqa.example"),
    ],
)
def test_an_address_with_an_internationalised_domain_is_taken_in_its_ascii_form(
    client, proof, typed, stored
):
    response = client.post(URL, form_data(proof, email=typed))
    assert response.status_code == 200
    inbound = InboundMessage.objects.get()
    assert f"From: Ada Customer <{stored}>".encode() in inbound.raw.read()
    inbound_process(inbound_id=inbound.pk)
    inbound.refresh_from_db()
    assert inbound.sender == stored


def test_a_link_is_sent_whichever_form_of_an_internationalised_domain_was_written(client, customer):
    from tests.factories import ContactFactory

    written = ContactFactory(customer=customer, email="ada@bücher.example")  # by a rep
    ascii_form = ContactFactory(customer=customer, email="bob@xn--bcher-kva.example")  # by mail
    for typed in ("ada@Bücher.example", "bob@bücher.example"):
        assert client.post(reverse("portal-link"), {"email": typed}).status_code == 200
    links = EmailDelivery.objects.filter(key__startswith="portal-link:")
    assert sorted(links.values_list("recipient", flat=True)) == sorted(
        [written.email, ascii_form.email]
    )
