"""Writes on surveys: scheduled when a ticket is resolved, cancelled when it is reopened, sent
when their time comes (or not, and why), answered by the customer.

Sending follows the usual throttles of survey tools: at most one survey per contact within
SURVEY_CONTACT_INTERVAL_DAYS, none to an address that bounces or cannot answer (no-reply), none
to customers marked internal or partner, none for a ticket reopened meanwhile. An answer is a
ticket event (``survey.answered``) carrying the score, its category and the reason, for rules to
act on (the starter rules make a detractor's answer the salesperson's follow-up).
"""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Contact
from accounts.portal_links import portal_url
from conversations.addressing import new_message_id, reply_address, subject_for
from conversations.replies import from_address, mailbox_for_ticket
from deliveries.models import EmailDelivery
from deliveries.tasks import send_email_delivery
from helpdesk.calendar import add_working_hours
from helpdesk.queue import enqueue_on_commit
from surveys.links import survey_url
from surveys.models import Survey
from tickets.models import SurveyCategory, Ticket, TicketEvent, TimelineEntry
from tickets.outbox import event_record
from tickets.services import timeline_record

Status = Survey.Status
COMMENT_MAX_LENGTH = 2000
# Addresses nobody reads answers at.
NO_REPLY = re.compile(
    r"^(no-?reply|do-?not-?reply|noreply-[^@]*|mailer-daemon|postmaster|bounces?)@",
    re.IGNORECASE,
)
PROBLEM_KINDS = (Ticket.Kind.BUG, Ticket.Kind.RMA)


def surveys_on_event(event: TicketEvent) -> None:
    """Outbox subscriber: a resolution schedules a survey of the ticket's contact (once per
    resolution); a reopening cancels the ticket's surveys not sent yet."""
    change = event.status_change()
    if change is None:
        return
    old, new = change
    done = set(Ticket.DONE_STATUSES)
    if new in done and old not in done:
        survey_schedule(event=event)
    elif event.reopened():
        Survey.objects.filter(ticket_id=event.ticket_id, status=Status.SCHEDULED).update(
            status=Status.CANCELLED,
            reason="The ticket was reopened before the survey went out.",
        )


def survey_schedule(*, event: TicketEvent) -> Survey | None:
    """The survey asking about the resolution ``event`` recorded (None without a contact)."""
    contact_id = (event.snapshot or {}).get("contact_id")
    if not contact_id:
        return None
    survey, _ = Survey.objects.get_or_create(
        resolution_event=event,
        defaults={
            "ticket_id": event.ticket_id,
            "contact_id": contact_id,
            "send_after": add_working_hours(event.created_at, settings.SURVEY_DELAY_WORKING_HOURS),
        },
    )
    return survey


def _why_not(survey: Survey, contact: Contact | None, now: datetime) -> tuple[str, str] | None:
    """(status, reason) when the survey must not go out; None when it may."""
    ticket = survey.ticket
    if ticket.status not in Ticket.DONE_STATUSES:
        return Status.CANCELLED, "The ticket was reopened before the survey went out."
    if contact is None or not contact.email:
        return Status.SKIPPED, "The contact has no email address."
    if contact.email_bouncing_since is not None:
        return Status.SKIPPED, f"The contact's address bounces: {contact.email_bounce_reason}"
    if NO_REPLY.match(contact.email):
        return Status.SKIPPED, f"{contact.email} is an address nobody answers from."
    if contact.customer.is_internal:
        return Status.SKIPPED, f"{contact.customer} is internal or a partner."
    since = now - timedelta(days=settings.SURVEY_CONTACT_INTERVAL_DAYS)
    recent = (
        Survey.objects.filter(contact=contact, sent_at__gte=since)
        .exclude(pk=survey.pk)
        .order_by("-sent_at")
        .first()
    )
    if recent is not None:
        return (
            Status.SKIPPED,
            f"{contact.name} was asked on {timezone.localdate(recent.sent_at).isoformat()} "
            f"(T-{recent.ticket_id}): at most one survey every "
            f"{settings.SURVEY_CONTACT_INTERVAL_DAYS} days.",
        )
    return None


def surveys_send_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Send the surveys whose time has come, each in its own transaction; how many went out."""
    now = now or timezone.now()
    due = list(
        Survey.objects.filter(status=Status.SCHEDULED, send_after__lte=now)
        .order_by("send_after", "id")
        .values_list("id", flat=True)[:limit]
    )
    return sum(1 for survey_id in due if _send_one(survey_id, now))


@transaction.atomic
def _send_one(survey_id: int, now: datetime) -> bool:
    survey = (
        Survey.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("ticket")
        .filter(pk=survey_id, status=Status.SCHEDULED)
        .first()
    )
    if survey is None:  # sent or cancelled meanwhile, or being sent by another worker
        return False
    # The contact's row is locked, so that two surveys for one contact, sent at once by two
    # workers, do not both pass the "one every 30 days" check.
    contact = None
    if survey.contact_id is not None:
        contact = (
            Contact.objects.select_for_update(of=("self",))
            .select_related("customer")
            .filter(pk=survey.contact_id)
            .first()
        )
    refusal = _why_not(survey, contact, now)
    if refusal is not None or contact is None:
        survey.status, survey.reason = (
            refusal[0] if refusal else Status.SKIPPED,
            (refusal[1] if refusal else "No contact.")[:300],
        )
        survey.save(update_fields=["status", "reason"])
        return False
    delivery = _survey_email(survey, contact)
    survey.status, survey.sent_at, survey.delivery_id = Status.SENT, now, delivery.pk
    survey.save(update_fields=["status", "sent_at", "delivery_id"])
    # Staff see that it was asked, never the link: a link on the timeline would let anyone
    # who reads the ticket answer in the customer's name.
    timeline_record(
        ticket=survey.ticket,
        kind=TimelineEntry.Kind.SURVEY,
        author=None,
        body=f"Satisfaction survey sent to {contact.name} <{contact.email}>.",
        changes={"survey": survey.pk},
    )
    enqueue_on_commit(send_email_delivery, delivery.pk)
    return True


def _survey_email(survey: Survey, contact: Contact) -> EmailDelivery:
    ticket = survey.ticket
    from_header, base = from_address(mailbox_for_ticket(ticket))
    message_id = new_message_id(ticket_id=ticket.pk)
    url = survey_url(survey)  # one link, signed once, for all eleven scores
    context = {
        "ticket": ticket,
        "contact": contact,
        "scores": [(score, f"{url}?score={score}") for score in range(11)],
        "survey_url": url,
        # As every email to a contact, the way to their request on the web.
        "portal_url": portal_url(contact, ticket_id=ticket.pk),
        "days": settings.SURVEY_ANSWER_DAYS,
    }
    return EmailDelivery.objects.create(
        key=f"survey:{survey.pk}",
        ticket=ticket,
        recipient=contact.email,
        subject=subject_for(
            ticket_reference=ticket.reference, subject=f"How did we do? {ticket.subject}"
        )[:250],
        body=render_to_string("email/survey.txt", context),
        html_body=render_to_string("email/survey.html", context),
        from_email=from_header,
        headers={
            "Message-ID": f"<{message_id}>",
            "Reply-To": reply_address(
                mailbox_address=base, ticket_id=ticket.pk, contact_id=contact.pk
            ),
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )


def _clean_score(score) -> int:
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = -1
    if not 0 <= value <= 10:
        raise ValidationError({"score": "Choose a score from 0 to 10."})
    return value


def survey_may_answer(survey: Survey, *, now: datetime | None = None) -> str:
    """Why the survey cannot be answered now ("" when it can)."""
    now = now or timezone.now()
    if survey.status not in (Status.SENT, Status.ANSWERED) or survey.sent_at is None:
        return "This survey is not open."
    if survey.answered_at is None:
        if now > survey.sent_at + timedelta(days=settings.SURVEY_ANSWER_DAYS):
            return "This survey has closed."
    elif now > survey.answered_at + timedelta(days=settings.SURVEY_CHANGE_DAYS):
        return "Your answer can no longer be changed."
    return ""


@transaction.atomic
def survey_answer(*, survey: Survey, score, comment: str = "") -> Survey:
    """Record the customer's answer (or a change to it): on the survey, on the ticket's
    timeline, and as a ``survey.answered`` event. Answering the same again changes nothing."""
    value = _clean_score(score)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {"comment": f"Keep the reason under {COMMENT_MAX_LENGTH:,} characters."}
        )
    survey = (
        Survey.objects.select_for_update(of=("self",))
        .select_related("ticket", "contact")
        .get(pk=survey.pk)
    )
    now = timezone.now()
    refusal = survey_may_answer(survey, now=now)
    if refusal:
        raise ValidationError({"score": refusal})
    if survey.score == value and survey.comment == comment:
        return survey
    is_change = survey.answered_at is not None
    survey.score, survey.comment = value, comment
    survey.status = Status.ANSWERED
    survey.answered_at = survey.answered_at or now
    survey.changed_at = now
    survey.save(update_fields=["score", "comment", "status", "answered_at", "changed_at"])
    category = SurveyCategory.of(value)
    ticket = survey.ticket
    who = survey.contact.name if survey.contact else "The customer"
    said = f"{who} {'changed their answer to' if is_change else 'answered'} {value}/10"
    timeline_record(
        ticket=ticket,
        kind=TimelineEntry.Kind.SURVEY,
        author=None,
        body=f"{said} ({category.label}).\n{comment}" if comment else f"{said} ({category.label}).",
        changes={"survey": survey.pk, "score": value},
    )
    open_problems = Ticket.objects.filter(
        customer_id=ticket.customer_id, kind__in=PROBLEM_KINDS, status__in=Ticket.OPEN_STATUSES
    ).count()
    event_record(
        ticket=ticket,
        type=TicketEvent.Type.SURVEY_ANSWERED,
        changes={
            "survey": {
                "id": survey.pk,
                "score": value,
                "category": str(category),
                "reason": comment,
                "customer_open_problems": open_problems,
                "is_change": is_change,
            }
        },
    )
    return survey
