"""Reads for the queues: who may see and work which items and follow-ups, and the pages' lists."""

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from accounts import roles
from accounts.models import Department, Membership, User
from accounts.selectors import StandingBook, contract_state
from queues.models import FollowUpTask, Notification
from tickets.models import Ticket
from tickets.returns import rma_reachable_steps
from tickets.selectors import local_day_start, timeline_entries_for


def notifications_list() -> QuerySet[Notification]:
    return Notification.objects.select_related(
        "department", "ticket", "ticket__customer", "rule", "event", "acted_by"
    )


def followups_list() -> QuerySet[FollowUpTask]:
    return FollowUpTask.objects.select_related("ticket", "customer", "salesperson", "rule")


# --- who may see and work what ----------------------------------------------------------------
# One permission path for pages and API alike: staff see the queues of their departments, a
# salesperson their own follow-ups, a sales lead the whole sales team's, admins everything.
# Who holds which role is ``accounts.roles``; these turn its answers into querysets.

SALES = roles.SALES


def departments_for_user(user) -> QuerySet[Department]:
    """The departments whose queues ``user`` may see and work."""
    if roles.can_see_all_queues(user):
        return Department.objects.all()
    return Department.objects.filter(memberships__user=user)


def department_for_queue(*, user, slug: str) -> Department:
    """The department whose queue ``user`` asks for: ``Department.DoesNotExist`` when there is
    no such department (a 404), ``PermissionDenied`` when it is not theirs to see (a 403)."""
    department = Department.objects.get(slug=slug)
    if not departments_for_user(user).filter(pk=department.pk).exists():
        raise PermissionDenied(f"Only {department.name}'s members see its queue.")
    return department


def notifications_for_user(user) -> QuerySet[Notification]:
    """The items ``user`` may work: those of their departments' queues (admins: all)."""
    items = notifications_list()
    if roles.can_see_all_queues(user):
        return items
    return items.filter(department__memberships__user=user)


def notifications_readable_by(user) -> QuerySet[Notification]:
    """The items ``user`` may read: whoever can see a ticket may see who was told about it and
    what became of it (department, rule, status, responses, who took it on)."""
    # Every active member of staff sees every ticket: the ticket pages and API have no narrower
    # rule. Should tickets gain one, it is applied here, once, for pages and API alike.
    if not (user.is_authenticated and user.is_active):
        return Notification.objects.none()
    return notifications_list()


def notification_for_work(*, user, notification_id: int) -> Notification:
    """An item ``user`` is about to act on (take on, answer, finish, a return step).

    ``Notification.DoesNotExist`` when they may not even read it (a 404), ``PermissionDenied``
    when they may read it but it is another department's to work (a 403).
    """
    item = notifications_readable_by(user).get(pk=notification_id)
    if not notifications_for_user(user).filter(pk=item.pk).exists():
        raise PermissionDenied(f"Only {item.department.name}'s members work this item.")
    return item


def user_may_finish(user, item: Notification) -> bool:
    """An item taken on is finished by its taker, a lead of the department or an admin."""
    if item.acted_by_id in (None, user.pk) or roles.can_see_all_queues(user):
        return True
    return roles.leads_department(user, item.department_id)


def escalation_departments_for(user) -> QuerySet[Department]:
    """The departments whose escalations reach ``user``: those they lead and, for an admin,
    those without an active lead. The one rule for who is told by email
    (``escalation_recipients``), who has the Escalated tab, and the navigation's count."""
    active_leads = Membership.objects.filter(
        department=OuterRef("pk"), is_lead=True, user__is_active=True
    )
    reaches = Q(Exists(active_leads.filter(user=user)))
    if roles.can_see_all_queues(user):
        reaches |= ~Q(Exists(active_leads))
    return Department.objects.filter(reaches)


def escalation_recipients(department: Department) -> list[User]:
    """Who hears of ``department``'s escalations: its active leads; without one, the admins."""
    leads = list(
        User.objects.filter(
            memberships__department=department, memberships__is_lead=True, is_active=True
        )
    )
    return leads or list(roles.admin_users())


def user_sees_escalations(user, department: Department) -> bool:
    """Whether ``department``'s escalations reach ``user``, so its queue page has their tab."""
    return escalation_departments_for(user).filter(pk=department.pk).exists()


def queue_counts_for_user(user) -> list[dict]:
    """The user's departments with their new, overdue (past target) and escalated counts, in
    one query. ``escalated_count`` counts only the escalations that reach ``user``
    (``escalation_departments_for``), still waiting to be taken on."""
    now = timezone.now()
    new = Q(notifications__status=Notification.Status.NEW)
    reaching = escalation_departments_for(user).filter(pk=OuterRef("pk"))
    rows = list(
        departments_for_user(user)
        .annotate(
            new_count=Count("notifications", filter=new),
            overdue_count=Count("notifications", filter=new & Q(notifications__due_at__lte=now)),
            escalated_count=Count(
                "notifications", filter=new & Q(notifications__escalated_at__isnull=False)
            ),
            reaches=Exists(reaching),
        )
        .order_by("name")
        .values("slug", "name", "new_count", "overdue_count", "escalated_count", "reaches")
    )
    for row in rows:
        if not row.pop("reaches"):
            row["escalated_count"] = 0
    return rows


def nav_counts_for_user(user) -> dict:
    """What the navigation shows of the user's queues, totals included: the page renders it
    and ``/nav/counts/`` answers it (under ``queues``), so the live refresh only displays
    numbers."""
    queues = queue_counts_for_user(user)
    return {
        "queues": queues,
        "new_items": sum(q["new_count"] for q in queues),
        "past_target": sum(q["overdue_count"] for q in queues),
        "escalated": sum(q["escalated_count"] for q in queues),
    }


SHIPPING = "shipping"  # the department that takes returns through their steps


def queue_page_rows(items, *, department: Department) -> list[Notification]:
    """A queue page's items with what each row shows: ``ticket_done`` (the rep resolved or
    closed the ticket) and, on shipping's queue, a return's ``rma_steps`` for the picker as
    (value, label, reachable) and ``rma_next``, the step it defaults to (None at the last)."""
    rows = list(items)
    for item in rows:
        ticket = item.ticket
        item.ticket_done = ticket.status in Ticket.DONE_STATUSES
        if department.slug == SHIPPING and ticket.kind == Ticket.Kind.RMA:
            reachable = rma_reachable_steps(ticket.rma_status)
            item.rma_steps = [
                (value, label, value in reachable) for value, label in Ticket.RmaStatus.choices
            ]
            item.rma_next = reachable[0] if reachable else None
    return rows


def queue_status_counts(items: QuerySet[Notification]) -> dict[str, int]:
    """How many of ``items`` are in each status, and how many of the new ones were escalated
    (under ``"escalated"``), in one query."""
    escalated = Q(status=Notification.Status.NEW, escalated_at__isnull=False)
    rows = list(
        items.order_by()
        .values_list("status")
        .annotate(n=Count("id"), escalated=Count("id", filter=escalated))
    )
    counts = {status: n for status, n, _ in rows}
    counts["escalated"] = sum(late for _, _, late in rows)
    return counts


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


def followups_for_user(user) -> QuerySet[FollowUpTask]:
    """The follow-ups ``user`` may work: their own; a sales lead the team's; admins all."""
    tasks = followups_list()
    if roles.can_see_all_followups(user):
        return tasks
    if roles.can_see_team_followups(user):
        team = Q(salesperson__memberships__department__slug=SALES) | Q(salesperson=user)
        return tasks.filter(team).distinct()
    return tasks.filter(salesperson=user)


def followups_readable_by(user) -> QuerySet[FollowUpTask]:
    """The follow-ups ``user`` may read (status, outcome): those of every ticket they can see,
    as for ``notifications_readable_by``."""
    if not (user.is_authenticated and user.is_active):
        return FollowUpTask.objects.none()
    return followups_list()


def followup_for_work(*, user, task_id: int) -> FollowUpTask:
    """A follow-up ``user`` is about to record an outcome on: ``FollowUpTask.DoesNotExist``
    when they may not read it, ``PermissionDenied`` when it is not theirs to work."""
    task = followups_readable_by(user).get(pk=task_id)
    if not followups_for_user(user).filter(pk=task.pk).exists():
        raise PermissionDenied(f"This follow-up is {task.salesperson}'s to make.")
    return task


def ticket_who_was_told(*, user, ticket_id: int) -> dict:
    """Everyone routing told about a ticket and what became of it: its queue items (each
    ``workable`` or not by ``user``) and its follow-ups, in three queries."""
    notifications = list(
        notifications_list().filter(ticket_id=ticket_id).order_by("created_at", "id")
    )
    workable = set(
        notifications_for_user(user).filter(ticket_id=ticket_id).values_list("pk", flat=True)
    )
    for item in notifications:
        item.workable = item.pk in workable
    followups = (
        followups_list()
        .filter(ticket_id=ticket_id)
        .select_related("reopened_ticket")
        .order_by("created_at", "id")
    )
    return {"notifications": notifications, "followups": list(followups)}


# --- the start page ----------------------------------------------------------------------------


def queue_health_for_member(user, *, now: datetime | None = None) -> list[dict]:
    """The queue of each department ``user`` is a member of (an admin's access to every queue
    is not membership), by name, in one query: ``new_count`` (not yet taken on),
    ``past_target`` (new and past the response target, ``Notification.due_at``, as the queue's
    "Past response target" filter finds them), ``oldest_new_at`` (when the longest-waiting new
    item arrived, or None), ``mine_open`` (taken on by ``user`` and not done yet, as the
    queue's Acknowledged tab lists them with "taken on by: me") and ``done_today`` (finished
    since the company's midnight)."""
    now = now or timezone.now()
    midnight = local_day_start(timezone.localdate(now))
    new = Q(notifications__status=Notification.Status.NEW)
    done_today = Q(
        notifications__status=Notification.Status.DONE, notifications__done_at__gte=midnight
    )
    mine = Q(notifications__status=Notification.Status.ACKNOWLEDGED, notifications__acted_by=user)
    return list(
        Department.objects.filter(memberships__user=user)
        .annotate(
            new_count=Count("notifications", filter=new),
            past_target=Count("notifications", filter=new & Q(notifications__due_at__lte=now)),
            oldest_new_at=Min("notifications__created_at", filter=new),
            done_today=Count("notifications", filter=done_today),
            mine_open=Count("notifications", filter=mine),
        )
        .order_by("name")
        .values(
            "slug", "name", "new_count", "past_target", "oldest_new_at", "done_today", "mine_open"
        )
    )


def is_salesperson(user) -> bool:
    """Whether ``user`` sells: a member of sales, the salesperson of a customer, or someone
    with follow-ups still open (a customer handed to a colleague leaves its open ones with
    them). One query."""
    open_tasks = FollowUpTask.objects.filter(salesperson=user, status=FollowUpTask.Status.OPEN)
    return (
        User.objects.filter(pk=user.pk)
        .filter(
            Q(memberships__department__slug=SALES)
            | Q(owned_customers__isnull=False)
            | Q(Exists(open_tasks))
        )
        .exists()
    )


def followups_summary_for_user(user, *, now: datetime | None = None, limit: int = 10) -> dict:
    """What the follow-ups board shows ``user`` (``followups_for_user``: their own, a sales
    lead's team's, an admin's all), counted: ``open``, ``overdue`` and ``due_today`` (as the
    board's groups, in the company's time zone), ``scope`` ("own", "team" or "all"), and the
    up-sells recorded on them since the first of this month: ``upsells`` (the latest
    ``limit``), ``upsell_count`` and ``upsell_value`` (the estimated values added up). At
    most five queries however many tasks."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if roles.can_see_all_followups(user):
        scope = "all"
    else:
        scope = "team" if roles.can_see_team_followups(user) else "own"
    tasks = followups_for_user(user)
    counts = tasks.filter(status=FollowUpTask.Status.OPEN).aggregate(
        open=Count("id"),
        overdue=Count("id", filter=Q(due_on__lt=today)),
        due_today=Count("id", filter=Q(due_on=today)),
    )
    upsells = tasks.filter(
        outcome=FollowUpTask.Outcome.UPSELL,
        completed_at__gte=local_day_start(today.replace(day=1)),
    )
    totals = upsells.aggregate(upsell_count=Count("id"), upsell_value=Sum("upsell_value"))
    return {
        **counts,
        "scope": scope,
        "upsell_count": totals["upsell_count"],
        "upsell_value": totals["upsell_value"] or Decimal("0"),
        "upsells": list(upsells.order_by("-completed_at", "-id")[:limit]),
    }
