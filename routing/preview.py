"""Dry run: what a draft rule would do over past tickets, with no side effects.

Reads only. The draft is compiled like a saved rule and evaluated against the recorded events
of its trigger (their snapshots, as the worker saw them) for the chosen tickets, with each
customer's standing as it is today. Time-based drafts are evaluated against the tickets being
worked now, as the next sweep would.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from accounts.models import Department, User
from routing.engine.actions import ACTIONS
from routing.engine.conditions import compile_conditions, compile_rule, describe_condition
from routing.engine.facts import facts_for_many
from routing.models import Rule
from routing.timers import timer_candidates
from tickets.models import Ticket, TicketEvent
from tickets.outbox import ticket_snapshot

# A dry run runs as the admin types: it is bounded so that it stays quick whatever the history
# (10,000 tickets take about half a second, bench/routing.py). It counts over every ticket it
# tries, and lists what would happen to the newest SHOWN of those that match.
MAX_TICKETS = 20_000
DEFAULT_LAST = 1_000
SHOWN = 100


@dataclass(frozen=True)
class Names:
    """The people and departments rules name by username and slug, as people read them."""

    departments: dict[str, str]
    users: dict[str, str]

    @classmethod
    def load(cls) -> "Names":
        users = User.objects.values_list("username", "first_name", "last_name")
        return cls(
            departments=dict(Department.objects.values_list("slug", "name")),
            # As User.__str__ says it (the full name, else the username), without whole rows.
            users={
                username: f"{first} {last}".strip() or username for username, first, last in users
            },
        )

    def department(self, slug) -> str:
        return self.departments.get(slug, str(slug))

    def user(self, username) -> str:
        return self.users.get(username, str(username))


def describe_action(action: dict, names: Names | None = None) -> str:
    """What an action does, in words, with labels (Engineering, High), not codes."""
    names = names or Names(departments={}, users={})
    kind = action.get("type")
    spec = ACTIONS.get(kind) if isinstance(kind, str) else None
    if spec is None or spec.describe is None:
        return str(kind)
    return spec.describe(action, names)


def rule_summary(*, conditions: dict, actions: list, names: Names) -> str:
    """A rule in one line, as people read it: "Kind is Bug report → Notify Engineering"."""
    try:
        compiled = compile_conditions(conditions or {})
    except (KeyError, TypeError, AttributeError):
        return ""  # a definition from before a field was renamed: the editor says what is wrong
    all_of = [describe_condition(c) for c in compiled if c.group == "all"]
    any_of = [describe_condition(c) for c in compiled if c.group == "any"]
    when = " and ".join(all_of)
    if any_of:
        either = "either " + " or ".join(any_of) if len(any_of) > 1 else any_of[0]
        when = f"{when} and {either}" if when else either
    then = "; ".join(describe_action(action, names) for action in actions)
    when = when[:1].upper() + when[1:] if when else "Always"
    return f"{when} → {then}"


def _effect(action: dict, facts: dict, names: Names) -> dict:
    """What the action would do to this ticket, as far as the facts tell, and whether it would
    change anything (a tag already there, a priority already set: nothing to do)."""
    kind = action.get("type")
    spec = ACTIONS.get(kind) if isinstance(kind, str) else None
    text, effective = describe_action(action, names), True
    if spec is not None and spec.effect is not None:
        text, effective = spec.effect(action, facts, names) or (text, effective)
    return {
        "type": kind,
        "label": spec.label if spec else str(kind),
        "text": text,
        "effective": effective,
    }


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


def _timer_items(tickets) -> list[dict]:
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
        for ticket in tickets
    ]


def _scope_text(since, until, limit: int, *, worked_now: bool = False) -> str:
    tickets = "tickets being worked now" if worked_now else "tickets"
    if not (since or until):
        return f"the last {limit} {tickets}"

    def day(value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")

    tickets = f"{tickets}, " if worked_now else f"{tickets} "
    if since and until:
        span = f"{tickets}created from {day(since)} to {day(until)}"
    elif since:
        span = f"{tickets}created since {day(since)}"
    else:
        span = f"{tickets}created before {day(until)}"
    return f"{span} (the newest {limit} at most)"


def rule_preview(
    *,
    trigger: str,
    conditions: dict,
    actions: list,
    since: datetime | None = None,
    until: datetime | None = None,
    last: int | None = None,
) -> dict:
    """Which tickets the (valid) draft would match, and what each action would do to each.

    At most ``MAX_TICKETS`` tickets are tried: the last ``last`` tickets, or the newest of a
    date range.
    """
    rule = compile_rule(
        id=0, version=0, name="draft", order=0, trigger=trigger, stop_processing=False,
        conditions=conditions, actions=actions,
    )  # fmt: skip
    limit = min(last or (MAX_TICKETS if since or until else DEFAULT_LAST), MAX_TICKETS)
    # A time-based draft is tried on the tickets the sweep would check now, an event-based one
    # on the tickets its trigger happened to; either way the newest of the range chosen.
    tickets = timer_candidates() if trigger == Rule.Trigger.TIME else Ticket.objects.all()
    if since:
        tickets = tickets.filter(created_at__gte=since)
    if until:
        tickets = tickets.filter(created_at__lt=until)
    tickets = tickets.order_by("-created_at", "-id")[:limit]
    if trigger == Rule.Trigger.TIME:
        items = _timer_items(tickets)
    else:
        items = _event_items(trigger, tickets.values("id"))
    scope = _scope_text(since, until, limit, worked_now=trigger == Rule.Trigger.TIME)
    # Per ticket, the newest event that matched: what the rule would have done last.
    matched: dict[int, dict] = {}
    events_matched = 0
    for item, facts in sorted(
        zip(items, facts_for_many(items), strict=True), key=lambda pair: pair[0]["now"]
    ):
        if rule.evaluate(facts)[0]:
            matched[item["ticket_id"]] = facts
            events_matched += 1
    names = Names.load()
    effects = {
        pk: [_effect(action, facts, names) for action in actions] for pk, facts in matched.items()
    }
    newest = (
        Ticket.objects.filter(pk__in=matched)
        .select_related("customer")
        .order_by("-created_at", "-id")[:SHOWN]
    )
    matches = [
        {
            "ticket": ticket.pk,
            "reference": ticket.reference,
            "subject": ticket.subject,
            "customer": ticket.customer.name,
            "created_at": ticket.created_at,
            "effects": effects[ticket.pk],
        }
        for ticket in newest
    ]
    by_action = [
        {
            "type": action.get("type"),
            "text": describe_action(action, names),
            "tickets": sum(1 for found in effects.values() if found[index]["effective"]),
        }
        for index, action in enumerate(actions)
    ]
    return {
        "scope": scope,
        "limit": limit,
        "events_evaluated": len(items),
        "tickets_evaluated": len({item["ticket_id"] for item in items}),
        "events_matched": events_matched,
        "tickets_matched": len(matched),
        "by_action": by_action,
        "matches": matches,
    }
