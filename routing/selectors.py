"""Reads for routing: the rules to evaluate, queues, follow-ups and explanations."""

import difflib
import json

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Department
from accounts.selectors import StandingBook, contract_state, user_is_admin
from routing.engine.conditions import explain_conditions
from routing.models import FollowUpTask, Notification, Rule, RuleMatch, RuleVersion
from routing.models.rules import VERSIONED_FIELDS
from tickets.models import TicketEvent
from tickets.selectors import timeline_entries_for


def rules_list() -> QuerySet[Rule]:
    """Current (not archived) rules in evaluation order."""
    return Rule.objects.filter(archived_at__isnull=True).order_by("order", "id")


def notifications_list() -> QuerySet[Notification]:
    return Notification.objects.select_related(
        "department", "ticket", "ticket__customer", "rule", "event", "acted_by"
    )


def followups_list() -> QuerySet[FollowUpTask]:
    return FollowUpTask.objects.select_related("ticket", "customer", "salesperson", "rule")


# --- who may see and work what ----------------------------------------------------------------
# One permission path for pages and API alike: staff see the queues of their departments, a
# salesperson their own follow-ups, a sales lead the whole sales team's, admins everything.

SALES = "sales"


def departments_for_user(user) -> QuerySet[Department]:
    """The departments whose queues ``user`` may see and work."""
    if user_is_admin(user):
        return Department.objects.all()
    return Department.objects.filter(memberships__user=user)


def notifications_for_user(user) -> QuerySet[Notification]:
    items = notifications_list()
    if user_is_admin(user):
        return items
    return items.filter(department__memberships__user=user)


def queue_counts_for_user(user) -> list[dict]:
    """The user's departments with their new, overdue (past target) and escalated counts."""
    now = timezone.now()
    new = Q(notifications__status=Notification.Status.NEW)
    return list(
        departments_for_user(user)
        .annotate(
            new_count=Count("notifications", filter=new),
            overdue_count=Count("notifications", filter=new & Q(notifications__due_at__lte=now)),
        )
        .order_by("name")
        .values("slug", "name", "new_count", "overdue_count")
    )


def queue_status_counts(items: QuerySet[Notification]) -> dict[str, int]:
    """How many of ``items`` are in each status, in one query."""
    return dict(items.order_by().values_list("status").annotate(n=Count("id")))


def followup_counts_for_user(user) -> dict:
    today = timezone.localdate()
    open_tasks = FollowUpTask.objects.filter(salesperson=user, status=FollowUpTask.Status.OPEN)
    return open_tasks.aggregate(
        open=Count("id"),
        overdue=Count("id", filter=Q(due_on__lt=today)),
        due_today=Count("id", filter=Q(due_on=today)),
    )


# What a follow-up shows of its ticket's story: what was asked, and what was done about it.
STORY_KINDS = ["created", "call", "status_change", "response", "note", "followup"]


def followups_board(*, user, today) -> list[tuple[str, list[FollowUpTask]]]:
    """The open follow-ups ``user`` may see, as overdue / due today / upcoming, each with its
    ticket's last steps (``story``), the customer's ``standing`` and ``contract`` state: a fixed
    number of queries however many tasks."""
    tasks = list(
        followups_for_user(user)
        .filter(status=FollowUpTask.Status.OPEN)
        .select_related("ticket__contact", "customer__salesperson")
        .prefetch_related("customer__contacts")
        .order_by("due_on", "id")[:200]
    )
    book = StandingBook(customer_ids={t.customer_id for t in tasks}, since=today)
    stories: dict[int, list] = {}
    entries = timeline_entries_for(ticket_ids=[t.ticket_id for t in tasks], kinds=STORY_KINDS)
    for entry in entries:
        stories.setdefault(entry.ticket_id, []).append(entry)
    for task in tasks:
        task.standing = book.on(task.customer_id, today)
        task.contract = contract_state(task.customer, today=today)
        task.story = stories.get(task.ticket_id, [])[-6:]
    return [
        ("Overdue", [t for t in tasks if t.due_on < today]),
        ("Due today", [t for t in tasks if t.due_on == today]),
        ("Upcoming", [t for t in tasks if t.due_on > today]),
    ]


def followups_recently_closed(*, user, limit: int = 20) -> QuerySet[FollowUpTask]:
    return (
        followups_for_user(user)
        .exclude(status=FollowUpTask.Status.OPEN)
        .order_by("-completed_at")[:limit]
    )


def user_leads_sales(user) -> bool:
    return user.memberships.filter(department__slug=SALES, is_lead=True).exists()


def followups_for_user(user) -> QuerySet[FollowUpTask]:
    tasks = followups_list()
    if user_is_admin(user):
        return tasks
    if user_leads_sales(user):
        team = Q(salesperson__memberships__department__slug=SALES) | Q(salesperson=user)
        return tasks.filter(team).distinct()
    return tasks.filter(salesperson=user)


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


def rule_versions(*, rule_id: int) -> QuerySet[RuleVersion]:
    return RuleVersion.objects.filter(rule_id=rule_id).select_related("author")


def version_diff(*, rule_id: int, before: int, after: int) -> list[dict]:
    """What changed from one version of a rule to another, field by field.

    Conditions and actions also get a unified diff of their pretty-printed JSON, so an admin
    sees which condition changed, not only that the conditions did.
    """
    versions = {
        v.number: v.definition
        for v in RuleVersion.objects.filter(rule_id=rule_id, number__in=[before, after])
    }
    if before not in versions or after not in versions:
        raise RuleVersion.DoesNotExist
    changes = []
    for field in VERSIONED_FIELDS:
        old, new = versions[before].get(field), versions[after].get(field)
        if old == new:
            continue
        change = {"field": field, "before": old, "after": new}
        if isinstance(old, dict | list) or isinstance(new, dict | list):
            change["diff"] = list(
                difflib.unified_diff(
                    json.dumps(old, indent=2, sort_keys=True).splitlines(),
                    json.dumps(new, indent=2, sort_keys=True).splitlines(),
                    fromfile=f"version {before}",
                    tofile=f"version {after}",
                    lineterm="",
                )
            )
        changes.append(change)
    return changes


def ticket_routing_explanation(*, ticket_id: int) -> list[dict]:
    """Why the ticket was routed as it was: for each event, every rule evaluated, each of its
    conditions with the value it was tested on, and what each fired rule did.

    A fixed number of queries: events with their runs, the rule versions they name, matches.
    """
    events = list(
        TicketEvent.objects.filter(ticket_id=ticket_id)
        .select_related("routing_run", "actor")
        .order_by("created_at", "id")
    )
    runs = [e.routing_run for e in events if hasattr(e, "routing_run")]
    wanted = {(ev[0], ev[1]) for run in runs for ev in run.evaluations}
    versions = {}
    if wanted:
        rule_ids = {rule_id for rule_id, _ in wanted}
        for version in RuleVersion.objects.filter(rule_id__in=rule_ids):
            if (version.rule_id, version.number) in wanted:
                versions[(version.rule_id, version.number)] = version.definition
    matches = {
        (m.event_id, m.rule_id): m.actions for m in RuleMatch.objects.filter(ticket_id=ticket_id)
    }
    return [_explain_event(event, versions, matches) for event in events]


def _explain_event(event, versions, matches) -> dict:
    run = getattr(event, "routing_run", None)
    explained = {
        "event": event.pk,
        "type": event.type,
        "type_label": event.get_type_display(),
        "at": event.created_at,
        "actor": event.actor.username if event.actor else None,
        "changes": event.changes,
        "routed": run is not None,
        "skipped_reason": run.skipped_reason if run else "",
        "rules": [],
    }
    if run is None:
        return explained
    for rule_id, version, matched, held, *changed in run.evaluations:
        definition = versions.get((rule_id, version), {})
        # Facts changed by earlier rules' actions in the same run, as this rule saw them.
        facts = {**run.facts, **changed[0]} if changed else run.facts
        explained["rules"].append(
            {
                "rule": rule_id,
                "name": definition.get("name", ""),
                "version": version,
                "matched": matched,
                "conditions": explain_conditions(definition.get("conditions", {}), held, facts),
                "actions": matches.get((event.pk, rule_id), []),
            }
        )
    return explained
