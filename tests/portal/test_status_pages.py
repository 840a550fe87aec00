"""A contact's requests by signed link: only the public conversation, only their own tickets
(or their colleagues' where shared), every action a POST, and no GET that writes."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.portal_links import contact_links_revoke, contact_token, portal_url
from conversations.models import Message
from tests.factories import ContactFactory, CustomerFactory
from tickets.models import Ticket, TicketEvent, TimelineEntry
from tickets.returns import rma_advance
from tickets.services import note_add, ticket_create, ticket_update, timeline_record

pytestmark = pytest.mark.django_db


def _ticket(contact, **fields) -> Ticket:
    fields = {"kind": "bug", "channel": "web", "subject": "Export fails", **fields}
    return ticket_create(customer=contact.customer, contact=contact, **fields)


def _page(contact, ticket) -> str:
    return reverse("portal-ticket", args=[contact_token(contact), ticket.pk])


def test_the_page_shows_the_public_conversation_only(client, contact, rep):
    rep.username, rep.first_name, rep.last_name = "erin.l", "Erin", "Lindqvist"
    rep.email = "erin.l@company.example"
    rep.save()
    ticket = _ticket(contact, description="It stops at 42%.")
    note_add(ticket=ticket, author=rep, body="Internal: the customer is grumpy")
    note_add(ticket=ticket, author=rep, body="We are looking into it.", is_internal=False)
    timeline_record(ticket=ticket, kind=TimelineEntry.Kind.RESPONSE, body="Engineering: bug 77")
    timeline_record(ticket=ticket, kind=TimelineEntry.Kind.ROUTING, body="Rule fired: bugs")
    response = client.get(_page(contact, ticket))
    assert response.status_code == 200
    body = response.content.decode()
    assert "It stops at 42%." in body
    assert "We are looking into it." in body
    assert "grumpy" not in body
    assert "bug 77" not in body
    assert "Rule fired" not in body
    # A first name at most: no staff username, email or surname.
    assert "erin.l" not in body
    assert "Lindqvist" not in body
    assert "Erin" in body
    assert "We are working on it" in body or "Received" in body


def test_the_list_shows_the_contacts_requests_and_not_a_colleagues(client, contact):
    mine = _ticket(contact, subject="Mine")
    colleague = ContactFactory(customer=contact.customer)
    theirs = _ticket(colleague, subject="Theirs")
    url = reverse("portal-requests", args=[contact_token(contact)])
    body = client.get(url).content.decode()
    assert mine.reference in body
    assert theirs.reference not in body
    assert client.get(_page(contact, theirs)).status_code == 404
    contact.customer.colleagues_see_tickets = True
    contact.customer.save()
    body = client.get(url).content.decode()
    assert theirs.reference in body
    assert client.get(_page(contact, theirs)).status_code == 200


def test_a_reply_with_an_attachment_lands_on_the_timeline_as_a_message(client, contact):
    ticket = _ticket(contact)
    upload = SimpleUploadedFile("screen.png", b"\x89PNG fake", content_type="image/png")
    response = client.post(
        reverse("portal-reply", args=[contact_token(contact), ticket.pk]),
        {"body": "Here is a screenshot.", "attachments": [upload]},
    )
    assert response.status_code == 302
    assert "done=reply" in response["Location"]
    message = Message.objects.get(ticket=ticket, direction="in")
    assert (message.channel, message.contact, message.text) == (
        "web",
        contact,
        "Here is a screenshot.",
    )
    assert message.attachments.get().filename == "screen.png"
    event = TicketEvent.objects.filter(ticket=ticket).latest("id")
    assert event.type == "ticket.message_received"
    assert event.changes["message"]["channel"] == "web"
    page = client.get(response["Location"]).content.decode()
    assert "Here is a screenshot." in page
    assert "screen.png" in page
    file_url = reverse(
        "portal-attachment", args=[contact_token(contact), ticket.pk, message.attachments.get().pk]
    )
    download = client.get(file_url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"\x89PNG fake"


def test_an_empty_reply_is_refused_with_its_reason(client, contact):
    ticket = _ticket(contact)
    response = client.post(
        reverse("portal-reply", args=[contact_token(contact), ticket.pk]), {"body": "  "}
    )
    assert response.status_code == 400
    assert b"Write a message or attach a file." in response.content
    assert not Message.objects.exists()


def _resolve(ticket, rep):
    return ticket_update(
        ticket=ticket, actor=rep, status="resolved", root_cause="other", resolution="Fixed"
    )


def test_this_is_solved_closes_a_resolved_ticket(client, contact, rep):
    ticket = _resolve(_ticket(contact), rep)
    response = client.post(reverse("portal-solved", args=[contact_token(contact), ticket.pk]))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert Message.objects.get(ticket=ticket).text == "This is solved, thank you."


def test_this_is_solved_on_an_open_ticket_is_told_to_the_rep_and_changes_no_status(client, contact):
    ticket = _ticket(contact)
    client.post(reverse("portal-solved", args=[contact_token(contact), ticket.pk]))
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert TimelineEntry.objects.filter(ticket=ticket, kind="message").count() == 1


def test_not_solved_yet_reopens_the_ticket_with_the_customers_words(client, contact, rep):
    ticket = _resolve(_ticket(contact), rep)
    client.post(
        reverse("portal-not-solved", args=[contact_token(contact), ticket.pk]),
        {"body": "Still stops at 42%."},
    )
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.root_cause == ""
    assert "Still stops at 42%." in Message.objects.get(ticket=ticket).text


def test_return_progress_and_tracking_are_shown(client, contact, rep):
    ticket = _ticket(
        contact,
        kind="rma",
        rma_serial_number="SN1",
        rma_order_number="PO1",
        rma_reason="Broken",
    )
    for step in ("authorised", "awaiting_return"):
        rma_advance(ticket=ticket, status=step, actor=rep)
    rma_advance(ticket=ticket, status="received", actor=rep, carrier="UPS", tracking_number="1Z999")
    body = client.get(_page(contact, ticket)).content.decode()
    assert ticket.rma_number in body
    assert "UPS 1Z999" in body
    assert '<li class="current">Received</li>' in body
    assert '<li class="done">Authorised</li>' in body


def _row_counts() -> dict:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label
        in {"tickets", "conversations", "surveys", "queues", "deliveries", "accounts", "sessions"}
    }


def test_get_and_head_of_every_page_change_nothing(client, contact, rep):
    ticket = _resolve(_ticket(contact), rep)
    token = contact_token(contact)
    urls = [
        reverse("portal-requests", args=[token]),
        _page(contact, ticket),
        reverse("portal-solved", args=[token, ticket.pk]),
        reverse("portal-not-solved", args=[token, ticket.pk]),
        reverse("portal-reply", args=[token, ticket.pk]),
        "/support/",
        "/support/link/",
        "/support/challenge/",
    ]
    before = _row_counts()
    updated = Ticket.objects.get().updated_at
    for url in urls:
        for method in (client.get, client.head):
            assert method(url).status_code in (200, 405), url
    assert _row_counts() == before
    assert Ticket.objects.get().updated_at == updated
    assert Ticket.objects.get().status == "resolved"


class TestEveryPortalUrlRefusesAWrongLink:
    """Each URL of a contact's pages, with another contact's link, an expired link, a revoked
    link and no valid link: never the ticket."""

    @pytest.fixture
    def setting(self, contact, rep):
        ticket = _ticket(contact)
        message = Message.objects.create(
            ticket=ticket, direction="in", channel="web", contact=contact, text="x"
        )
        from conversations.models import Attachment

        attachment = Attachment.objects.create(
            message=message, file="mail/attachments/none", filename="a.txt", size=1
        )
        stranger = ContactFactory(customer=CustomerFactory())
        return ticket, attachment, stranger

    def _urls(self, token, ticket, attachment):
        return [
            ("get", reverse("portal-requests", args=[token])),
            ("get", reverse("portal-ticket", args=[token, ticket.pk])),
            ("post", reverse("portal-reply", args=[token, ticket.pk])),
            ("post", reverse("portal-solved", args=[token, ticket.pk])),
            ("post", reverse("portal-not-solved", args=[token, ticket.pk])),
            ("get", reverse("portal-attachment", args=[token, ticket.pk, attachment.pk])),
        ]

    def test_another_contacts_link(self, client, setting):
        ticket, attachment, stranger = setting
        for method, url in self._urls(contact_token(stranger), ticket, attachment)[1:]:
            response = getattr(client, method)(url, {"body": "hi"} if method == "post" else None)
            assert response.status_code == 404, url
        assert Message.objects.count() == 1

    def test_no_valid_link(self, client, setting, contact):
        ticket, attachment, _ = setting
        good = contact_token(contact)
        for token in (
            "nonsense",
            good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
            str(ticket.pk),
        ):
            for method, url in self._urls(token, ticket, attachment):
                assert getattr(client, method)(url).status_code == 404, url

    def test_a_revoked_link(self, client, setting, contact):
        ticket, attachment, _ = setting
        token = contact_token(contact)
        contact_links_revoke(contact)
        for method, url in self._urls(token, ticket, attachment):
            assert getattr(client, method)(url).status_code == 404, url
        assert client.get(portal_url(contact)).status_code == 200  # the new link works

    def test_an_expired_link(self, client, setting, contact, time_machine):
        ticket, attachment, _ = setting
        from django.utils import timezone

        time_machine.move_to(timezone.now())
        token = contact_token(contact)
        time_machine.shift(timedelta(days=31))
        for method, url in self._urls(token, ticket, attachment):
            response = getattr(client, method)(url)
            assert response.status_code == 410, url
            assert b"This link has expired" in response.content
            assert ticket.subject.encode() not in response.content

    def test_a_ticket_id_alone_gives_nothing(self, client, setting):
        ticket, _, _ = setting
        assert client.get(f"/support/my/{ticket.pk}/").status_code == 404
        assert client.get(f"/support/{ticket.pk}/").status_code == 404


def test_mail_from_staff_or_a_stranger_on_the_ticket_is_not_shown_as_the_customers(client, contact):
    ticket = _ticket(contact)
    for who, sender in ((None, "stranger@elsewhere.example"), (contact, contact.email)):
        entry = TimelineEntry.objects.create(
            ticket=ticket, kind="message", body=f"from {sender}", is_internal=False
        )
        Message.objects.create(
            ticket=ticket,
            direction="in",
            channel="email",
            contact=who,
            entry=entry,
            sender=sender,
            text=f"Written by {sender}",
        )
    body = client.get(_page(contact, ticket)).content.decode()
    assert f"Written by {contact.email}" in body
    assert "stranger@elsewhere.example" not in body
    # Nor can its files be fetched by id.
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from conversations.models import Attachment

    stored = default_storage.save("mail/attachments/log.txt", ContentFile(b"log"))
    for message in Message.objects.filter(ticket=ticket):
        attachment = Attachment.objects.create(
            message=message, file=stored, filename="a.txt", size=3
        )
        url = reverse("portal-attachment", args=[contact_token(contact), ticket.pk, attachment.pk])
        expected = 404 if message.contact is None else 200
        assert client.get(url).status_code == expected, message.sender


def test_a_new_email_address_revokes_the_links_sent_to_the_old_one(client, contact):
    from accounts.services import contact_update

    old = reverse("portal-requests", args=[contact_token(contact)])
    assert client.get(old).status_code == 200
    contact_update(contact=contact, email="ada.new@customer.example")
    assert client.get(old).status_code == 404
    contact.refresh_from_db()
    assert client.get(reverse("portal-requests", args=[contact_token(contact)])).status_code == 200


def test_an_answer_on_the_page_opens_a_ticket_that_waited_for_it(client, contact, rep):
    ticket = _ticket(contact)
    ticket_update(ticket=ticket, actor=rep, status="pending")
    client.post(
        reverse("portal-reply", args=[contact_token(contact), ticket.pk]),
        {"body": "It is the model X200."},
    )
    ticket.refresh_from_db()
    assert ticket.status == "open"
