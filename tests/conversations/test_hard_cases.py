"""Mail as it really arrives: wrong and missing charsets, broken MIME, HTML only, forwarded
messages, oversized parts, robots of several kinds. Each is stored and made sense of, with the
text a person would read and no replacement characters where the bytes could be decoded."""

from email.message import EmailMessage

import pytest

from accounts.models import Contact
from conversations.models import Attachment, InboundMessage, Message
from deliveries.models import EmailDelivery
from tests.conversations.conftest import customer_email
from tickets.models import Ticket


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def raw_mail(body: bytes, *, headers: str = "", content_type="text/plain; charset=utf-8") -> bytes:
    head = (
        "From: Ada Customer <ada@customer.example>\r\n"
        "To: support@example.com\r\n"
        "Subject: Help\r\n"
        f"Content-Type: {content_type}\r\n"
        f"{headers}"
    )
    if "Message-ID" not in headers:
        head += f"Message-ID: <{abs(hash(body))}@customer.example>\r\n"
    return head.encode() + b"\r\n" + body


def text_of(inbound: InboundMessage) -> str:
    return Message.objects.get(inbound=inbound).text


@pytest.mark.parametrize(
    ("charset", "body", "expected"),
    [
        ("windows-874", "สวัสดีครับ".encode("cp874"), "สวัสดีครับ"),
        ("iso-8859-8-i", "שלום עולם".encode("iso-8859-8"), "שלום עולם"),
        ("x-user-defined", "Grüße".encode("cp1252"), "Grüße"),
        # Says UTF-8, is Latin-1: decoded as cp1252, not as replacement characters.
        ("utf-8", "Café crème".encode("latin-1"), "Café crème"),
        # A charset nobody knows: the bytes are UTF-8, and read as such.
        ("x-unknown-cs", "naïve".encode(), "naïve"),
        ("koi8-r", "Привет".encode("koi8-r"), "Привет"),
        # Names mail clients write that Python does not know as such.
        ("windows-31j", "お問い合わせ".encode("cp932"), "お問い合わせ"),
        ("x-euc-jp", "お問い合わせ".encode("euc_jp"), "お問い合わせ"),
        ("windows-949", "문의드립니다".encode("cp949"), "문의드립니다"),
        ("x-cp1251", "Заявка".encode("cp1251"), "Заявка"),
        ("x-mac-cyrillic", "Заявка".encode("mac_cyrillic"), "Заявка"),
        ("koi8-ru", "Заявка".encode("koi8_u"), "Заявка"),
        ("latin-9", "Prix 10 €".encode("iso8859_15"), "Prix 10 €"),
    ],
)
def test_text_in_any_charset_is_read(ingest, contact, charset, body, expected):
    inbound = ingest(raw_mail(body, content_type=f"text/plain; charset={charset}"))
    assert inbound.status == "ticket", inbound.reason
    text = text_of(inbound)
    assert expected in text
    assert "\ufffd" not in text


def test_encoded_subject_and_filename_are_decoded(ingest, contact):
    mail = customer_email(
        subject="=?utf-8?q?Rechnung_=C3=BC_bitte?=",
        message_id="<enc@c.example>",
        text="See the invoice.",
    )
    mail.add_attachment(
        b"%PDF-1.4", maintype="application", subtype="pdf", filename="Rechnung ü.pdf"
    )
    inbound = ingest(bytes(mail))
    assert Ticket.objects.get().subject == "Rechnung ü bitte"
    assert Attachment.objects.get().filename == "Rechnung ü.pdf"
    assert inbound.status == "ticket"


def test_a_missing_closing_boundary_and_nul_bytes_are_repaired(ingest, contact):
    body = (
        b"--XYZ\r\nContent-Type: text/plain\r\n\r\nfirst\x00 line\r\n"
        b"--XYZ\r\nContent-Type: text/plain\r\n\r\nsecond part, never closed\r\n"
    )
    inbound = ingest(raw_mail(body, content_type='multipart/mixed; boundary="XYZ"'))
    assert inbound.status == "ticket"
    text = text_of(inbound)
    assert "first line" in text
    assert "second part" in text
    assert "CloseBoundaryNotFoundDefect" in inbound.defects


def test_a_forwarded_message_is_kept_as_a_named_eml(ingest, contact):
    inner = EmailMessage()
    inner["From"] = "someone@else.example"
    inner["Subject"] = "Original"
    inner.set_content("The original text.")
    mail = customer_email(subject="Fwd: Original", message_id="<fwd@c.example>", text="See below.")
    mail.add_attachment(inner)
    ingest(bytes(mail))
    attachment = Attachment.objects.get()
    assert attachment.filename.startswith("forwarded-")
    assert attachment.filename.endswith(".eml")
    assert b"The original text." in attachment.file.read()


def test_html_only_mail_is_sanitised_and_its_text_derived(ingest, contact):
    html = (
        b"<html><body><p>Hello <b>team</b></p><script>alert(1)</script>"
        b'<img src="https://tracker.example/pixel.gif" onerror="alert(2)">'
        b'<a href="javascript:alert(3)">click</a><table><tr><td>Serial</td><td>42</td></tr></table>'
        b"</body></html>"
    )
    inbound = ingest(raw_mail(html, content_type="text/html; charset=utf-8"))
    message = Message.objects.get(inbound=inbound)
    assert "<script" not in message.html
    assert "onerror" not in message.html
    assert "javascript:" not in message.html
    assert "<b>team</b>" in message.html
    assert "Hello team" in message.text
    assert "Serial" in message.text
    assert "42" in message.text
    assert "Hello team" in Ticket.objects.get().description


def test_a_huge_header_is_stored_and_cut(ingest, contact):
    subject = "word " * 20_000
    inbound = ingest(
        raw_mail(b"body", headers=f"X-Junk: {'x' * 200_000}\r\n").replace(
            b"Subject: Help", f"Subject: {subject}".encode()
        )
    )
    assert inbound.status == "ticket"
    assert len(Ticket.objects.get().subject) <= 200


def test_attachments_over_the_limits_are_kept_as_notices(ingest, contact, settings):
    settings.EMAIL_ATTACHMENT_MAX_BYTES = 1000
    mail = customer_email(subject="Logs", message_id="<big@c.example>", text="Logs attached.")
    mail.add_attachment(b"x" * 5000, maintype="text", subtype="plain", filename="big.log")
    mail.add_attachment(b"small", maintype="text", subtype="plain", filename="small.log")
    inbound = ingest(bytes(mail))
    big, small = Attachment.objects.order_by("id")
    assert big.omitted
    assert not big.file
    assert big.size == 5000
    assert small.file
    assert not small.omitted
    assert inbound.raw.size > 5000, "the original keeps everything"


def test_a_message_over_the_message_limit_keeps_its_text_but_no_attachments(
    ingest, contact, settings
):
    settings.EMAIL_MESSAGE_MAX_BYTES = 2000
    mail = customer_email(subject="Huge", message_id="<huge@c.example>", text="Photo attached.")
    mail.add_attachment(b"y" * 3000, maintype="image", subtype="jpeg", filename="photo.jpg")
    inbound = ingest(bytes(mail))
    assert inbound.status == "ticket"
    assert Attachment.objects.get().omitted
    assert "Photo attached." in text_of(inbound)


def test_a_broken_from_falls_back_to_reply_to(ingest, contact):
    raw = raw_mail(b"hello").replace(
        b"From: Ada Customer <ada@customer.example>",
        b"From: Ada <\r\nReply-To: ada@customer.example",
    )
    inbound = ingest(raw)
    assert inbound.sender == "ada@customer.example"
    assert inbound.status == "ticket"


def test_filenames_cannot_name_a_path(ingest, contact):
    mail = customer_email(subject="x", message_id="<path@c.example>", text="x")
    mail.add_attachment(b"x", maintype="text", subtype="plain", filename="../../etc/passwd")
    ingest(bytes(mail))
    assert "/" not in Attachment.objects.get().filename


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        ("Auto-Submitted: auto-replied\r\n", "Abwesenheitsnotiz: Help"),
        ("Precedence: auto_reply\r\n", "Réponse automatique : Help"),
        ("X-Autoreply: yes\r\n", "Out of office"),
        ("X-Auto-Response-Suppress: All\r\nAuto-Submitted: auto-generated\r\n", "Help"),
    ],
)
def test_out_of_office_replies_open_nothing_and_are_never_answered(
    ingest, contact, headers, subject
):
    raw = raw_mail(b"I am away.", headers=headers).replace(
        b"Subject: Help", f"Subject: {subject}".encode()
    )
    inbound = ingest(raw)
    assert inbound.status == "auto", inbound.reason
    assert not Ticket.objects.exists()
    assert not EmailDelivery.objects.exists()


def test_list_mail_opens_a_ticket_but_is_not_acknowledged(ingest, contact):
    inbound = ingest(raw_mail(b"Newsletter", headers="List-Id: <news.customer.example>\r\n"))
    assert inbound.status == "ticket"
    assert not EmailDelivery.objects.exists()


def test_a_sender_flooding_us_is_held_for_review(ingest, contact, settings):
    settings.EMAIL_SENDER_HOURLY_LIMIT = 3
    statuses = [
        ingest(
            raw_mail(f"message {n}".encode(), headers=f"Message-ID: <flood{n}@c.example>\r\n")
        ).status
        for n in range(5)
    ]
    assert statuses == ["ticket", "ticket", "ticket", "quarantined", "quarantined"]
    assert "held for review" in InboundMessage.objects.filter(status="quarantined").first().reason


def test_our_own_mail_coming_back_is_dropped(ingest, contact):
    inbound = ingest(raw_mail(b"echo", headers="Message-ID: <t1.0123456789abcdef@localhost>\r\n"))
    assert inbound.status == "loop"
    assert not Ticket.objects.exists()


def test_mail_others_write_from_our_domain_is_not_taken_for_ours(ingest, contact):
    """A colleague's mail client, or our own mail server, makes Message-IDs on our domain too."""
    inbound = ingest(raw_mail(b"hi", headers="Message-ID: <5F3A.2@localhost>\r\n"))
    assert inbound.status == "ticket"


def _dsn(*, recipient: str, status: str, original_id: str, style: str) -> bytes:
    if style == "exim":
        return (
            "From: Mail Delivery System <Mailer-Daemon@mx.customer.example>\r\n"
            "To: support@example.com\r\n"
            "Subject: Mail delivery failed: returning message to sender\r\n"
            f"X-Failed-Recipients: {recipient}\r\nAuto-Submitted: auto-replied\r\n"
            "Message-ID: <exim-bounce@mx.customer.example>\r\n\r\n"
            f"This message was created automatically by mail delivery software.\r\n\r\n"
            f"  {recipient}\r\n    Unrouteable address\r\n\r\n"
            f"------ This is a copy of the message, including all the headers. ------\r\n"
            f"Message-ID: <{original_id}>\r\n"
        ).encode()
    return (
        "From: MAILER-DAEMON@mx.customer.example (Mail Delivery System)\r\n"
        "To: support@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <postfix-bounce@mx.customer.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.customer.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{original_id}>\r\n"
        "Subject: Re: Help\r\n\r\n--B--\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("style", "status", "said"),
    [
        ("postfix", "5.1.1", "5.1.1"),
        # In plain text: the failed address in X-Failed-Recipients, the original copied below.
        ("exim", "", "X-Failed-Recipients"),
    ],
)
def test_a_bounce_marks_the_address_and_is_recorded_on_its_ticket(
    ingest, contact, rep, style, status, said
):
    from conversations.replies import reply_send

    first = ingest(raw_mail(b"help me"))
    reply = reply_send(ticket=first.ticket, author=rep, body="Answer")
    bounce = ingest(
        _dsn(recipient=contact.email, status=status, original_id=reply.message_id, style=style)
    )
    assert bounce.status == "bounce"
    assert bounce.ticket_id == first.ticket_id
    contact.refresh_from_db()
    assert contact.email_bouncing_since is not None
    assert said in contact.email_bounce_reason
    assert first.ticket.timeline.filter(body__contains="could not be delivered").exists()
    # The next reply is not sent to an address known to bounce.
    suppressed = reply_send(ticket=first.ticket, author=rep, body="Again")
    assert EmailDelivery.objects.get(pk=suppressed.delivery_id).status == "suppressed"
    assert Ticket.objects.count() == 1


def test_a_forged_bounce_silences_nobody(ingest, contact):
    """A report about an address we never wrote to (or not from that email) marks nothing."""
    ingest(_dsn(recipient=contact.email, status="5.1.1", original_id="made-up@x", style="postfix"))
    contact.refresh_from_db()
    assert contact.email_bouncing_since is None


def test_a_bounce_of_an_email_sent_through_amazon_ses_is_recorded(ingest, contact, rep):
    from conversations.replies import reply_send

    first = ingest(raw_mail(b"help me"))
    reply = reply_send(ticket=first.ticket, author=rep, body="Answer")
    EmailDelivery.objects.filter(pk=reply.delivery_id).update(provider_message_id="0100018c-ses")
    bounce = ingest(
        _dsn(
            recipient=contact.email,
            status="5.1.1",
            original_id="0100018c-ses@email.amazonses.com",
            style="postfix",
        )
    )
    assert bounce.ticket_id == first.ticket_id
    contact.refresh_from_db()
    assert contact.email_bouncing_since is not None


def test_broken_base64_past_the_first_chunk_is_decoded_as_python_would(ingest, contact, settings):
    import base64
    import os
    from email import message_from_bytes

    settings.EMAIL_ATTACHMENT_MAX_BYTES = 8 * 1024 * 1024
    content = os.urandom(1_500_000)
    encoded = base64.encodebytes(content).decode()
    broken = encoded[:1_200_000] + "!" + encoded[1_200_000:]
    raw = (
        "From: ada@customer.example\r\nTo: support@example.com\r\nSubject: Dump\r\n"
        "Message-ID: <broken64@c.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        "--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        'Content-Disposition: attachment; filename="d.bin"\r\n\r\n' + broken + "\r\n--B--\r\n"
    ).encode()
    expected = message_from_bytes(raw).get_payload()[1].get_payload(decode=True)
    ingest(raw)
    assert Attachment.objects.get().file.read() == expected


@pytest.mark.parametrize(
    "header",
    [
        "To: =?undefined?q?x?= <support@example.com>",
        "Subject: =?utf-7?q?+2AA-?=",
        "Subject: =?unicode-escape?q?=5Cud800?=",
    ],
)
def test_undecodable_words_and_lone_surrogates_neither_crash_nor_lose_the_message(
    ingest, contact, header, browser_client
):
    name = header.split(":")[0]
    raw = raw_mail(b"hi", headers="X-Case: 1\r\n").replace(
        f"{name}: ".encode() + (b"support@example.com" if name == "To" else b"Help"),
        header.encode(),
    )
    inbound = ingest(raw)
    assert inbound.status == "ticket", inbound.reason
    assert browser_client.get(f"/mail/{inbound.pk}/").status_code == 200
    assert browser_client.get(f"/tickets/{inbound.ticket_id}/").status_code == 200


@pytest.fixture
def browser_client(client, rep):
    client.force_login(rep)
    return client


@pytest.mark.parametrize("style", ["postfix", "exim"])
def test_bounces_of_several_mail_servers_open_no_ticket(ingest, contact, style):
    inbound = ingest(
        _dsn(recipient="gone@customer.example", status="5.0.0", original_id="x@y", style=style)
    )
    assert inbound.status == "bounce", inbound.reason
    assert not Ticket.objects.exists()
    assert (
        not Contact.objects.filter(email_bouncing_since__isnull=False)
        .exclude(email="gone@customer.example")
        .exists()
    )


def test_raw_utf8_headers_and_encoded_names_with_commas_are_read(ingest, contact):
    raw = (
        raw_mail(b"hi")
        .replace(b"Subject: Help", "Subject: Grüße aus Köln".encode())
        .replace(
            b"From: Ada Customer <ada@customer.example>",
            b"From: =?utf-8?q?Customer=2C_Ada?= <ada@customer.example>",
        )
    )
    inbound = ingest(raw)
    assert inbound.status == "ticket"
    assert Ticket.objects.get().subject == "Grüße aus Köln"
    assert Message.objects.get(inbound=inbound).sender_name == "Customer, Ada"


def test_a_large_attachment_is_decoded_exactly(ingest, contact, settings):
    """Base64 is decoded a chunk at a time: across chunk boundaries the bytes come out whole."""
    import os

    settings.EMAIL_ATTACHMENT_MAX_BYTES = 8 * 1024 * 1024
    content = os.urandom(3 * 1024 * 1024 + 17)
    mail = customer_email(subject="Dump", message_id="<dump@c.example>", text="Attached.")
    mail.add_attachment(content, maintype="application", subtype="octet-stream", filename="d.bin")
    ingest(bytes(mail))
    attachment = Attachment.objects.get()
    assert attachment.size == len(content)
    assert attachment.file.read() == content


def test_a_contacts_signed_links_quoted_in_a_reply_are_not_kept_for_staff(ingest, contact):
    """A reply quoting our email quotes the contact's links; staff who read the message must not
    be able to follow them and act in the customer's name. The original keeps them."""
    from tests.conversations.conftest import customer_email

    mail = customer_email(
        subject="Re: How did we do?",
        message_id="<quoted-links@customer.example>",
        text=(
            "I chose 3.\n\n> Your request: https://support.example/support/my/eyJjIjoxfQ:1x:abc/\n"
            "> Score 3: https://support.example/support/survey/eyJzIjoxfQ:1x:def/?score=3\n"
        ),
    )
    inbound = ingest(bytes(mail))
    message = inbound.message
    assert "eyJ" not in message.text
    assert "/support/survey/[link removed]" in message.text
    assert "/support/my/[link removed]" in message.text
    assert b"eyJzIjoxfQ" in inbound.raw.open("rb").read()


@pytest.mark.parametrize(
    ("subject", "sender", "expected_subject", "expected_name"),
    [
        # Raw Latin-1 bytes (a mailer that never heard of RFC 2047): read as cp1252.
        (b"Caf\xe9 cr\xe8me", b"Jos\xe9 Garc\xeda", "Café crème", "José García"),
        # Raw UTF-8 beside an encoded word, in and past Latin-1.
        ("Grüße aus =?utf-8?q?K=C3=B6ln?=".encode(), "Jürgen".encode(), "Grüße aus Köln", "Jürgen"),
        ("Заявка =?utf-8?q?=E2=84=96?= 5".encode(), "Иван".encode(), "Заявка № 5", "Иван"),
    ],
)
def test_raw_8bit_headers_are_decoded_like_a_body_without_a_charset(
    ingest, customer, subject, sender, expected_subject, expected_name
):
    from tests.factories import ContactFactory

    ContactFactory(customer=customer, email="jose@customer.example")
    raw = (
        b"From: " + sender + b" <jose@customer.example>\r\nTo: support@example.com\r\n"
        b"Subject: "
        + subject
        + b"\r\nMessage-ID: <"
        + str(abs(hash(subject))).encode()
        + b"@customer.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n"
    )
    inbound = ingest(raw)
    assert inbound.status == "ticket", inbound.reason
    assert inbound.subject == expected_subject
    message = Message.objects.get(inbound=inbound)
    assert message.sender_name == expected_name
    assert inbound.ticket.subject == expected_subject
