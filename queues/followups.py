"""Writes on salespeople's follow-ups: the outcome of the call, back on the ticket's timeline,
and a daily reminder of those overdue."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from deliveries.email_text import email_text
from deliveries.staff_emails import site_link, staff_email
from helpdesk.calendar import add_working_days
from queues.models import FollowUpTask
from tickets.models import Ticket, TicketEvent, TimelineEntry
from tickets.services import ticket_create, ticket_link, ticket_update, timeline_record

Outcome = FollowUpTask.Outcome
REOPEN, NEW_TICKET = "reopen", "new_ticket"
# How far ahead an unanswered call may be tried again. A date years away (9999-12-31 was taken)
# is a typo, and the follow-up would silently leave the salesperson's board for good.
RESCHEDULE_MAX_DAYS = 366


@transaction.atomic
def followup_record_outcome(
    *,
    task: FollowUpTask,
    user: User,
    outcome: str,
    notes: str = "",
    upsell_value: Decimal | None = None,
    reschedule_on=None,
    not_satisfied_action: str = REOPEN,
) -> FollowUpTask:
    """Record how the follow-up call went.

    - satisfied: done.
    - not satisfied (a reason is needed): the ticket is reopened, or when ``not_satisfied_action``
      is ``new_ticket`` (or the ticket cannot be reopened) a linked ticket is opened with the
      reason; done.
    - no answer: the task stays open, due again on ``reschedule_on`` (next working day by
      default).
    - up-sell (a note is needed, an estimated value may be given): done.
    """
    task = (
        FollowUpTask.objects.select_for_update(of=("self",))
        .select_related("ticket", "customer")
        .get(pk=task.pk)
    )
    if task.status != FollowUpTask.Status.OPEN:
        raise ValidationError({"outcome": "This follow-up is already closed."})
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "Choose an outcome."})
    notes = notes.strip()
    if outcome in (Outcome.NOT_SATISFIED, Outcome.UPSELL) and not notes:
        if outcome == Outcome.NOT_SATISFIED:
            raise ValidationError({"notes": "Say why the customer is not satisfied."})
        raise ValidationError({"notes": "Say what the opportunity is."})
    if upsell_value is not None and (outcome != Outcome.UPSELL or upsell_value < 0):
        raise ValidationError({"upsell_value": "An estimated value goes with an up-sell."})
    today = timezone.localdate()
    lines = [f"Follow-up by {user}: {Outcome(outcome).label}."]
    if outcome == Outcome.NO_ANSWER:
        due = reschedule_on or add_working_days(today, 1)
        if due < today:
            raise ValidationError({"reschedule_on": "Reschedule to today or later."})
        latest = today + timedelta(days=RESCHEDULE_MAX_DAYS)
        if due > latest:
            message = f"Reschedule within a year, by {latest.isoformat()}."
            raise ValidationError({"reschedule_on": message})
        task.attempts += 1
        task.due_on = due
        task.reminded_on = None
        lines.append(f"Trying again on {due.isoformat()}.")
    else:
        task.status = FollowUpTask.Status.DONE
        task.outcome = outcome
        task.outcome_notes = notes
        task.completed_at = timezone.now()
        if outcome == Outcome.UPSELL:
            task.upsell_value = upsell_value
            if upsell_value is not None:
                lines.append(f"Estimated value: {upsell_value:.2f}.")
    task.save()
    timeline_record(
        ticket=task.ticket,
        kind=TimelineEntry.Kind.FOLLOWUP,
        author=user,
        body="\n".join([*lines, notes] if notes else lines),
        changes={"follow-up": task.pk, "outcome": outcome},
    )
    if outcome == Outcome.NOT_SATISFIED:
        task.reopened_ticket = _reopen_or_open(task, user, notes, not_satisfied_action)
        task.save(update_fields=["reopened_ticket"])
    return task


def is_resolution(event: TicketEvent) -> bool:
    """Whether ``event`` resolved or closed its ticket (a status change to a done status)."""
    return event.type == TicketEvent.Type.STATUS_CHANGED and (
        (event.snapshot or {}).get("status") in Ticket.DONE_STATUSES
    )


def resolution_undone(event: TicketEvent, ticket: Ticket) -> bool:
    """Whether the resolution ``event`` recorded has been followed by another status change:
    a follow-up to confirm it would ask about something that no longer stands."""
    return bool(ticket.status_changed_at and ticket.status_changed_at > event.created_at)


def followups_on_event(event: TicketEvent) -> None:
    """Outbox subscriber: a ticket reopened cancels its open follow-ups that were to confirm a
    resolution before it (made by routing that resolution's event); the next resolution makes
    a new one, so the salesperson is not asked twice. Those made for another reason (an
    unhappy survey answer, say) stay. Once: only open ones are changed, each with a line on
    the timeline. (A resolution routed after its reopening makes no follow-up at all:
    ``queues.actions``.)"""
    if not event.reopened():
        return
    # No savepoint: in a batch of events the outbox's transaction holds this too. The ticket
    # is locked first, in the order a salesperson's outcome takes (its ticket, then the task).
    with transaction.atomic(savepoint=False):
        list(
            Ticket.objects.select_for_update(of=("self",))
            .filter(pk=event.ticket_id)
            .values_list("pk", flat=True)
        )
        tasks = list(
            FollowUpTask.objects.select_for_update(of=("self",))
            .select_related("salesperson", "ticket")
            .filter(
                ticket_id=event.ticket_id,
                status=FollowUpTask.Status.OPEN,
                # Made by routing a resolution written before this reopening: the ids of one
                # ticket's events follow its row lock, whenever each was routed.
                event__type=TicketEvent.Type.STATUS_CHANGED,
                event__snapshot__status__in=list(Ticket.DONE_STATUSES),
                event_id__lt=event.pk,
            )
        )
        now = timezone.now()
        for task in tasks:
            task.status = FollowUpTask.Status.CANCELLED
            task.completed_at = now
            task.outcome_notes = "Cancelled: the ticket was reopened before the follow-up."
            task.save(update_fields=["status", "completed_at", "outcome_notes"])
            timeline_record(
                ticket=task.ticket,
                kind=TimelineEntry.Kind.FOLLOWUP,
                body=f"Follow-up for {task.salesperson} cancelled: the ticket was reopened. "
                "A rule that follows up resolutions asks again at the next one.",
                changes={"follow-up": task.pk, "follow-up status": FollowUpTask.Status.CANCELLED},
            )


def _reopen_or_open(task: FollowUpTask, user: User, reason: str, action: str) -> Ticket:
    ticket = task.ticket
    if action == REOPEN and ticket.status in Ticket.DONE_STATUSES:
        return ticket_update(
            ticket=ticket,
            actor=user,
            status=Ticket.Status.OPEN,
            reason=f"Reopened after the follow-up: {reason}",
        )
    opened = ticket_create(
        customer=ticket.customer,
        contact=ticket.contact,
        kind=ticket.kind,
        channel=Ticket.Channel.PHONE,
        subject=f"Not satisfied: {ticket.subject}"[:200],
        description=reason,
        product=ticket.product,
        created_by=user,
    )
    ticket_link(ticket=opened, other=ticket, actor=user)
    return opened


def followups_remind(*, now=None) -> int:
    """From ``QUEUE_DIGEST_HOUR`` each day, remind each salesperson once of all their overdue
    follow-ups, in one email. Returns how many reminders were stored."""
    now = timezone.localtime(now or timezone.now())
    if now.hour < settings.QUEUE_DIGEST_HOUR:
        return 0
    today = now.date()
    overdue = (
        FollowUpTask.objects.filter(status=FollowUpTask.Status.OPEN, due_on__lt=today)
        .exclude(reminded_on=today)
        .select_related("ticket", "customer", "salesperson")
        .order_by("salesperson_id", "due_on", "pk")
    )
    by_salesperson: dict[int, list[FollowUpTask]] = {}
    for task in overdue:
        by_salesperson.setdefault(task.salesperson_id, []).append(task)
    link = site_link(reverse("followups"))
    sent = 0
    for tasks in by_salesperson.values():
        salesperson = tasks[0].salesperson
        subject, body = email_text("followups_overdue", {"tasks": tasks, "link": link})
        sent += staff_email(
            key=f"followup-reminder:{salesperson.pk}:{today.isoformat()}",
            recipient=salesperson.email,
            subject=subject,
            body=body,
        )
        FollowUpTask.objects.filter(pk__in=[task.pk for task in tasks]).update(reminded_on=today)
    return sent
