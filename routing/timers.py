"""Time-based rules: a periodic sweep finds tickets whose time condition has come.

A rule with the ``time`` trigger is checked every ``ROUTING_TIMER_INTERVAL_SECONDS`` against the
tickets still being worked (and those a fact source names, such as tickets with an overdue
follow-up). When it matches, the sweep
writes a ``ticket.timer`` event naming the rule and a ``TimedFiring`` row, in one transaction.
The firing is unique per (rule, ticket, occurrence): a rule goes off once for what started its
clock, not on every sweep. What started it depends on the fields the rule tests: a stay in a
status (``days_in_status``), the last update (``hours_since_update``), or what a fact source
says for its fields (an overdue follow-up for ``followup_overdue``); otherwise the ticket itself,
once. The event is then routed like any
other, by the worker, with its explanation.
"""

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from routing.engine.facts import FACT_SOURCES, facts_for_many
from routing.engine.ruleset import load_rule_set
from routing.models import Rule, TimedFiring
from tickets.models import Ticket, TicketEvent
from tickets.outbox import event_record, ticket_snapshot

BATCH = 1000


def timer_candidates():
    worked = Q(status__in=[Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING])
    for source in FACT_SOURCES:
        if source.timer_candidates is not None:
            worked |= Q(pk__in=source.timer_candidates(timezone.localdate()))
    return (
        Ticket.objects.filter(worked)
        .select_related("assignee", "department")
        .prefetch_related("tags")
        .order_by("pk")
    )


def timers_sweep(*, now=None) -> int:
    """Fire every time-based rule whose conditions now hold for a ticket it has not fired for."""
    now = now or timezone.now()
    rules = load_rule_set().for_trigger(Rule.Trigger.TIME)
    if not rules:
        return 0
    fired_count = 0
    candidates = timer_candidates()
    last_pk = 0
    while True:
        tickets = list(candidates.filter(pk__gt=last_pk)[:BATCH])
        if not tickets:
            return fired_count
        last_pk = tickets[-1].pk
        fired = set(
            TimedFiring.objects.filter(
                rule_id__in=[rule.id for rule in rules], ticket__in=tickets
            ).values_list("rule_id", "ticket_id", "occurrence")
        )
        occurrences = _source_occurrences(tickets, now)
        items = [
            {
                "ticket_id": ticket.pk,
                "customer_id": ticket.customer_id,
                "snapshot": ticket_snapshot(ticket),
                "changes": {},
                "event_type": TicketEvent.Type.TIMER,
                "is_automatic": True,
                "now": now,
            }
            for ticket in tickets
        ]
        for ticket, facts in zip(tickets, facts_for_many(items), strict=True):
            for rule in rules:
                occurrence = _occurrence(rule, ticket, occurrences)
                if (rule.id, ticket.pk, occurrence) in fired or not rule.evaluate(facts)[0]:
                    continue
                fired_count += _fire(rule, ticket, occurrence)


def _source_occurrences(tickets, now) -> list[tuple[set[str], dict[int, str]]]:
    """Per fact source with occurrences: its field names, and per ticket what started the clock."""
    return [
        ({field.name for field in source.fields}, source.timer_occurrences(tickets, now))
        for source in FACT_SOURCES
        if source.timer_occurrences is not None
    ]


def _occurrence(rule, ticket: Ticket, occurrences) -> str:
    fields = {condition.field for condition in rule.conditions}
    parts = []
    if "days_in_status" in fields and ticket.status_changed_at:
        parts.append(f"status:{ticket.status}@{ticket.status_changed_at.isoformat()}")
    if "hours_since_update" in fields:
        parts.append(f"updated@{ticket.updated_at.isoformat()}")
    for names, by_ticket in occurrences:
        if fields & names and ticket.pk in by_ticket:
            parts.append(by_ticket[ticket.pk])
    return " ".join(parts)


def _fire(rule, ticket: Ticket, occurrence: str) -> int:
    try:
        with transaction.atomic():
            event = event_record(
                ticket=ticket,
                type=TicketEvent.Type.TIMER,
                changes={"rule": rule.id, "rule_name": rule.name, "occurrence": occurrence},
            )
            TimedFiring.objects.create(
                rule_id=rule.id, ticket=ticket, occurrence=occurrence, event=event
            )
    except IntegrityError:  # another sweep fired it first
        return 0
    return 1
