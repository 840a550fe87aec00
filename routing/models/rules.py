"""Routing rules, their versions, and the audit trail of what happened to them."""

from django.conf import settings
from django.db import models

from helpdesk.revisions import Revision


class Rule(models.Model):
    """An admin-editable routing rule: on ``trigger``, if ``conditions`` hold, do ``actions``.

    ``conditions`` is ``{"all": [...], "any": [...]}`` of ``{"field", "operator", "value"}``;
    ``actions`` is a list of ``{"type", ...}``. ``routing.engine`` defines and validates both.
    Every change goes through ``routing.services`` and makes a new ``RuleVersion``. Rules are
    archived, never deleted, so the explanations of past routing keep their rule.
    """

    class Trigger(models.TextChoices):
        CREATED = "ticket.created", "Ticket created"
        UPDATED = "ticket.updated", "Ticket updated"
        STATUS_CHANGED = "ticket.status_changed", "Status changed"
        NOTE_ADDED = "ticket.note_added", "Note added"
        MESSAGE_RECEIVED = "ticket.message_received", "Message received from the customer"
        SURVEY_ANSWERED = "survey.answered", "Satisfaction survey answered"
        TIME = "time", "Time-based (checked periodically)"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    trigger = models.CharField(max_length=32, choices=Trigger.choices)
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list)
    stop_processing = models.BooleanField(
        default=False, help_text="When this rule fires, later rules are not evaluated."
    )
    version = models.PositiveIntegerField(default=0, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = "rule"
        verbose_name_plural = "rules"
        indexes = [models.Index(fields=["trigger", "is_active", "order"], name="rule_lookup_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(archived_at__isnull=True),
                name="rule_name_unique_while_current",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    # The definition (trigger, conditions, actions) is validated by routing.services when it
    # changes or the rule is switched on, not here: a rule naming a department deleted since must
    # still be possible to switch off, archive or reorder.


# What a version records: what the rule is and does. Where it stands in the order and whether
# it is switched on are the rule's state, not its definition: changing them is recorded in the
# audit trail (``RuleAuditEntry``), so a move up the list does not make a new version.
VERSIONED_FIELDS = (
    "name",
    "description",
    "trigger",
    "conditions",
    "actions",
    "stop_processing",
)
# Everything an admin can edit, and what an export holds.
EDITABLE_FIELDS = (
    "name",
    "description",
    "is_active",
    "order",
    "trigger",
    "conditions",
    "actions",
    "stop_processing",
)


class RuleVersion(models.Model):
    """A rule as it was after one edit: who made it, when, and what it changed."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    changed_fields = models.JSONField(default=list)
    summary = models.CharField(max_length=200)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rule", "-number"]
        verbose_name = "rule version"
        verbose_name_plural = "rule versions"
        constraints = [
            models.UniqueConstraint(fields=["rule", "number"], name="ruleversion_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} v{self.number}"


class RuleAuditEntry(models.Model):
    """Something done to a rule that is not an edit of its definition: moved in the order,
    switched on or off, archived, or imported. Who did it, when, and in words what happened."""

    class Action(models.TextChoices):
        REORDERED = "reordered", "Moved"
        ACTIVATED = "activated", "Switched on"
        DEACTIVATED = "deactivated", "Switched off"
        ARCHIVED = "archived", "Archived"
        IMPORTED = "imported", "Imported"

    # Rules are archived, not deleted (the admin's delete archives, and says so). A rule that
    # never routed anything may still be deleted in code or the shell: its trail goes with it,
    # rather than a dangling reference the database refuses at commit.
    rule = models.ForeignKey(
        Rule,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="audit_entries",
        help_text="Empty for an import, which concerns the whole rule set.",
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    detail = models.CharField(max_length=300, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "rule audit entry"
        verbose_name_plural = "rule audit entries"
        indexes = [models.Index(fields=["rule", "-created_at"], name="ruleaudit_rule_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.rule or 'rule set'}"


class RuleSetRevision(Revision):
    """Which revision of the rule set is current (``helpdesk.revisions``): changed in the
    transaction of every change to a rule (``routing.services.rule_set_revision_bump``).
    Workers keep the rule set compiled under it (``engine/ruleset.py``)."""

    class Meta:
        verbose_name = "rule set revision"
        verbose_name_plural = "rule set revisions"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="rulesetrevision_single_row"),
        ]

    def __str__(self) -> str:
        return f"Rule set revision {self.number}"
