"""Every message of CPython's own email test corpus (real mail of many mailers and decades) is
stored and becomes something: a ticket, a bounce, an automatic reply, or a message waiting for a
rep with its reason. None is lost, none crashes the pipeline, and a second delivery of the whole
corpus stores nothing new."""

import os
from pathlib import Path

import pytest
from django.core.management import call_command

from conversations.models import InboundMessage, Message
from conversations.processing import inbound_process
from conversations.services import inbound_retry
from tests.factories import ContactFactory, CustomerFactory
from tickets.models import Ticket


def _corpus() -> list[Path]:
    try:
        import test.test_email
    except ImportError:  # pragma: no cover - .ci/run installs it where Python lacks it
        pytest.fail("CPython's test suite is missing: apt-get install libpython3.11-testsuite")
    data = Path(os.path.dirname(test.test_email.__file__)) / "data"
    return sorted(data.glob("msg_*.txt"))


BOUNCES = {"msg_05.txt", "msg_16.txt", "msg_25.txt", "msg_43.txt"}
AUTOMATIC = {"msg_32.txt", "msg_33.txt"}  # Precedence: bulk
NO_SENDER = {f"msg_{n}.txt" for n in ("11", "18", "19", "37", "38", "39", "40")}


def _pipe_all(files) -> None:
    for path in files:
        with path.open("rb") as handle:
            call_command("ingest_email", "--mailbox", "support", stdin=handle)


@pytest.fixture
def corpus_stored(mailbox, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    files = _corpus()
    assert len(files) >= 48
    _pipe_all(files)
    for inbound_id in InboundMessage.objects.values_list("id", flat=True):
        inbound_process(inbound_id=inbound_id)
    return files


def _status_of(files) -> dict[str, str]:
    from conversations.intake import dedupe_key

    by_key = dict(InboundMessage.objects.values_list("dedupe_key", "status"))
    return {path.name: by_key[dedupe_key(path.read_bytes())[0]] for path in files}


def test_each_message_of_the_corpus_is_stored_once_and_classified(corpus_stored):
    statuses = _status_of(corpus_stored)
    assert {name for name, status in statuses.items() if status == "bounce"} == BOUNCES
    assert {name for name, status in statuses.items() if status == "auto"} == AUTOMATIC
    assert {name for name, status in statuses.items() if status == "quarantined"} == NO_SENDER
    # Unknown senders wait for a rep to say who they are: none is dropped, none made a ticket.
    rest = set(statuses) - BOUNCES - AUTOMATIC - NO_SENDER
    assert {statuses[name] for name in rest} == {"triage"}
    for inbound in InboundMessage.objects.all():
        assert inbound.raw.read(), "the original bytes are kept"
        assert inbound.reason
    assert not Ticket.objects.exists()


def test_a_second_delivery_of_the_whole_corpus_stores_nothing_new(corpus_stored):
    before = InboundMessage.objects.count()
    _pipe_all(corpus_stored)
    assert InboundMessage.objects.count() == before


def test_once_the_senders_are_known_every_human_message_becomes_a_ticket(corpus_stored):
    customer = CustomerFactory(name="Corpus Ltd")
    waiting = InboundMessage.objects.filter(status="triage")
    human = waiting.count()
    for sender in set(waiting.values_list("sender", flat=True)):
        ContactFactory(customer=customer, email=sender, name=sender.split("@")[0])
    for inbound in list(waiting):
        assert inbound_retry(inbound=inbound) in ("ticket", "appended")
    assert not InboundMessage.objects.filter(status="triage").exists()
    opened = InboundMessage.objects.filter(status="ticket")
    assert Ticket.objects.count() == opened.count() == human == 30
    for ticket in Ticket.objects.all():
        assert ticket.channel == "email"
        assert ticket.description.strip(), ticket.subject
        assert Message.objects.filter(ticket=ticket, direction="in").exists()
