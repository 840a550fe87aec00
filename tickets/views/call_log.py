"""Log a call: the form a rep types into while the customer is on the phone."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from tickets.calls import call_log as call_log_record
from tickets.forms import KIND_KEYS, NEW_CONTACT, CallLogForm


@login_required
def call_log(request):
    form = CallLogForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = call_log_record(rep=request.user, **form.service_arguments())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            text = f"Logged {ticket.reference}."
            if ticket.rma_number:
                text += f" RMA number: {ticket.rma_number}."
            messages.success(request, text)
            return redirect("ticket-page", pk=ticket.pk)
    context = {
        "form": form,
        "contacts": form.customer_contacts(),
        "new_contact": NEW_CONTACT,
        "kind_keys": {kind: key for key, kind in KIND_KEYS.items()},
    }
    status = 400 if form.is_bound else 200
    return render(request, "tickets/call_log.html", context, status=status)
