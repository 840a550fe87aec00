"""Providers' inbound webhooks through django-anymail, signed as the provider signs them: a
Mailgun ``inbound_mime`` post (HMAC-SHA256 of timestamp and token under the signing key, and
the basic auth we gave the provider) and a Postmark JSON post larger than Django's default
request limit."""

import base64
import hashlib
import hmac
import json
import time
from email.message import EmailMessage

import pytest

from conversations.models import InboundMessage

SIGNING_KEY = "mailgun-signing-key"
BASIC = "provider:webhook-password"


@pytest.fixture(autouse=True)
def _webhooks_on(settings, tmp_path, mailbox):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.EMAIL_WEBHOOKS = True
    settings.ANYMAIL = {"WEBHOOK_SECRET": BASIC, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


def _auth() -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(BASIC.encode()).decode()}


def _mime(size: int = 0) -> str:
    mail = EmailMessage()
    mail["From"] = "ada@customer.example"
    mail["To"] = "support@example.com"
    mail["Subject"] = "Through the provider"
    mail["Message-ID"] = f"<provider-{size}@customer.example>"
    mail.set_content("Sent through Mailgun.")
    mail.add_attachment(
        b"A" * (size or 10), maintype="application", subtype="pdf", filename="a.pdf"
    )
    return mail.as_string()


def _mailgun_post(client, *, key=SIGNING_KEY, auth=True, mime=None):
    timestamp, token = str(int(time.time())), "a" * 50
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    data = {
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
        "recipient": "support@example.com",
        "body-mime": mime or _mime(),
    }
    return client.post("/email/webhooks/mailgun/inbound_mime/", data, **(_auth() if auth else {}))


def test_a_signed_mailgun_post_is_stored_once(client, contact):
    response = _mailgun_post(client)
    assert response.status_code == 200, response.content
    inbound = InboundMessage.objects.get()
    assert inbound.source == "webhook"
    assert inbound.mailbox.name == "support"
    assert inbound.provider_id.startswith("mailgun:")
    assert b"Sent through Mailgun." in inbound.raw.read()
    again = _mailgun_post(client)
    assert again.status_code == 200
    assert InboundMessage.objects.count() == 1


def test_a_bad_signature_is_refused(client):
    assert _mailgun_post(client, key="not-the-key").status_code == 400
    assert not InboundMessage.objects.exists()


def test_a_post_without_the_basic_auth_is_challenged(client):
    # 401 with its challenge: Amazon SNS sends the credentials only when challenged.
    response = _mailgun_post(client, auth=False)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic realm=")
    assert not InboundMessage.objects.exists()


def test_mail_sent_by_bcc_to_undisclosed_recipients_is_stored(client):
    # anymail cannot parse "undisclosed-recipients:;": refused, the provider would post it
    # again and again, then drop it.
    mime = _mime().replace("To: support@example.com", "To: undisclosed-recipients:;")
    assert "undisclosed-recipients" in mime
    response = _mailgun_post(client, mime=mime)
    assert response.status_code == 200, response.content
    inbound = InboundMessage.objects.get()
    assert inbound.mailbox.name == "support"  # by the envelope recipient
    assert b"undisclosed-recipients" in inbound.raw.read()


def test_a_forwarded_message_attached_to_a_parsed_mailgun_post_keeps_its_bytes(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    forwarded = (
        b"From: bob@customer.example\r\nTo: ada@customer.example\r\nSubject: The original\r\n"
        b"Message-ID: <original@customer.example>\r\n\r\nThe printer is on fire.\r\n"
    )
    timestamp, token = str(int(time.time())), "b" * 50
    signature = hmac.new(
        SIGNING_KEY.encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    headers = [
        ["From", "ada@customer.example"],
        ["To", "support@example.com"],
        ["Subject", "Fwd: The original"],
        ["Message-Id", "<parsed-fwd@customer.example>"],
    ]
    data = {
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
        "recipient": "support@example.com",
        "sender": "ada@customer.example",
        "body-plain": "See below.",
        "message-headers": json.dumps(headers),
        "attachment-count": "1",
        "attachment-1": SimpleUploadedFile("original.eml", forwarded, "message/rfc822"),
    }
    response = client.post("/email/webhooks/mailgun/inbound/", data, **_auth())
    assert response.status_code == 200, response.content
    raw = InboundMessage.objects.get().raw.read()
    assert b"The printer is on fire." in raw


def test_a_mailgun_message_over_djangos_default_limit_is_accepted_on_its_route(client):
    response = _mailgun_post(client, mime=_mime(size=4 * 1024 * 1024))
    assert response.status_code == 200, response.content[:300]
    assert InboundMessage.objects.get().size > 4 * 1024 * 1024


def test_a_5_mb_postmark_json_post_is_accepted(client, settings):
    body = {
        "MessageID": "pm-1",
        "From": "ada@customer.example",
        "FromFull": {"Email": "ada@customer.example", "Name": "Ada"},
        "To": "support@example.com",
        "ToFull": [{"Email": "support@example.com", "Name": ""}],
        "Subject": "Large",
        "TextBody": "With a big file.",
        "Headers": [{"Name": "Message-ID", "Value": "<pm-large@customer.example>"}],
        "Attachments": [
            {
                "Name": "big.bin",
                "Content": base64.b64encode(b"B" * 4 * 1024 * 1024).decode(),
                "ContentType": "application/octet-stream",
                "ContentLength": 4 * 1024 * 1024,
            }
        ],
    }
    payload = json.dumps(body)
    assert len(payload) > 5 * 1024 * 1024
    response = client.post(
        "/email/webhooks/postmark/inbound/", payload, content_type="application/json", **_auth()
    )
    assert response.status_code == 200, response.content[:300]
    assert InboundMessage.objects.get().size > 4 * 1024 * 1024


def test_over_the_webhook_limit_is_413_not_500(client, settings):
    settings.EMAIL_WEBHOOK_MAX_BYTES = 10_000
    response = _mailgun_post(client, mime=_mime(size=20_000))
    assert response.status_code == 413
    assert not InboundMessage.objects.exists()


def test_webhooks_are_off_until_a_secret_is_set(client, settings):
    settings.EMAIL_WEBHOOKS = False
    assert _mailgun_post(client).status_code == 404


def test_the_rest_of_the_site_keeps_djangos_limit(admin_client):
    body = '{"subject": "' + "x" * (3 * 1024 * 1024) + '"}'
    response = admin_client.post("/api/v1/tickets/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "The request body has too many fields or is too large."}


def test_without_the_basic_auth_the_body_is_not_even_read(client, monkeypatch):
    from conversations import webhooks

    def never(*args, **kwargs):  # pragma: no cover - fails the test if reached
        raise AssertionError("the body was parsed before the caller was authenticated")

    monkeypatch.setattr(webhooks, "_form", never)
    response = _mailgun_post(client, auth=False)
    assert response.status_code == 401
