"""What routing did with each event: the run, the rules that fired, timers that went off."""

from django.contrib.postgres.indexes import BrinIndex
from django.db import models

from routing.models.rules import Rule, RuleVersion
from tickets.models import Ticket, TicketEvent


class RoutingRun(models.Model):
    """The one evaluation of the rule set for an event. Its uniqueness makes routing once-only.

    ``facts`` are the values the rules saw; ``evaluations`` lists each rule evaluated as
    ``[rule id, version, matched, held]``, where ``held`` says for each of the version's
    conditions whether it held (None: not needed to decide), followed by the facts earlier
    rules' actions had changed by then (priority, assignee, department, tags), if any.
    Together with the versions they explain every decision.
    """

    event = models.OneToOneField(TicketEvent, on_delete=models.CASCADE, related_name="routing_run")
    rules_evaluated = models.PositiveIntegerField(default=0)
    rules_fired = models.PositiveIntegerField(default=0)
    skipped_reason = models.CharField(max_length=200, blank=True)
    facts = models.JSONField(default=dict)
    evaluations = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "routing run"
        verbose_name_plural = "routing runs"
        # Rows are only ever added, in time order: a BRIN index finds the last minutes' runs
        # (monitoring reads them every scrape) for a few pages of index at any size.
        indexes = [BrinIndex(fields=["created_at"], name="routingrun_created_brin")]

    def __str__(self) -> str:
        return f"Routing of {self.event}"


class RuleMatch(models.Model):
    """A rule that fired for an event: which conditions held and what each action did."""

    event = models.ForeignKey(TicketEvent, on_delete=models.CASCADE, related_name="rule_matches")
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="matches")
    rule_version = models.ForeignKey(
        RuleVersion, null=True, on_delete=models.PROTECT, related_name="matches"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="rule_matches")
    conditions = models.JSONField(
        default=list, help_text="Each condition with the actual value and whether it held."
    )
    actions = models.JSONField(default=list, help_text="Each action and its outcome.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "rule match"
        verbose_name_plural = "rule matches"
        constraints = [
            models.UniqueConstraint(fields=["event", "rule"], name="rulematch_once_per_event"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} on {self.event}"


class TimedFiring(models.Model):
    """A time-based rule went off for a ticket; unique per occurrence of its condition, so it
    goes off once for each spell in a status or each overdue follow-up, not on every sweep."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="timed_firings")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="timed_firings")
    occurrence = models.CharField(
        max_length=200,
        blank=True,
        help_text="What started the clock (a status change, a follow-up); empty: once per ticket.",
    )
    event = models.OneToOneField(TicketEvent, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "timed firing"
        verbose_name_plural = "timed firings"
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "ticket", "occurrence"], name="timedfiring_once_per_occurrence"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} on T-{self.ticket_id}"
