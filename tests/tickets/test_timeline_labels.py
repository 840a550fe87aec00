"""The timeline reads in words: codes other apps write are shown by the labels they register,
tracing ids are left out, and a fact the entry's text already says is not said twice."""

import pytest

from tests.factories import CustomerFactory
from tickets.models import TimelineEntry
from tickets.services import ticket_create, timeline_record
from tickets.templatetags.ticket_format import _Names, entry_changes

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():
    return ticket_create(customer=CustomerFactory(), kind="bug", channel="web", subject="Crash")


def shown(entry) -> list[dict]:
    return entry_changes(entry, _Names())


def test_routing_codes_read_as_the_labels_routing_registered(ticket):
    entry = timeline_record(
        ticket=ticket,
        kind=TimelineEntry.Kind.FOLLOWUP,
        body="Wants the analytics add-on.",
        changes={"follow-up": 7, "outcome": "upsell"},
    )
    assert shown(entry) == [{"label": "Outcome", "value": "Up-sell opportunity"}]


def test_a_fact_is_dropped_only_when_the_text_says_it_in_so_many_words(ticket):
    said = timeline_record(
        ticket=ticket,
        kind=TimelineEntry.Kind.DEPARTMENT,
        body="Engineering took it on.",
        changes={"department": "engineering", "queue item": 3},
    )
    assert shown(said) == []
    not_said = timeline_record(
        ticket=ticket,
        kind=TimelineEntry.Kind.FOLLOWUP,
        body="Customer was highly unsatisfied with the workaround.",
        changes={"outcome": "no_answer", "priority": "high"},
    )
    assert {"label": "Priority", "value": "High"} in shown(not_said)
