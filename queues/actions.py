"""What a rule can do in the department queues and for salespeople: notify a department (a
queue item, with its response target and alert emails) and create a follow-up task for the
customer's salesperson. Registered with the engine by ``QueuesConfig.ready()``."""

from django.db.models import FilteredRelation, Q
from django.utils import timezone

from accounts.models import Department, Membership
from deliveries.staff_emails import staff_emails_send_on_commit
from helpdesk.calendar import add_working_days
from queues.followups import is_resolution, resolution_undone
from queues.models import FollowUpTask, Notification
from queues.services import notification_alert_emails, response_due_at
from routing.engine.actions import (
    ActionContext,
    ActionSpec,
    ErrorList,
    action_register,
    department_errors,
    template_errors,
    unknown_keys,
)
from routing.engine.rows import insert_or_get
from routing.engine.templates import render

# --- notify_department ------------------------------------------------------------------------


def _validate_notify(action: dict, path: str) -> ErrorList:
    return (
        unknown_keys(action, path, {"department", "message"})
        + department_errors(action, path)
        + template_errors(action, path, "message")
    )


def _notified_departments(slugs: set[str]) -> dict[str, tuple[Department, list[tuple[int, str]]]]:
    """The departments of ``slugs`` with the addresses of their active members who asked for
    an email per new item, in one query (a department without them still comes back)."""
    alerted = FilteredRelation(
        "memberships",
        condition=Q(memberships__email_preference=Membership.EmailPreference.IMMEDIATE),
    )
    rows = (
        Department.objects.filter(slug__in=slugs)
        .annotate(alerted=alerted)
        .values_list(
            "pk",
            "slug",
            "name",
            "email",
            "response_target_hours",
            "alerted__user_id",
            "alerted__user__email",
            "alerted__user__is_active",
        )
        .order_by("pk", "alerted__user_id")
    )
    found: dict[str, tuple[Department, list[tuple[int, str]]]] = {}
    for pk, slug, name, email, hours, user_id, member_email, active in rows:
        if slug not in found:
            department = Department(
                pk=pk, slug=slug, name=name, email=email, response_target_hours=hours
            )
            department._state.adding = False
            found[slug] = (department, [])
        if user_id is not None and active:
            found[slug][1].append((user_id, member_email))
    return found


def _department(ctx: ActionContext, slug: str) -> tuple[Department, list[tuple[int, str]]] | None:
    """The department (and who to alert), kept between events until the rule set or the
    directory changes (``ActionContext.remember``): loaded at first for every department the
    event's rules may notify, in one query, and a department not among them on its own."""

    def load() -> dict:
        slugs = {
            action.get("department")
            for rule in ctx.rules
            for action in rule.actions
            if action.get("type") == "notify_department"
        }
        return _notified_departments(slugs | {slug})

    loaded = ctx.remember("queues.departments", load)
    if slug in loaded:
        return loaded[slug]
    return ctx.remember(
        f"queues.department:{slug}", lambda: _notified_departments({slug}).get(slug)
    )


def _perform_notify(action: dict, ctx: ActionContext) -> dict:
    found = _department(ctx, action["department"])
    if found is None:
        slug = action["department"]
        return {
            "type": "notify_department",
            "done": f"Skipped: department {slug!r} no longer exists",
        }
    department, alerted = found
    message = render(action["message"], ctx.template_context()) if action.get("message") else ""
    outcome = {"type": "notify_department", "department": department.slug}

    def inserted(notification: Notification, created: bool) -> None:
        outcome["notification"] = notification.pk
        outcome["done"] = f"Notified {department.name}" if created else "Already notified"
        if created:
            notification.department = department
            for email in notification_alert_emails(notification=notification, alerted=alerted):
                ctx.insert_later(email, unique=("key",), then=alert_inserted)

    def alert_inserted(email, created: bool) -> None:
        if created:
            ctx.memo("queues.alerts_to_send", staff_emails_send_on_commit).append(email.pk)

    ctx.insert_later(
        Notification(
            event=ctx.event,
            rule_id=ctx.rule_id,
            department=department,
            ticket=ctx.ticket,
            message=message,
            due_at=response_due_at(department=department, created_at=ctx.event.created_at),
        ),
        unique=("event", "rule", "department"),
        then=inserted,
    )
    return outcome


# --- create_followup --------------------------------------------------------------------------


def _validate_followup(action: dict, path: str) -> ErrorList:
    errors = unknown_keys(action, path, {"due_in_working_days", "reason"})
    days = action.get("due_in_working_days")
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 60:
        errors.append((f"{path}.due_in_working_days", "Must be a whole number from 0 to 60."))
    return errors + template_errors(action, path, "reason")


def _perform_followup(action: dict, ctx: ActionContext) -> dict:
    salesperson_id = ctx.facts.get("customer.salesperson_id")
    if salesperson_id is None:
        return {"type": "create_followup", "done": "Skipped: the customer has no salesperson"}
    if is_resolution(ctx.event) and resolution_undone(ctx.event, ctx.ticket):
        # Routed late (a backlog, a retry): the ticket was reopened since, and its reopening
        # cancelled follow-ups of this resolution before this one existed.
        return {
            "type": "create_followup",
            "done": "Skipped: the ticket's status changed again since this resolution",
        }
    due_on = add_working_days(
        timezone.localdate(ctx.event.created_at), action["due_in_working_days"]
    )
    reason = render(action["reason"], ctx.template_context()) if action.get("reason") else ""
    [(task, created)] = insert_or_get(
        [
            FollowUpTask(
                event=ctx.event,
                rule_id=ctx.rule_id,
                ticket=ctx.ticket,
                customer_id=ctx.ticket.customer_id,
                salesperson_id=salesperson_id,
                due_on=due_on,
                reason=reason[:200],
            )
        ],
        unique=("event", "rule"),
    )
    return {
        "type": "create_followup",
        "followup": task.pk,
        "due_on": task.due_on.isoformat(),
        "done": "Follow-up created" if created else "Follow-up already existed",
    }


def _describe_followup(action: dict, names) -> str:
    return f"Follow-up for the salesperson in {action.get('due_in_working_days')} working days"


def _effect_followup(action: dict, facts: dict, names) -> tuple[str, bool]:
    salesperson = facts.get("customer.salesperson")
    if not salesperson:
        return "No follow-up: the customer has no salesperson", False
    days = action.get("due_in_working_days")
    return f"Follow-up for {names.user(salesperson)} in {days} working days", True


def register() -> None:
    action_register(
        "notify_department",
        ActionSpec(
            "Notify a department",
            _validate_notify,
            _perform_notify,
            parameters=(
                {"name": "department", "type": "department", "required": True},
                {"name": "message", "type": "template", "required": False},
            ),
            describe=lambda action, names: f"Notify {names.department(action.get('department'))}",
            order=10,
        ),
    )
    action_register(
        "create_followup",
        ActionSpec(
            "Follow-up task for the salesperson",
            _validate_followup,
            _perform_followup,
            parameters=(
                {"name": "due_in_working_days", "type": "number", "required": True},
                {"name": "reason", "type": "template", "required": False},
            ),
            describe=_describe_followup,
            effect=_effect_followup,
            order=20,
        ),
    )
