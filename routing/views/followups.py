"""My follow-ups: what a salesperson must call back about, and the outcome of each call."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from routing.followups import followup_record_outcome
from routing.forms import OutcomeForm
from routing.selectors import followups_board, followups_for_user, followups_recently_closed


@login_required
@require_GET
def followups(request):
    today = timezone.localdate()
    context = {
        "groups": followups_board(user=request.user, today=today),
        "recent": followups_recently_closed(user=request.user),
        "form": OutcomeForm(),
        "today": today,
    }
    return render(request, "routing/followups.html", context)


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
