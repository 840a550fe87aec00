"""My follow-ups: what a salesperson must call back about, and the outcome of each call."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from helpdesk.parsing import positive_int
from queues.followups import RESCHEDULE_MAX_DAYS, followup_record_outcome
from queues.forms import OutcomeForm, form_errors_text
from queues.models import FollowUpTask
from queues.selectors import followup_for_work, followups_board, followups_recently_closed


def _board(request, *, failed: tuple[int, OutcomeForm] | None = None, status: int = 200):
    """The board; after a refused outcome, that task's form as the salesperson filled it in,
    with each error next to its field, and every other task's form empty."""
    today = timezone.localdate()
    groups = followups_board(user=request.user, today=today)
    for _, tasks in groups:
        for task in tasks:
            task.outcome_form = failed[1] if failed and failed[0] == task.pk else OutcomeForm()
    context = {
        "groups": groups,
        "recent": followups_recently_closed(user=request.user),
        "form": OutcomeForm(),
        "today": today,
        # The latest day a call may be rescheduled to, as the service allows.
        "latest": today + timedelta(days=RESCHEDULE_MAX_DAYS),
    }
    return render(request, "queues/followups.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def followups(request):
    """GET: the board. POST (a task's outcome, ``task`` naming it): recorded and back to the
    board, or the board again at this address with the form as filled in and its errors."""
    if request.method == "POST":
        return _record_outcome(request, positive_int(request.POST.get("task", "")))
    return _board(request)


@login_required
@require_GET
def followup_outcome(request, pk: int):
    """An older address of one task's form, say bookmarked: the task on the board. Outcomes
    are posted to the board's own address only (the API has its own, for programs)."""
    return redirect(f"{reverse('followups')}#followup-{pk}")


def _record_outcome(request, pk: int | None):
    try:
        task = followup_for_work(user=request.user, task_id=pk or 0)
    except FollowUpTask.DoesNotExist:
        raise Http404("No such follow-up.") from None
    reference = task.ticket.reference
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            task = followup_record_outcome(task=task, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            outcome = FollowUpTask.Outcome(form.cleaned_data["outcome"]).label
            if form.cleaned_data["outcome"] == FollowUpTask.Outcome.NO_ANSWER:
                where = f"it stays open, due again {task.due_on:%Y-%m-%d}"
            else:
                where = "it is now under Recently closed"
            messages.success(request, f"Outcome recorded on {reference} ({outcome}): {where}.")
            return redirect("followups")
    messages.error(request, f"{reference}: not recorded. {form_errors_text(form)}")
    return _board(request, failed=(task.pk, form), status=400)
