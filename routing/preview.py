"""Dry run: what a draft rule would do over past tickets, with no side effects.

Reads only. The draft is compiled like a saved rule and evaluated against the recorded events
of its trigger (their snapshots, as the worker saw them) for the chosen tickets, with each
customer's standing as it is today. Time-based drafts are evaluated against the tickets being
worked now, as the next sweep would.
"""

from datetime import datetime

from django.utils import timezone

from routing.engine.conditions import compile_rule
from routing.engine.facts import facts_for_many
from routing.models import Rule
from routing.timers import _candidates
from tickets.models import Ticket, TicketEvent
from tickets.outbox import ticket_snapshot

MAX_TICKETS = 20_000
SAMPLE = 50


def describe_action(action: dict) -> str:
    kind = action.get("type")
    if kind == "notify_department":
        return f"Notify {action.get('department')}"
    if kind == "create_followup":
        return f"Follow-up for the salesperson in {action.get('due_in_working_days')} working days"
    if kind == "assign":
        return f"Assign to {action.get('user') or action.get('department')}"
    if kind == "set_priority":
        return f"Set priority to {action.get('priority')}"
    if kind == "add_tag":
        return f"Add tag {action.get('tag')}"
    if kind == "send_email":
        target = action.get("department") if action.get("to") == "department" else action.get("to")
        return f"Email {target}"
    if kind == "call_webhook":
        return f"Call webhook {action.get('webhook')}"
    return str(kind)


def _event_items(trigger: str, tickets) -> list[dict]:
    rows = TicketEvent.objects.filter(type=trigger, ticket__in=tickets).values_list(
        "id", "ticket_id", "ticket__customer_id", "snapshot", "changes", "created_at",
        "caused_by_id",
    )  # fmt: skip
    return [
        {
            "event_id": event_id,
            "ticket_id": ticket_id,
            "customer_id": customer_id,
            "snapshot": snapshot,
            "changes": changes,
            "event_type": trigger,
            "is_automatic": caused_by is not None,
            "now": created_at,
        }
        for event_id, ticket_id, customer_id, snapshot, changes, created_at, caused_by in rows
    ]


def _timer_items() -> list[dict]:
    now = timezone.now()
    return [
        {
            "event_id": None,
            "ticket_id": ticket.pk,
            "customer_id": ticket.customer_id,
            "snapshot": ticket_snapshot(ticket),
            "changes": {},
            "event_type": TicketEvent.Type.TIMER,
            "is_automatic": True,
            "now": now,
        }
        for ticket in _candidates()[:MAX_TICKETS]
    ]


def rule_preview(
    *,
    trigger: str,
    conditions: dict,
    actions: list,
    since: datetime | None = None,
    until: datetime | None = None,
    last: int | None = None,
) -> dict:
    """Which tickets the (valid) draft would match, and what it would do to each."""
    rule = compile_rule(
        id=0, version=0, name="draft", order=0, trigger=trigger, stop_processing=False,
        conditions=conditions, actions=actions,
    )  # fmt: skip
    if trigger == Rule.Trigger.TIME:
        items = _timer_items()
        scope = "tickets being worked now"
    else:
        tickets = Ticket.objects.all()
        if since:
            tickets = tickets.filter(created_at__gte=since)
        if until:
            tickets = tickets.filter(created_at__lt=until)
        ids = tickets.order_by("-created_at", "-id").values("id")[: last or MAX_TICKETS]
        items = _event_items(trigger, ids)
        scope = f"last {last} tickets" if last else "tickets created in the range"
    matched = [
        item for item, facts in zip(items, facts_for_many(items), strict=True)
        if rule.evaluate(facts)[0]
    ]  # fmt: skip
    matched_tickets = list(dict.fromkeys(item["ticket_id"] for item in matched))
    sample = {
        t.pk: t
        for t in Ticket.objects.filter(pk__in=matched_tickets[:SAMPLE]).select_related("customer")
    }
    would_do = [describe_action(action) for action in actions]
    return {
        "scope": scope,
        "events_evaluated": len(items),
        "tickets_evaluated": len({item["ticket_id"] for item in items}),
        "events_matched": len(matched),
        "tickets_matched": len(matched_tickets),
        "would_do": would_do,
        "matches": [
            {
                "ticket": pk,
                "reference": sample[pk].reference,
                "subject": sample[pk].subject,
                "customer": sample[pk].customer.name,
                "created_at": sample[pk].created_at,
            }
            for pk in matched_tickets[:SAMPLE]
            if pk in sample
        ],
    }
