"""A ticket keeps when it was first resolved and first reopened: a reopening clears its
resolution, never those (time to fix and the reopen rate are measured from them)."""

import importlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps

from tests.factories import CustomerFactory
from tickets.models import Ticket
from tickets.services import ticket_create, ticket_update

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def at(time_machine, day, hour):
    moment = datetime(2026, 3, day, hour, tzinfo=BERLIN)
    time_machine.move_to(moment, tick=False)
    return moment


def _resolve(ticket, rep):
    return ticket_update(
        ticket=ticket, actor=rep, status="resolved", root_cause="other", resolution="ok"
    )


@pytest.fixture
def history(time_machine, rep):
    """Created on the 2nd, resolved on the 3rd, reopened on the 4th, resolved for good on the
    5th, reopened and closed again on the 6th."""
    at(time_machine, 2, 9)
    ticket = ticket_create(customer=CustomerFactory(), kind="bug", channel="phone", subject="S")
    moments = {"first_fix": at(time_machine, 3, 9)}
    ticket = _resolve(ticket, rep)
    moments["reopened"] = at(time_machine, 4, 9)
    ticket = ticket_update(ticket=ticket, actor=rep, status="open")
    moments["fixed_again"] = at(time_machine, 5, 9)
    ticket = _resolve(ticket, rep)
    at(time_machine, 6, 9)
    ticket = ticket_update(ticket=ticket, actor=rep, status="open")
    moments["closed"] = at(time_machine, 6, 12)
    ticket = ticket_update(
        ticket=ticket, actor=rep, status="closed", root_cause="other", resolution="ok"
    )
    return ticket, moments


def test_the_first_resolution_and_reopening_are_kept(history):
    ticket, moments = history
    ticket.refresh_from_db()
    assert ticket.first_resolved_at == moments["first_fix"]
    assert ticket.first_reopened_at == moments["reopened"]
    assert ticket.resolved_at == moments["closed"]


def test_a_ticket_never_reopened_has_no_reopening(time_machine, rep):
    at(time_machine, 2, 9)
    ticket = ticket_create(customer=CustomerFactory(), kind="bug", channel="phone", subject="S")
    ticket = ticket_update(ticket=ticket, actor=rep, status="open")
    fixed = at(time_machine, 2, 15)
    ticket = _resolve(ticket, rep)
    ticket.refresh_from_db()
    assert ticket.first_resolved_at == fixed
    assert ticket.first_reopened_at is None


def test_the_migration_reads_them_back_from_the_timeline(history):
    ticket, moments = history
    never = ticket_create(customer=ticket.customer, kind="call", channel="phone", subject="N")
    Ticket.objects.update(first_resolved_at=None, first_reopened_at=None)
    migration = importlib.import_module("tickets.migrations.0016_first_resolution_kept")
    migration.backfill(apps, None)
    ticket.refresh_from_db()
    never.refresh_from_db()
    assert ticket.first_resolved_at == moments["first_fix"]
    assert ticket.first_reopened_at == moments["reopened"]
    assert never.first_resolved_at is None
    assert never.first_reopened_at is None
