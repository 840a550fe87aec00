"""Writes on department queues: members acknowledge, respond to and complete what routing sent
them; items past their department's response target are escalated once; members are emailed.

Every state change and response lands on the ticket's timeline, so the rep and the customer's
history see what engineering answered or finance decided. Emails go through
``deliveries.staff_emails``: retrying a task, or running a sweep twice, cannot send one twice.
"""

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from accounts.models import Department, Membership, User
from deliveries.email_text import email_text
from deliveries.models import EmailDelivery
from deliveries.staff_emails import keys_stored, site_link, staff_email, staff_email_row
from helpdesk.calendar import add_working_hours
from queues.models import Notification
from queues.selectors import escalation_recipients, user_may_finish
from tickets.models import Ticket, TimelineEntry
from tickets.services import timeline_record

Status = Notification.Status
DIGEST_ITEMS = 100  # listed in a digest; the subject counts them all


def _locked(notification: Notification) -> Notification:
    return (
        Notification.objects.select_for_update(of=("self",))
        .select_related("department", "ticket", "acted_by")
        .get(pk=notification.pk)
    )


def _record(item: Notification, user: User, body: str, change: list | None = None) -> None:
    changes = {"department": item.department.slug, "queue item": item.pk}
    if change:
        changes["queue status"] = change
    timeline_record(
        ticket=item.ticket,
        kind=TimelineEntry.Kind.DEPARTMENT,
        author=user,
        body=body,
        changes=changes,
    )


@transaction.atomic
def notification_acknowledge(*, notification: Notification, user: User) -> Notification:
    """Take a new item: it becomes ``user``'s. Taking one already taken by someone else is
    refused, saying by whom; taking one's own again changes nothing."""
    item = _locked(notification)
    if item.status != Status.NEW:
        if item.acted_by_id == user.pk:
            return item
        taken = str(item.acted_by) if item.acted_by else "someone"
        raise ValidationError(
            {"status": f"Already {item.get_status_display().lower()} by {taken}."}
        )
    item.status = Status.ACKNOWLEDGED
    item.acted_by = user
    item.acted_at = timezone.now()
    item.save(update_fields=["status", "acted_by", "acted_at"])
    _record(item, user, f"{item.department.name} took it on.", [Status.NEW, Status.ACKNOWLEDGED])
    return item


@transaction.atomic
def notifications_acknowledge(*, notifications: QuerySet[Notification], user: User) -> int:
    """Take every still-new item of ``notifications`` (which the caller may see); how many."""
    count = 0
    ids = list(notifications.filter(status=Status.NEW).order_by("pk").values_list("pk", flat=True))
    for item in Notification.objects.filter(pk__in=ids).order_by("pk"):
        try:
            notification_acknowledge(notification=item, user=user)
        except ValidationError:
            continue  # taken by someone else meanwhile
        count += 1
    return count


@transaction.atomic
def notification_respond(
    *, notification: Notification, user: User, body: str, done: bool = False
) -> Notification:
    """Answer on the ticket for the department (a decision, a fix, a tracking number); a new
    item is acknowledged by answering it. With ``done`` the item is completed too."""
    if not body.strip():
        raise ValidationError({"body": "Write the response."})
    item = _locked(notification)
    if done:
        _check_may_finish(item, user, field="done")
    if item.status == Status.NEW:
        item = notification_acknowledge(notification=item, user=user)
    item.responses += 1
    item.save(update_fields=["responses"])
    timeline_record(
        ticket=item.ticket,
        kind=TimelineEntry.Kind.RESPONSE,
        author=user,
        body=body.strip(),
        changes={"department": item.department.slug, "queue item": item.pk},
    )
    if done:
        item = notification_complete(notification=item, user=user)
    return item


@transaction.atomic
def notification_complete(*, notification: Notification, user: User) -> Notification:
    """Mark the item done (acknowledging it on the way if it was new)."""
    item = _locked(notification)
    if item.status == Status.DONE:
        return item
    _check_may_finish(item, user, field="status")
    previous = item.status
    item.status = Status.DONE
    item.acted_by = item.acted_by or user
    item.acted_at = item.acted_at or timezone.now()
    item.done_at = timezone.now()
    item.save(update_fields=["status", "acted_by", "acted_at", "done_at"])
    _record(item, user, f"{item.department.name} finished with it.", [previous, Status.DONE])
    return item


def _check_may_finish(item: Notification, user: User, *, field: str) -> None:
    if not user_may_finish(user, item):
        raise ValidationError(
            {field: f"{item.acted_by} took this on: only they or a lead finish it."}
        )


def response_due_at(*, department: Department, created_at: datetime) -> datetime:
    return add_working_hours(created_at, department.response_target_hours)


# --- emails to members ------------------------------------------------------------------------


def _item_entry(item: Notification) -> dict:
    """What an email says of one queue item (templates/email/_queue_item.txt)."""
    description = item.ticket.description.strip()
    return {
        "item": item,
        "ticket": item.ticket,
        # What the customer said, so the email can be acted on before the page is opened.
        "description": Truncator(description).chars(EMAIL_DESCRIPTION_CHARS, truncate=" [...]"),
        "link": site_link(reverse("queue-item", args=[item.pk])),
    }


# An email quotes a long description up to this many characters; the page has the rest.
EMAIL_DESCRIPTION_CHARS = 2000


def notification_alert_emails(
    *, notification: Notification, alerted: list[tuple[int, str]]
) -> list[EmailDelivery]:
    """The email about a new item to each of ``alerted`` (the ids and addresses of its
    department's active members who asked for an email per new item), not yet stored:
    routing stores those of one event together (``deliveries.staff_emails.staff_email_row``)."""
    if not alerted:
        return []
    subject, body = email_text("queue_item", {"entry": _item_entry(notification)})
    return [
        row
        for row in (
            staff_email_row(
                key=f"notification:{notification.pk}:user:{user_id}",
                recipient=email,
                subject=subject,
                body=body,
                ticket=notification.ticket,
            )
            for user_id, email in alerted
        )
        if row is not None
    ]


def queues_escalate(*, now=None) -> int:
    """Mark every new item past its response target as escalated, once, and tell the
    department's leads by email and on the ticket's timeline. Returns how many. An item whose
    ticket is resolved or closed is not escalated: its target stopped when the ticket was."""
    now = now or timezone.now()
    due = (
        Notification.objects.filter(status=Status.NEW, escalated_at__isnull=True, due_at__lte=now)
        .exclude(ticket__status__in=Ticket.DONE_STATUSES)
        .order_by("pk")
    )
    count = 0
    for item_id in due.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            item = (
                Notification.objects.select_for_update(skip_locked=True)
                .select_related("department", "ticket__customer")
                .filter(pk=item_id, status=Status.NEW, escalated_at__isnull=True)
                .first()
            )
            if item is None:
                continue
            item.escalated_at = now
            item.save(update_fields=["escalated_at"])
            target = item.department.response_target_hours
            people = escalation_recipients(item.department)
            names = ", ".join(str(user) for user in people) or "nobody (no lead, no admin)"
            timeline_record(
                ticket=item.ticket,
                kind=TimelineEntry.Kind.DEPARTMENT,
                body=f"Not taken on by {item.department.name} within its {target} working "
                f"hours: escalated to {names}.",
                changes={"department": item.department.slug, "queue item": item.pk},
            )
            subject, body = email_text(
                "queue_item_escalated", {"entry": _item_entry(item), "target": target}
            )
            for person in people:
                staff_email(
                    key=f"escalation:{item.pk}:user:{person.pk}",
                    recipient=person.email,
                    subject=subject,
                    body=body,
                    ticket=item.ticket,
                )
            count += 1
    return count


def queues_send_digests(*, now=None) -> int:
    """Once a day, from ``QUEUE_DIGEST_HOUR``: each member who chose the digest gets the items
    still new in their departments. Returns how many digests were stored."""
    now = timezone.localtime(now or timezone.now())
    if now.hour < settings.QUEUE_DIGEST_HOUR:
        return 0
    today = now.date()
    members = Membership.objects.filter(
        email_preference=Membership.EmailPreference.DIGEST, user__is_active=True
    ).select_related("user", "department")
    by_user: dict[int, list[Membership]] = {}
    for member in members:
        by_user.setdefault(member.user_id, []).append(member)
    # The sweep runs every few minutes: those who have today's digest cost no query more.
    prefix = f"digest:{today.isoformat()}:user:"
    done = keys_stored(prefix)
    sent = 0
    for memberships in by_user.values():
        user = memberships[0].user
        if f"{prefix}{user.pk}" in done:
            continue
        waiting = Notification.objects.filter(
            department__in=[m.department for m in memberships], status=Status.NEW
        )
        total = waiting.count()
        if not total:
            continue
        # Oldest first: the items waiting longest are the ones a digest must not bury.
        items = list(
            waiting.select_related("department", "ticket__customer").order_by("created_at")[
                :DIGEST_ITEMS
            ]
        )
        subject, body = email_text(
            "queue_digest",
            {
                "entries": [_item_entry(item) for item in items],
                "total": total,
                "more": total - len(items),
                "queues_link": site_link(reverse("queues")),
            },
        )
        sent += staff_email(
            key=f"{prefix}{user.pk}", recipient=user.email, subject=subject, body=body
        )
    return sent
