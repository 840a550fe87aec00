"""Email intake benchmark: 2,000 messages of a realistic mix stored and processed as the pipe
and the worker would, against parsing the same bytes with the standard library alone.

Prints JSON: messages/s and SQL statements per message for the intake (``inbound_store`` then
``inbound_process``, in this process, which is what a worker does, each message stored with
its mailbox as the IMAP poller and the pipe's ``--mailbox`` store it), messages/s of the bare
standard-library parse of the same bytes (the baseline), tickets/s created through the API
(in-process, DRF's test client) for the same customers, and the peak memory growth of ingesting
one 25 MB message against its size. Targets: intake not slower than API creates; the 25 MB
message within four times its size.

The mix: new requests from known contacts (plain, with an HTML alternative, with a small
attachment), replies threaded by header and by subject tag, HTML-only mail, out-of-office
replies, bounces and unknown senders.
"""

import json
import os
import random
import sys
import tempfile
import time
import tracemalloc
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="bench-email-media-"))
from _setup import setup  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "2000"))
# A help desk's directory, not a toy one: lookups that read every contact show at this size.
CUSTOMERS = 2000
CONTACTS_PER_CUSTOMER = 5
BIG = 25 * 1024 * 1024
TEXT = (
    "Hello,\n\nsince this morning the export stops at 80% with error 0x42. We tried restarting "
    "the service and reinstalling the client; the log is attached. Could you have a look? Our "
    "month-end closing depends on it.\n\nBest regards,\n{name}\n-- \n{name}\nOperations\n"
)
QUOTE = (
    "\n\nOn Monday, Support <support@example.com> wrote:\n> Which version do you run?\n> Thanks\n"
)


def _mail(rng, number: int, contacts: list, sent: list) -> bytes:
    kind = rng.random()
    name, address = rng.choice(contacts)
    mail = EmailMessage()
    mail["From"] = f"{name} <{address}>"
    mail["To"] = "support@example.com"
    mail["Date"] = "Wed, 02 Dec 2026 09:00:00 +0000"
    mail["Message-ID"] = f"<bench-{number}@customer.example>"
    body = TEXT.format(name=name)
    if kind < 0.10 and sent:  # a reply threaded by its headers
        mail["Subject"] = "Re: Export stops at 80%"
        mail["In-Reply-To"] = f"<{rng.choice(sent)}>"
        mail.set_content("Thanks, that fixed it." + QUOTE)
    elif kind < 0.20 and sent:  # a reply threaded by the subject tag
        mail["Subject"] = f"Re: Export stops [T-{rng.randint(1, max(1, len(sent)))}]"
        mail.set_content("Still happening after the update." + QUOTE)
    elif kind < 0.25:  # out of office
        mail["Subject"] = "Automatic reply: Export stops at 80%"
        mail["Auto-Submitted"] = "auto-replied"
        mail.set_content("I am out of the office until Monday.")
    elif kind < 0.28:  # a bounce
        mail.replace_header("From", "MAILER-DAEMON@mx.customer.example")
        mail["Subject"] = "Undelivered Mail Returned to Sender"
        mail["Return-Path"] = "<>"
        mail.set_content(f"<{address}>: host mx said: 550 5.1.1 User unknown")
    elif kind < 0.33:  # someone we do not know
        mail.replace_header("From", f"stranger{number}@unknown.example")
        mail["Subject"] = "Pricing question"
        mail.set_content("What does the enterprise plan cost?")
    elif kind < 0.40:  # HTML only
        mail["Subject"] = "Screenshot of the error"
        mail.set_content(
            f"<p>{body.replace(chr(10), '<br>')}</p><table><tr><td>x</td></tr></table>",
            subtype="html",
        )
    else:  # a new request: plain, with HTML, or with a log attached
        mail["Subject"] = f"Export stops at 80% ({number})"
        mail.set_content(body)
        if kind < 0.70:
            mail.add_alternative(f"<p>{body.replace(chr(10), '<br>')}</p>", subtype="html")
        elif kind < 0.85:
            mail.add_attachment(
                ("2026-12-02 09:00:00 ERROR export 0x42\n" * 200).encode(),
                maintype="text",
                subtype="plain",
                filename="export.log",
            )
    return bytes(mail)


def _baseline(raws: list[bytes]) -> float:
    started = time.perf_counter()
    for raw in raws:
        message = message_from_bytes(raw, policy=policy.default)
        body = message.get_body(("plain", "html"))
        if body is not None:
            body.get_content()
        for part in message.iter_attachments():
            part.get_content()
    return len(raws) / (time.perf_counter() - started)


def _api_creates(contacts: list, count: int) -> float:
    from rest_framework.test import APIClient

    from accounts.models import Contact, User

    user = User.objects.create_user(username="bench-api", password="x")  # noqa: S106
    client = APIClient()
    client.force_authenticate(user)
    rows = list(Contact.objects.values_list("id", "customer_id"))
    started = time.perf_counter()
    for index in range(count):
        contact_id, customer_id = rows[index % len(rows)]
        response = client.post(
            "/api/v1/tickets/",
            {
                "customer": customer_id,
                "contact": contact_id,
                "kind": "call",
                "channel": "email",
                "subject": f"Export stops at 80% ({index})",
                "description": TEXT.format(name="Bench"),
            },
            format="json",
        )
        assert response.status_code == 201, response.content
    return count / (time.perf_counter() - started)


def _big_message_memory() -> dict:
    from django.conf import settings

    from conversations.intake import inbound_store
    from conversations.processing import inbound_process

    settings.EMAIL_ATTACHMENT_MAX_BYTES = BIG
    settings.EMAIL_MESSAGE_MAX_BYTES = BIG + 1024 * 1024
    mail = EmailMessage()
    mail["From"] = "Contact 0 <contact0@customer0.example>"
    mail["To"] = "support@example.com"
    mail["Subject"] = "The full database dump"
    mail["Message-ID"] = "<big-dump@customer.example>"
    mail.set_content("The dump is attached.")
    # Base64 makes 4 bytes of every 3: this attachment makes a message of about 25 MB.
    mail.add_attachment(
        os.urandom(BIG * 3 // 4 - 200_000),
        maintype="application",
        subtype="octet-stream",
        filename="dump.bin",
    )
    raw = bytes(mail)
    del mail
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    inbound, _ = inbound_store(raw=raw, source="pipe")
    inbound_process(inbound_id=inbound.pk)
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    inbound.refresh_from_db()
    return {
        "size_bytes": len(raw),
        "status": inbound.status,
        "peak_growth_bytes": peak,
        "peak_growth_over_size": round(peak / len(raw), 2),
    }


def main() -> None:
    setup("switchboard_bench_email")
    from django.db import connection

    from accounts.models import Contact, Customer
    from conversations.intake import inbound_store
    from conversations.models import InboundMessage, Mailbox, Message
    from conversations.processing import inbound_process

    # Mail comes to a mailbox: the IMAP poller stores it with its mailbox, the pipe with the one
    # its --mailbox names (or its recipients reach), the webhooks with the one addressed.
    mailbox = Mailbox.objects.create(name="support", address="support@example.com")
    customers = Customer.objects.bulk_create(
        Customer(name=f"Customer {i}") for i in range(CUSTOMERS)
    )
    contacts = [
        (f"Contact {i}.{n}", f"contact{n}@customer{i}.example")
        for i in range(CUSTOMERS)
        for n in range(CONTACTS_PER_CUSTOMER)
    ]
    Contact.objects.bulk_create(
        Contact(customer=customers[index // CONTACTS_PER_CUSTOMER], name=name, email=address)
        for index, (name, address) in enumerate(contacts)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have by then
    rng = random.Random(11)  # noqa: S311 - repeatable sample mail, not secrets
    sent: list[str] = []
    raws = []
    for number in range(MESSAGES):
        raws.append(_mail(rng, number, contacts, sent))
        sent.append(f"bench-{number}@customer.example")

    baseline = _baseline(raws)
    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    started = time.perf_counter()
    # Counted by a wrapper (cheap), not a log of the queries: Django keeps at most 9,000.
    with connection.execute_wrapper(count):
        for raw in raws:
            inbound, _ = inbound_store(raw=raw, source="pipe", mailbox=mailbox)
            inbound_process(inbound_id=inbound.pk)
    ingest_rate = MESSAGES / (time.perf_counter() - started)
    outcomes = {
        status: InboundMessage.objects.filter(status=status).count()
        for status in InboundMessage.Status.values
    }
    tickets = outcomes.get("ticket", 0)
    api_rate = _api_creates(contacts, max(tickets, 1))
    report = {
        "messages": MESSAGES,
        "outcomes": {status: count for status, count in outcomes.items() if count},
        "messages_with_a_row": Message.objects.count(),
        "ingest_messages_per_s": round(ingest_rate, 1),
        "sql_statements_per_message": round(statements / MESSAGES, 1),
        "baseline_stdlib_parse_per_s": round(baseline, 1),
        "api_creates_per_s": round(api_rate, 1),
        "ingest_over_stdlib_parse": round(ingest_rate / baseline, 3),
        "ingest_over_api_create": round(ingest_rate / api_rate, 2),
        "big_message": _big_message_memory(),
    }
    print(json.dumps(report, indent=2))
    big = report["big_message"]
    print(
        f"ratios: ingest/stdlib parse {report['ingest_over_stdlib_parse']}, "
        f"ingest/API create {report['ingest_over_api_create']} (target >= 1), "
        f"25 MB peak growth/size {big['peak_growth_over_size']} (target < 4)"
    )


if __name__ == "__main__":
    main()
