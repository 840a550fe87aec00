"""My follow-ups: what a salesperson must call back about, and the outcome of each call."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import StandingBook, contract_state
from routing.followups import followup_record_outcome
from routing.forms import OutcomeForm
from routing.models import FollowUpTask
from routing.selectors import followups_for_user
from tickets.selectors import timeline_entries_for


@login_required
@require_GET
def followups(request):
    today = timezone.localdate()
    tasks = list(
        followups_for_user(request.user)
        .filter(status=FollowUpTask.Status.OPEN)
        .select_related("ticket__contact", "customer__salesperson")
        .prefetch_related("customer__contacts")
        .order_by("due_on", "id")[:200]
    )
    book = StandingBook(customer_ids={t.customer_id for t in tasks}, since=today)
    stories = _stories([t.ticket_id for t in tasks])
    for task in tasks:
        task.standing = book.on(task.customer_id, today)
        task.contract = contract_state(task.customer, today=today)
        task.story = stories.get(task.ticket_id, [])[-6:]
    groups = [
        ("Overdue", [t for t in tasks if t.due_on < today]),
        ("Due today", [t for t in tasks if t.due_on == today]),
        ("Upcoming", [t for t in tasks if t.due_on > today]),
    ]
    recent = (
        followups_for_user(request.user)
        .exclude(status=FollowUpTask.Status.OPEN)
        .order_by("-completed_at")[:20]
    )
    context = {"groups": groups, "recent": recent, "form": OutcomeForm(), "today": today}
    return render(request, "routing/followups.html", context)


def _stories(ticket_ids) -> dict[int, list]:
    """Each ticket's story (what was asked and what was done about it), in one query."""
    stories: dict[int, list] = {}
    for entry in timeline_entries_for(ticket_ids=ticket_ids, kinds=STORY_KINDS):
        stories.setdefault(entry.ticket_id, []).append(entry)
    return stories


STORY_KINDS = ["created", "call", "status_change", "response", "note", "followup"]


@login_required
@require_POST
def followup_outcome(request, pk: int):
    task = get_object_or_404(followups_for_user(request.user), pk=pk)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            followup_record_outcome(task=task, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, f"{task.ticket.reference}: {' '.join(exc.messages)}")
        else:
            messages.success(request, f"Outcome recorded on {task.ticket.reference}.")
    else:
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        messages.error(request, f"{task.ticket.reference}: {errors}")
    return redirect("followups")
