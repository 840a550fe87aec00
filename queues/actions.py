"""What a rule can do in the department queues and for salespeople: notify a department (a
queue item, with its response target and alert emails) and create a follow-up task for the
customer's salesperson. Registered with the engine by ``QueuesConfig.ready()``."""

from django.utils import timezone

from accounts.models import Department
from helpdesk.calendar import add_working_days
from queues.models import FollowUpTask, Notification
from queues.services import notification_alert_members, response_due_at
from routing.engine.actions import (
    ActionContext,
    ActionSpec,
    ErrorList,
    action_register,
    department_errors,
    template_errors,
    unknown_keys,
)
from routing.engine.templates import render

# --- notify_department ------------------------------------------------------------------------


def _validate_notify(action: dict, path: str) -> ErrorList:
    return (
        unknown_keys(action, path, {"department", "message"})
        + department_errors(action, path)
        + template_errors(action, path, "message")
    )


def _perform_notify(action: dict, ctx: ActionContext) -> dict:
    department = Department.objects.filter(slug=action["department"]).first()
    if department is None:
        slug = action["department"]
        return {
            "type": "notify_department",
            "done": f"Skipped: department {slug!r} no longer exists",
        }
    message = render(action["message"], ctx.template_context()) if action.get("message") else ""
    notification, created = Notification.objects.get_or_create(
        event=ctx.event,
        rule_id=ctx.rule_id,
        department=department,
        defaults={
            "ticket": ctx.ticket,
            "message": message,
            "due_at": response_due_at(department=department, created_at=ctx.event.created_at),
        },
    )
    if created:
        notification_alert_members(notification=notification)
    return {
        "type": "notify_department",
        "department": department.slug,
        "notification": notification.pk,
        "done": f"Notified {department.name}" if created else "Already notified",
    }


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
    due_on = add_working_days(
        timezone.localdate(ctx.event.created_at), action["due_in_working_days"]
    )
    reason = render(action["reason"], ctx.template_context()) if action.get("reason") else ""
    task, created = FollowUpTask.objects.get_or_create(
        event=ctx.event,
        rule_id=ctx.rule_id,
        defaults={
            "ticket": ctx.ticket,
            "customer_id": ctx.ticket.customer_id,
            "salesperson_id": salesperson_id,
            "due_on": due_on,
            "reason": reason[:200],
        },
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
