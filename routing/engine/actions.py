"""What a rule can do. Each action validates its parameters and performs itself once.

Performers run inside the routing transaction of one event; the unique constraints on what they
create (per event, rule and department) make a repeated run create nothing new.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from accounts.models import Department
from routing.calendar import add_working_days
from routing.models import FollowUpTask, Notification, Rule
from tickets.models import Ticket, TicketEvent
from tickets.services import ticket_update

ErrorList = list[tuple[str, str]]


@dataclass
class ActionContext:
    """What actions share while one event is routed.

    Ticket changes are collected in ``changes`` and applied once, after every rule has run, as
    one change with one event of its own: rules that undo each other within a run cancel out
    instead of setting off a chain.
    """

    event: TicketEvent
    ticket: Ticket
    facts: dict
    rule: Rule | None = None
    changes: dict = field(default_factory=dict)
    changed_by: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ActionSpec:
    label: str
    validate: Callable[[dict, str], ErrorList]
    perform: Callable[[dict, ActionContext], dict]


def _unknown_keys(action: dict, path: str, allowed: set[str]) -> ErrorList:
    return [(f"{path}.{key}", "Unknown key.") for key in sorted(set(action) - allowed - {"type"})]


def _optional_text(action: dict, path: str, key: str) -> ErrorList:
    if key in action and not isinstance(action[key], str):
        return [(f"{path}.{key}", "Must be text.")]
    return []


# --- notify_department ------------------------------------------------------------------------


def _validate_notify(action: dict, path: str) -> ErrorList:
    errors = _unknown_keys(action, path, {"department", "message"})
    slug = action.get("department")
    if not isinstance(slug, str) or not Department.objects.filter(slug=slug).exists():
        errors.append((f"{path}.department", f"No department with slug {slug!r}."))
    return errors + _optional_text(action, path, "message")


def _perform_notify(action: dict, ctx: ActionContext) -> dict:
    department = Department.objects.get(slug=action["department"])
    notification, created = Notification.objects.get_or_create(
        event=ctx.event,
        rule=ctx.rule,
        department=department,
        defaults={"ticket": ctx.ticket, "message": action.get("message", "")},
    )
    return {
        "type": "notify_department",
        "department": department.slug,
        "notification": notification.pk,
        "done": f"Notified {department.name}" if created else "Already notified",
    }


# --- create_followup --------------------------------------------------------------------------


def _validate_followup(action: dict, path: str) -> ErrorList:
    errors = _unknown_keys(action, path, {"due_in_working_days", "reason"})
    days = action.get("due_in_working_days")
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 60:
        errors.append((f"{path}.due_in_working_days", "Must be a whole number from 0 to 60."))
    return errors + _optional_text(action, path, "reason")


def _perform_followup(action: dict, ctx: ActionContext) -> dict:
    salesperson_id = ctx.facts.get("customer.salesperson_id")
    if salesperson_id is None:
        return {"type": "create_followup", "done": "Skipped: the customer has no salesperson"}
    due_on = add_working_days(
        timezone.localdate(ctx.event.created_at), action["due_in_working_days"]
    )
    task, created = FollowUpTask.objects.get_or_create(
        event=ctx.event,
        rule=ctx.rule,
        defaults={
            "ticket": ctx.ticket,
            "customer_id": ctx.ticket.customer_id,
            "salesperson_id": salesperson_id,
            "due_on": due_on,
            "reason": action.get("reason", ""),
        },
    )
    return {
        "type": "create_followup",
        "followup": task.pk,
        "due_on": task.due_on.isoformat(),
        "done": "Follow-up created" if created else "Follow-up already existed",
    }


# --- set_priority -----------------------------------------------------------------------------


def _validate_priority(action: dict, path: str) -> ErrorList:
    errors = _unknown_keys(action, path, {"priority"})
    if action.get("priority") not in Ticket.Priority.values:
        allowed = ", ".join(Ticket.Priority.values)
        errors.append((f"{path}.priority", f"Must be one of {allowed}."))
    return errors


def _perform_priority(action: dict, ctx: ActionContext) -> dict:
    priority = action["priority"]
    if ctx.facts["priority"] == priority:
        return {"type": "set_priority", "priority": priority, "done": "Priority already set"}
    ctx.changes["priority"] = priority
    ctx.changed_by.append(ctx.rule.name)
    # Later rules for this event see the new priority, as the person reading the ticket would.
    ctx.facts["priority"] = priority
    return {"type": "set_priority", "priority": priority, "done": f"Priority set to {priority}"}


ACTIONS: dict[str, ActionSpec] = {
    "notify_department": ActionSpec("Notify a department", _validate_notify, _perform_notify),
    "create_followup": ActionSpec(
        "Follow-up task for the salesperson", _validate_followup, _perform_followup
    ),
    "set_priority": ActionSpec("Set priority", _validate_priority, _perform_priority),
}


def perform_action(action: dict, ctx: ActionContext) -> dict:
    return ACTIONS[action["type"]].perform(action, ctx)


def apply_ticket_changes(ctx: ActionContext) -> None:
    """Apply what the rules changed on the ticket as one change, caused by the routed event."""
    if not ctx.changes:
        return
    names = ", ".join(f"“{name}”" for name in dict.fromkeys(ctx.changed_by))
    ctx.ticket = ticket_update(
        ticket=ctx.ticket,
        actor=None,
        caused_by=ctx.event,
        reason=f"Set by routing rules {names}",
        **ctx.changes,
    )
