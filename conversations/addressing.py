"""The addresses and headers that let a reply find its ticket again.

Every email we send to a customer has a Reply-To naming its ticket and contact, signed:
``support+T1042.c77.<hmac>@example.com``. It is stateless (nothing to look up), and survives what
rewrites the other signs: providers replacing our Message-ID, and customers editing the subject.
The signature is an HMAC of the ticket and contact under the project's secret key, compared in
constant time; an address whose signature does not verify is treated as no token at all.
"""

import re
import secrets

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

_SALT = "conversations.reply-address"
_TOKEN = re.compile(r"^[^+@]+\+t(\d{1,12})\.c(\d{1,12})\.([0-9a-f]{16})@", re.IGNORECASE)
_OURS = re.compile(r"^t\d{1,12}\.[0-9a-f]{16}$")
SUBJECT_TAG = re.compile(r"\[T-(\d{1,12})\]", re.IGNORECASE)


def _signature(ticket_id: int, contact_id: int, secret: str | None = None) -> str:
    value = f"{ticket_id}.{contact_id}"
    return salted_hmac(_SALT, value, secret=secret, algorithm="sha256").hexdigest()[:16]


def reply_address(*, mailbox_address: str, ticket_id: int, contact_id: int | None) -> str:
    """The signed address a reply about this ticket (from this contact) comes back to."""
    local, _, domain = mailbox_address.partition("@")
    local = local.split("+", 1)[0]
    contact = contact_id or 0
    return f"{local}+T{ticket_id}.c{contact}.{_signature(ticket_id, contact)}@{domain}"


def reply_token(address: str) -> tuple[int, int | None] | None:
    """(ticket id, contact id or None) of a signed reply address; None for any other."""
    match = _TOKEN.match(address.strip())
    if not match:
        return None
    ticket_id, contact_id, signature = int(match[1]), int(match[2]), match[3].lower()
    # The retired keys too (SECRET_KEY_FALLBACKS): a customer answers mail sent before the key
    # was rotated, and Django signs sessions and links the same way.
    secrets_in_use = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    if not any(
        constant_time_compare(signature, _signature(ticket_id, contact_id, secret))
        for secret in secrets_in_use
    ):
        return None
    return ticket_id, contact_id or None


def base_address(address: str) -> str:
    """The address without its ``+extension``: the mailbox it reaches."""
    local, at, domain = address.lower().partition("@")
    return f"{local.split('+', 1)[0]}{at}{domain}"


def subject_ticket_id(subject: str) -> int | None:
    match = SUBJECT_TAG.search(subject or "")
    return int(match[1]) if match else None


def subject_for(*, ticket_reference: str, subject: str) -> str:
    """``Re: <subject> [T-1042]``: the same for every message of the thread, so that mail
    clients keep them together."""
    # On one line whatever the ticket's subject holds: a line break in a header fails the send.
    subject = " ".join(SUBJECT_TAG.sub("", subject).split())
    while True:
        stripped = re.sub(r"^(re|aw|sv|fwd?|wg|tr|r)(\[\d+\])?\s*:\s*", "", subject, flags=re.I)
        if stripped == subject:
            break
        subject = stripped
    return f"Re: {subject or 'Your request'} [{ticket_reference}]"[:250]


def new_message_id(*, ticket_id: int, token: str = "") -> str:
    """A Message-ID on our own mail domain, so that our own mail coming back is recognised.
    ``token``: its 16 hex digits when the caller chose them (a form's, see reply_send)."""
    if not re.fullmatch(r"[0-9a-f]{16}", token):
        token = secrets.token_hex(8)
    return f"t{ticket_id}.{token}@{settings.EMAIL_MESSAGE_ID_DOMAIN}"


def is_ours(message_id: str) -> bool:
    """Whether a Message-ID is one we made (``new_message_id``): our format on our domain, so
    that mail others write from the same domain (a colleague's client, our own mail server's
    bounces) is not taken for ours."""
    local, _, domain = message_id.lower().partition("@")
    return domain == settings.EMAIL_MESSAGE_ID_DOMAIN.lower() and bool(_OURS.match(local))
