from email.message import EmailMessage

import pytest
from django.db import connection

from conversations.intake import inbound_store
from conversations.models import InboundMessage, Mailbox
from conversations.processing import inbound_process
from tests.factories import ContactFactory


@pytest.fixture
def mailbox(db):
    return Mailbox.objects.create(name="support", address="support@example.com")


@pytest.fixture
def contact(customer):
    return ContactFactory(customer=customer, name="Ada Customer", email="ada@customer.example")


@pytest.fixture
def ingest(mailbox):
    """Store a message as the pipe would, then process it as the worker would; its row."""

    def ingest(raw: bytes | str, *, source=InboundMessage.Source.PIPE) -> InboundMessage:
        if isinstance(raw, str):
            raw = raw.encode()
        inbound, _ = inbound_store(raw=raw, source=source, mailbox=mailbox)
        inbound_process(inbound_id=inbound.pk)
        inbound.refresh_from_db()
        return inbound

    return ingest


def customer_email(
    *, subject: str, message_id: str, text: str = "", sender: str = "ada@customer.example"
) -> EmailMessage:
    """A plain email from a customer to the support mailbox, to add parts and headers to."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "support@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    if text:
        mail.set_content(text)
    return mail


def plan_of(sql: str) -> str:
    """PostgreSQL's plan for a query a test captured: which index it reads, if any."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())
