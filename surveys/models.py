"""Satisfaction surveys: one per resolution of a ticket with a contact, and its answer."""

from django.db import models

from accounts.models import Contact
from tickets.models import SurveyCategory, Ticket, TicketEvent


class Survey(models.Model):
    """ "How likely are you to recommend us to a friend or colleague?", asked of the ticket's
    contact a while after the ticket was resolved (or why it was not asked)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENT = "sent", "Sent, not answered"
        ANSWERED = "answered", "Answered"
        CANCELLED = "cancelled", "Cancelled (the ticket was reopened)"
        SKIPPED = "skipped", "Not sent"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="surveys")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="surveys"
    )
    # The resolution it asks about: one survey per resolution, however often the event comes.
    resolution_event = models.OneToOneField(TicketEvent, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    reason = models.CharField(
        max_length=300, blank=True, help_text="Why it was not sent, or was cancelled."
    )
    send_after = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    delivery_id = models.BigIntegerField(
        null=True, blank=True, help_text="The email that asked (deliveries.EmailDelivery)."
    )
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField("main reason for the score", blank=True)
    answered_at = models.DateTimeField(null=True, blank=True, help_text="The first answer.")
    changed_at = models.DateTimeField(null=True, blank=True, help_text="The latest answer.")
    created_at = models.DateTimeField(auto_now_add=True)

    # Not stored: set by surveys.selectors.customer_surveys for the reader.
    followups: list

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__lte=10),
                name="survey_score_0_to_10",
            ),
        ]
        indexes = [
            models.Index(
                fields=["send_after"],
                condition=models.Q(status="scheduled"),
                name="survey_due_idx",
            ),
            models.Index(fields=["contact", "sent_at"], name="survey_contact_sent_idx"),
            models.Index(fields=["answered_at"], name="survey_answered_idx"),
        ]

    def __str__(self) -> str:
        return f"Survey on T-{self.ticket_id} ({self.get_status_display()})"

    @property
    def category(self) -> str:
        return SurveyCategory.of(self.score) if self.score is not None else ""

    @property
    def category_label(self) -> str:
        return SurveyCategory(self.category).label if self.category else ""
