"""Who must hear: rules, the notifications and follow-ups they make, and why they fired."""

from django.conf import settings
from django.db import models

from accounts.models import Customer, Department
from tickets.models import Ticket, TicketEvent


class Rule(models.Model):
    """An admin-editable routing rule: on ``trigger``, if ``conditions`` hold, do ``actions``.

    ``conditions`` is ``{"all": [...], "any": [...]}`` of ``{"field", "operator", "value"}``;
    ``actions`` is a list of ``{"type", ...}``. ``routing.engine`` defines and validates both.
    """

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    trigger = models.CharField(max_length=32, choices=TicketEvent.Type.choices)
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list)
    stop_processing = models.BooleanField(
        default=False, help_text="When this rule fires, later rules are not evaluated."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        indexes = [models.Index(fields=["trigger", "is_active", "order"], name="rule_lookup_idx")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from routing.engine.validation import validate_rule_definition

        validate_rule_definition(conditions=self.conditions, actions=self.actions)


class RoutingRun(models.Model):
    """The one evaluation of the rule set for an event. Its uniqueness makes routing once-only."""

    event = models.OneToOneField(TicketEvent, on_delete=models.CASCADE, related_name="routing_run")
    rules_evaluated = models.PositiveIntegerField(default=0)
    rules_fired = models.PositiveIntegerField(default=0)
    skipped_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Routing of {self.event}"


class RuleMatch(models.Model):
    """A rule that fired for an event: which conditions held and what each action did."""

    event = models.ForeignKey(TicketEvent, on_delete=models.CASCADE, related_name="rule_matches")
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="matches")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="rule_matches")
    conditions = models.JSONField(
        default=list, help_text="Each condition with the actual value and whether it held."
    )
    actions = models.JSONField(default=list, help_text="Each action and its outcome.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "rule"], name="rulematch_once_per_event"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} on {self.event}"


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
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    acted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "rule", "department"], name="notification_once_per_event_rule"
            ),
        ]
        indexes = [
            models.Index(fields=["department", "status", "-created_at"], name="notif_queue_idx"),
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
    rule = models.ForeignKey(Rule, null=True, on_delete=models.SET_NULL, related_name="+")
    event = models.ForeignKey(TicketEvent, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "rule"], name="followup_once_per_event_rule"),
        ]
        indexes = [models.Index(fields=["salesperson", "status", "due_on"], name="followup_idx")]

    def __str__(self) -> str:
        return f"Follow up T-{self.ticket_id} by {self.due_on}"
