"""Reads for routing: the rules to evaluate, queues, follow-ups and explanations."""

from django.db.models import Count, Q, QuerySet

from accounts.models import Department
from routing.models import FollowUpTask, Notification, Rule, RuleMatch


def rules_list() -> QuerySet[Rule]:
    """Current (not archived) rules in evaluation order."""
    return Rule.objects.filter(archived_at__isnull=True).order_by("order", "id")


def notifications_list() -> QuerySet[Notification]:
    return Notification.objects.select_related(
        "department", "ticket", "ticket__customer", "rule", "event", "acted_by"
    )


def followups_list() -> QuerySet[FollowUpTask]:
    return FollowUpTask.objects.select_related("ticket", "customer", "salesperson", "rule")


def rule_matches_for_ticket(*, ticket_id: int) -> QuerySet[RuleMatch]:
    return RuleMatch.objects.filter(ticket_id=ticket_id).select_related("rule", "event")


def queue_counts() -> list[dict]:
    """Each department with its number of new notifications, in one query."""
    return list(
        Department.objects.annotate(
            new_count=Count(
                "notifications", filter=Q(notifications__status=Notification.Status.NEW)
            )
        )
        .order_by("name")
        .values("slug", "name", "new_count")
    )
