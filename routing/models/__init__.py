"""Routing's models, split by what they hold."""

from routing.models.deliveries import EmailDelivery, Webhook, WebhookAttempt, WebhookDelivery
from routing.models.queues import FollowUpTask, Notification
from routing.models.rules import Rule, RuleAuditEntry, RuleSetRevision, RuleVersion
from routing.models.runs import RoutingRun, RuleMatch, TimedFiring

__all__ = [
    "EmailDelivery",
    "FollowUpTask",
    "Notification",
    "RoutingRun",
    "Rule",
    "RuleAuditEntry",
    "RuleMatch",
    "RuleSetRevision",
    "RuleVersion",
    "TimedFiring",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]
