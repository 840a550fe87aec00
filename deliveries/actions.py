"""Actions that reach outside: emails and webhook calls, recorded as delivery rows.

The rows are created in the routing transaction; their sending is enqueued for after commit.
An email is not sent (and says why) to an automatic or no-reply address, or when the same
recipient had an email from a rule about the same ticket within the throttle window.
"""

import re
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import Department
from accounts.portal_links import portal_url
from deliveries.models import EmailDelivery, Webhook, WebhookDelivery
from helpdesk.queue import enqueue_on_commit
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

RECIPIENTS = ("contact", "department", "salesperson")

# Local parts of addresses that never read mail, or answer it automatically.
_AUTOMATIC_ADDRESS = re.compile(
    r"^(no-?reply|do-?not-?reply|noreply-[\w.-]+|mailer-daemon|postmaster|bounces?|"
    r"auto-?reply|auto-?responder|notifications?)([+.-].*)?@",
    re.IGNORECASE,
)


def is_automatic_address(address: str) -> bool:
    return bool(_AUTOMATIC_ADDRESS.match(address.strip()))


# --- send_email -------------------------------------------------------------------------------


def _validate_email(action: dict, path: str) -> ErrorList:
    errors = unknown_keys(action, path, {"to", "department", "subject", "body"})
    to = action.get("to")
    if to not in RECIPIENTS:
        errors.append((f"{path}.to", f"Must be one of {', '.join(RECIPIENTS)}."))
    elif to == "department":
        errors += department_errors(action, path)
    elif "department" in action:
        errors.append((f"{path}.department", 'Only with "to": "department".'))
    return (
        errors
        + template_errors(action, path, "subject", required=True)
        + template_errors(action, path, "body", required=True)
    )


def _recipients(action: dict, ctx: ActionContext) -> list[str]:
    ticket = ctx.ticket
    if action["to"] == "contact":
        return [ticket.contact.email] if ticket.contact and ticket.contact.email else []
    if action["to"] == "salesperson":
        salesperson = ticket.customer.salesperson
        return [salesperson.email] if salesperson and salesperson.email else []
    department = Department.objects.filter(slug=action["department"]).first()
    if department is None:
        return []  # deleted since the rule was saved
    if department.email:
        return [department.email]
    return sorted({m.email for m in department.members.filter(is_active=True) if m.email})


def _throttled(ticket_id: int, recipient: str) -> bool:
    since = timezone.now() - timedelta(minutes=settings.ROUTING_EMAIL_THROTTLE_MINUTES)
    # Only rules' emails count: a member of staff's alert about a new item in their queue (a
    # row with a ``key``) is a different conversation, and must not swallow the rule's email
    # to the same department that follows it.
    return EmailDelivery.objects.filter(
        ticket_id=ticket_id,
        key__isnull=True,
        recipient__iexact=recipient,
        created_at__gte=since,
        status__in=[
            EmailDelivery.Status.PENDING,
            EmailDelivery.Status.RETRYING,
            EmailDelivery.Status.SENDING,
            EmailDelivery.Status.SENT,
        ],
    ).exists()


def _perform_email(action: dict, ctx: ActionContext) -> dict:
    from deliveries.tasks import send_email_delivery

    recipients = _recipients(action, ctx)
    if not recipients:
        return {"type": "send_email", "to": action["to"], "done": "Skipped: no email address"}
    # Routing of two events of the same ticket at once would both pass the throttle check; the
    # ticket's row lock makes the second wait for the first's deliveries to be committed.
    ctx.locked_ticket()
    context = ctx.template_context()
    # One line, whatever the placeholders hold (a description's \r\n): a header cannot break.
    subject = " ".join(render(action["subject"], context).split())[:250]
    body = render(action["body"], context)
    if action["to"] == "contact" and ctx.ticket.contact is not None:
        # Every email to a contact carries their way to the request on the web.
        link = portal_url(ctx.ticket.contact, ticket_id=ctx.ticket.pk)
        body = f"{body}\n\n--\nYour request and its whole conversation: {link}"
    outcomes = []
    for recipient in recipients:
        status, reason = EmailDelivery.Status.PENDING, ""
        if is_automatic_address(recipient):
            status, reason = EmailDelivery.Status.SUPPRESSED, "Automatic or no-reply address"
        elif _throttled(ctx.ticket.pk, recipient):
            minutes = settings.ROUTING_EMAIL_THROTTLE_MINUTES
            status = EmailDelivery.Status.THROTTLED
            reason = f"Already emailed about this ticket in the last {minutes} minutes"
        # Inserted at once, not with the other rows of the run: the throttle of the next
        # recipient, or of the next rule's email, must see it.
        [(delivery, created)] = insert_or_get(
            [
                EmailDelivery(
                    event=ctx.event,
                    rule_id=ctx.rule_id,
                    recipient=recipient,
                    ticket=ctx.ticket,
                    subject=subject,
                    body=body,
                    status=status,
                    reason=reason,
                )
            ],
            unique=("event", "rule", "recipient"),
        )
        if created and delivery.status == EmailDelivery.Status.PENDING:
            enqueue_on_commit(send_email_delivery, delivery.pk)
        outcomes.append(f"{recipient}: {delivery.get_status_display().lower()}")
    return {"type": "send_email", "to": action["to"], "done": "; ".join(outcomes)}


# --- call_webhook -----------------------------------------------------------------------------


def _validate_webhook(action: dict, path: str) -> ErrorList:
    errors = unknown_keys(action, path, {"webhook"})
    name = action.get("webhook")
    if not isinstance(name, str) or not Webhook.objects.filter(name=name).exists():
        errors.append((f"{path}.webhook", f"No webhook named {name!r}."))
    return errors


def webhook_payload(ctx: ActionContext) -> dict:
    ticket = ctx.ticket
    return {
        "event": {
            "id": ctx.event.pk,
            "type": ctx.event.type,
            "at": ctx.event.created_at.isoformat(),
            "changes": ctx.event.changes,
        },
        "rule": {"id": ctx.rule_id, "name": ctx.rule_name},
        "ticket": {
            "id": ticket.pk,
            "reference": ticket.reference,
            "kind": ticket.kind,
            "channel": ticket.channel,
            "status": ticket.status,
            "priority": ticket.priority,
            "subject": ticket.subject,
            "product": ticket.product,
            "customer": {"id": ticket.customer_id, "name": ticket.customer.name},
        },
    }


def _perform_webhook(action: dict, ctx: ActionContext) -> dict:
    from deliveries.tasks import call_webhook_delivery

    webhook = Webhook.objects.filter(name=action["webhook"]).first()
    if webhook is None:
        name = action["webhook"]
        return {"type": "call_webhook", "done": f"Skipped: webhook {name!r} no longer exists"}
    if not webhook.is_active:
        return {"type": "call_webhook", "webhook": webhook.name, "done": "Skipped: inactive"}
    [(delivery, created)] = insert_or_get(
        [
            WebhookDelivery(
                event=ctx.event,
                rule_id=ctx.rule_id,
                webhook=webhook,
                ticket=ctx.ticket,
                payload=webhook_payload(ctx),
            )
        ],
        unique=("event", "rule", "webhook"),
    )
    if created:
        enqueue_on_commit(call_webhook_delivery, delivery.pk)
    return {
        "type": "call_webhook",
        "webhook": webhook.name,
        "delivery": delivery.pk,
        "done": "Call queued" if created else "Call already queued",
    }


# --- registration -------------------------------------------------------------------------------

# How the editor and the dry run name who an email goes to.
RECIPIENT_LABELS = {
    "contact": "The ticket's contact",
    "department": "A department's members",
    "salesperson": "The customer's salesperson",
}


def _describe_email(action: dict, names) -> str:
    if action.get("to") == "department":
        return f"Email {names.department(action.get('department'))}'s members"
    return f"Email {RECIPIENT_LABELS.get(action.get('to'), str(action.get('to'))).lower()}"


def _effect_email(action: dict, facts: dict, names) -> tuple[str, bool] | None:
    if action.get("to") != "salesperson":
        return None
    salesperson = facts.get("customer.salesperson")
    if not salesperson:
        return "No email: the customer has no salesperson", False
    return f"Email {names.user(salesperson)} (the customer's salesperson)", True


def _webhook_names() -> dict:
    return {"webhooks": list(Webhook.objects.filter(is_active=True).values_list("name", flat=True))}


def register() -> None:
    action_register(
        "send_email",
        ActionSpec(
            "Send an email",
            _validate_email,
            _perform_email,
            parameters=(
                {
                    "name": "to",
                    "type": "choice",
                    "required": True,
                    "choices": list(RECIPIENTS),
                    "choice_labels": {name: RECIPIENT_LABELS[name] for name in RECIPIENTS},
                },
                {"name": "department", "type": "department", "required": False},
                {"name": "subject", "type": "template", "required": True},
                {"name": "body", "type": "template", "required": True},
            ),
            describe=_describe_email,
            effect=_effect_email,
            order=60,
        ),
    )
    action_register(
        "call_webhook",
        ActionSpec(
            "Call a webhook",
            _validate_webhook,
            _perform_webhook,
            parameters=({"name": "webhook", "type": "webhook", "required": True},),
            describe=lambda action, names: f"Call webhook {action.get('webhook')}",
            vocabulary=_webhook_names,
            order=70,
        ),
    )
