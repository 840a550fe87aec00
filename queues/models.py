"""What routing makes for people to act on: department queue items and salesperson follow-ups."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.db import models

from accounts.models import Customer, Department
from routing.models.rules import Rule
from tickets.models import Ticket, TicketEvent

if TYPE_CHECKING:
    from accounts.selectors import CustomerStanding


class Notification(models.Model):
    """An item in a department's queue."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        DONE = "done", "Done"

    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="notifications"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notifications")
    rule = models.ForeignKey(Rule, null=True, on_delete=models.SET_NULL, related_name="+")
    event = models.ForeignKey(TicketEvent, on_delete=models.CASCADE, related_name="+")
    message = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="Who acknowledged the item: it is theirs from then on.",
    )
    acted_at = models.DateTimeField(null=True, blank=True, help_text="When it was acknowledged.")
    done_at = models.DateTimeField(null=True, blank=True)
    responses = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The department's response target: acknowledge before then.",
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Not stored: set by queues.selectors.ticket_who_was_told for the reader.
    workable: bool

    class Meta:
        # Moved here from routing with its table, which keeps its name (no data is copied).
        db_table = "routing_notification"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "rule", "department"], name="notification_once_per_event_rule"
            ),
        ]
        indexes = [
            models.Index(fields=["department", "status", "-created_at"], name="notif_queue_idx"),
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="new", escalated_at__isnull=True),
                name="notif_escalation_idx",
            ),
            # Reports by when items arrived (written in time order: BRIN is enough).
            BrinIndex(fields=["created_at"], name="notif_created_brin"),
        ]

    def __str__(self) -> str:
        return f"{self.department}: T-{self.ticket_id}"


class FollowUpTask(models.Model):
    """A task for the customer's owning salesperson to check the customer was satisfied."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    class Outcome(models.TextChoices):
        SATISFIED = "satisfied", "Reached and satisfied"
        NOT_SATISFIED = "not_satisfied", "Reached and not satisfied"
        NO_ANSWER = "no_answer", "No answer"
        UPSELL = "upsell", "Up-sell opportunity"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="followups")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="followups")
    salesperson = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="followups"
    )
    reason = models.CharField(max_length=200, blank=True)
    due_on = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    outcome_notes = models.TextField(blank=True)
    upsell_value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Estimated value of the up-sell opportunity.",
    )
    attempts = models.PositiveIntegerField(
        default=0, help_text="Calls recorded without an answer (each reschedules the task)."
    )
    reopened_ticket = models.ForeignKey(
        Ticket,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The ticket reopened, or opened, because the customer was not satisfied.",
    )
    reminded_on = models.DateField(
        null=True, blank=True, help_text="The last day the salesperson was reminded it is overdue."
    )
    rule = models.ForeignKey(Rule, null=True, on_delete=models.SET_NULL, related_name="+")
    event = models.ForeignKey(TicketEvent, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    # Not stored: set by queues.selectors.followups_board for the board's cards.
    standing: "CustomerStanding"
    contract: str
    story: list

    class Meta:
        # Moved here from routing with its table, which keeps its name (no data is copied).
        db_table = "routing_followuptask"
        ordering = ["due_on", "id"]
        verbose_name = "follow-up task"
        verbose_name_plural = "follow-up tasks"
        constraints = [
            models.UniqueConstraint(fields=["event", "rule"], name="followup_once_per_event_rule"),
        ]
        indexes = [
            models.Index(fields=["salesperson", "status", "due_on"], name="followup_idx"),
            # Reports by when follow-ups were made: rows are written in time order, so a BRIN
            # index (a few kB) finds a period's as well as a B-tree would.
            BrinIndex(fields=["created_at"], name="followup_created_brin"),
        ]

    def __str__(self) -> str:
        return f"Follow up T-{self.ticket_id} by {self.due_on}"
