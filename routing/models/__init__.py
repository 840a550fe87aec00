"""Routing's models, split by what they hold: rules with their history, and routing runs."""

from routing.models.rules import Rule, RuleAuditEntry, RuleSetRevision, RuleVersion
from routing.models.runs import RoutingRun, RuleMatch, TimedFiring

__all__ = [
    "RoutingRun",
    "Rule",
    "RuleAuditEntry",
    "RuleMatch",
    "RuleSetRevision",
    "RuleVersion",
    "TimedFiring",
]
