"""What rules may test about follow-ups: whether a ticket has an overdue one.

A follow-up is overdue on a day when it is still open and was due before that day. Time-based
rules also look at tickets with an overdue follow-up when they are no longer being worked, and
fire once per overdue follow-up.
"""

from datetime import date, datetime

from django.utils import timezone

from helpdesk.prepared import PreparedQuery
from queues.models import FollowUpTask
from routing.engine.facts import FactSource, facts_register
from routing.engine.fields import Field
from routing.engine.operators import BOOL


def _open_followups(ticket_ids: list[int]):
    return FollowUpTask.objects.filter(ticket_id__in=ticket_ids, status=FollowUpTask.Status.OPEN)


# Read for every event routed: its SQL is built once (helpdesk.prepared). Unordered: only
# whether any is overdue counts (and sorting them cost the routing time).
_OPEN_FOLLOWUPS_DUE = PreparedQuery(
    lambda ticket_ids: _open_followups(ticket_ids).order_by().values_list("ticket_id", "due_on")
)


def followup_facts(ticket_ids: list[int], days: list[date]) -> list[dict]:
    due: dict[int, list[date]] = {}
    for ticket_id, due_on in _OPEN_FOLLOWUPS_DUE(set(ticket_ids)):
        due.setdefault(ticket_id, []).append(due_on)
    return [
        {"followup_overdue": any(due_on < day for due_on in due.get(ticket_id, ()))}
        for ticket_id, day in zip(ticket_ids, days, strict=True)
    ]


def tickets_with_overdue_followups(today: date):
    return FollowUpTask.objects.filter(status=FollowUpTask.Status.OPEN, due_on__lt=today).values(
        "ticket_id"
    )


def first_overdue_followups(tickets, now: datetime) -> dict[int, str]:
    rows = _open_followups([ticket.pk for ticket in tickets]).filter(
        due_on__lt=timezone.localdate(now)
    )
    # The lowest id wins, being last.
    first = dict(rows.order_by("-id").values_list("ticket_id", "id"))
    return {ticket_id: f"followup:{task_id}" for ticket_id, task_id in first.items()}


SOURCE = FactSource(
    fields=(Field("followup_overdue", BOOL, "Has an overdue follow-up", "time"),),
    facts=followup_facts,
    timer_candidates=tickets_with_overdue_followups,
    timer_occurrences=first_overdue_followups,
)


def register() -> None:
    facts_register(SOURCE)
