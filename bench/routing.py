"""Routing benchmark: per-event processing time with 10, 100 and 1,000 active rules, and the
dry run of one rule over 10,000 stored tickets. Prints JSON.

Per event: what a worker does for one ``ticket.created`` event (``outbox.event_dispatch``:
load the event, the rule-set key, the customer's standing, evaluate every rule, record the run
and the matches, perform the actions), database included. The baseline is the same dispatch
with no rules at all, measured in the same run. Targets: 1,000 rules cost at most 3 times 10
rules; the dry run over 10,000 tickets takes under a second.
"""

import json
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import percentile, setup  # noqa: E402

EVENTS = 150
WORDS = ["export", "login", "invoice", "printer", "scanner", "latency", "crash", "timeout"]


def make_rules(count: int) -> None:
    """``count`` active rules of realistic shapes. The same two broad rules fire in every
    configuration (bugs to engineering, customers with money at stake to finance), so what grows
    with ``count`` is the rule set to evaluate, not the work the matching rules do."""
    from routing.models import Rule, RuleVersion
    from routing.services import rule_set_revision_bump

    kinds = ["call", "bug", "rfe", "rma"]
    rules = []
    for index in range(count):
        conditions = {
            "all": [
                {"field": "kind", "operator": "is", "value": kinds[index % 4]},
                {"field": "text", "operator": "contains", "value": f"{WORDS[index % 8]}{index}"},
            ],
            "any": [
                {"field": "customer.unpaid_amount", "operator": "gt", "value": index},
                {"field": "customer.pay_for_bug", "operator": "is", "value": True},
            ],
        }
        if index == 0:
            conditions = {"all": [{"field": "kind", "operator": "is", "value": "bug"}]}
        elif index == 1:
            conditions = {
                "any": [
                    {"field": "customer.has_unpaid_invoices", "operator": "is", "value": True},
                    {"field": "customer.pay_for_bug", "operator": "is", "value": True},
                ]
            }
        rules.append(
            Rule(
                name=f"rule {index}",
                order=index,
                trigger="ticket.created",
                conditions=conditions,
                actions=[{"type": "notify_department", "department": "engineering"}],
                version=1,
            )
        )
    Rule.objects.bulk_create(rules)
    RuleVersion.objects.bulk_create(
        RuleVersion(rule=rule, number=1, definition={}, summary="Created")
        for rule in Rule.objects.filter(archived_at__isnull=True)
    )
    # Written past the services, so the compiled rule set must be told they changed.
    rule_set_revision_bump()


def time_dispatch(customers) -> list[float]:
    from routing.engine.ruleset import load_rule_set
    from tickets import outbox
    from tickets.services import ticket_create

    load_rule_set()  # compile once, as a running worker already has
    timings = []
    for index in range(EVENTS):
        ticket = ticket_create(
            customer=customers[index % len(customers)],
            kind="bug" if index % 2 else "call",
            channel="phone",
            subject=f"The {WORDS[index % 8]} fails",
            description="Steps to reproduce: open the report, wait, see the error.",
        )
        event_id = ticket.events.get().pk
        started = time.perf_counter()
        outbox.event_dispatch(event_id=event_id)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def summary(timings: list[float]) -> dict:
    return {
        "median_ms": round(statistics.median(timings), 3),
        "p95_ms": round(percentile(timings, 0.95), 3),
    }


def bench_per_event() -> dict:
    from django.utils import timezone

    from accounts.models import Invoice
    from routing.models import Rule
    from tests.factories import CustomerFactory

    customers = [CustomerFactory(pay_for_bug=i % 3 == 0) for i in range(20)]

    for customer in customers[::2]:
        Invoice.objects.create(
            customer=customer,
            number=f"B-{customer.pk}",
            amount=250,
            issued_on=timezone.localdate() - timedelta(days=40),
            due_on=timezone.localdate() - timedelta(days=10),
        )
    results = {"baseline_no_rules": summary(time_dispatch(customers))}
    for count in (10, 100, 1000):
        Rule.objects.update(is_active=False, archived_at=timezone.now())
        make_rules(count)
        results[f"rules_{count}"] = summary(time_dispatch(customers))
    results["ratio_1000_to_10"] = round(
        results["rules_1000"]["median_ms"] / results["rules_10"]["median_ms"], 2
    )
    return results


def bench_preview() -> dict:
    from django.db import connection

    from accounts.models import Customer
    from routing.preview import rule_preview
    from tickets.models import Ticket, TicketEvent
    from tickets.outbox import ticket_snapshot

    customers = list(Customer.objects.all())
    rng = random.Random(7)  # noqa: S311 - test data, not secrets
    tickets = Ticket.objects.bulk_create(
        Ticket(
            customer=rng.choice(customers),
            kind=rng.choice(["call", "bug", "rfe", "rma"]),
            channel="phone",
            subject=f"{rng.choice(WORDS)} problem {n}",
            description="Customer reports a problem with " + rng.choice(WORDS),
        )
        for n in range(10_000)
    )
    TicketEvent.objects.bulk_create(
        TicketEvent(ticket=t, type="ticket.created", snapshot=ticket_snapshot(t)) for t in tickets
    )
    draft = {
        "trigger": "ticket.created",
        "conditions": {
            "all": [{"field": "kind", "operator": "is", "value": "rfe"}],
            "any": [
                {"field": "customer.has_unpaid_invoices", "operator": "is", "value": True},
                {"field": "text", "operator": "contains", "value": "latency"},
            ],
        },
        "actions": [{"type": "notify_department", "department": "marketing"}],
    }
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        result = rule_preview(**draft, last=10_000)
        timings.append((time.perf_counter() - started) * 1000)
    connection.close()
    return {
        "tickets_evaluated": result["tickets_evaluated"],
        "tickets_matched": result["tickets_matched"],
        **summary(timings),
        "max_ms": round(max(timings), 3),
    }


def main() -> None:
    setup("switchboard_bench_routing")
    per_event = bench_per_event()
    preview = bench_preview()
    print(
        json.dumps(
            {
                "per_event_dispatch": per_event,
                "target_ratio_at_most": 3,
                "dry_run_10000_tickets": preview,
                "target_dry_run_ms_under": 1000,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
