"""The reply composer on the ticket page: a public reply to the customer, from a template."""

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from conversations.forms import ReplyForm
from conversations.models import ReplyTemplate
from conversations.replies import reply_send, undelivered_send_again
from conversations.reply_templates import templates_filled_in
from conversations.selectors import last_email_undelivered
from tickets.models import Ticket
from tickets.selectors import ticket_for_page
from tickets.views.ticket_pages import form_target, ticket_page


def _ticket_or_404(pk: int) -> Ticket:
    try:
        return ticket_for_page(ticket_id=pk)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket") from None


def reply_section(*, request, ticket: Ticket, form=None) -> dict:
    """The composer's context on the ticket page."""
    contact = ticket.contact
    return {
        "script": "js/reply.js",
        "reply_form": form or ReplyForm(initial={"sent_as": secrets.token_hex(8)}),
        "reply_to": contact.email if contact else "",
        "reply_bouncing": bool(contact and contact.email_bouncing_since),
        "reply_bounce_reason": contact.email_bounce_reason if contact else "",
        "has_templates": ReplyTemplate.objects.filter(is_active=True).exists(),
        "undelivered": last_email_undelivered(ticket),
    }


@login_required
@form_target
def reply_add(request, pk: int):
    ticket = _ticket_or_404(pk)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            reply = reply_send(
                ticket=ticket,
                author=request.user,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["attachments"],
                sent_as=form.cleaned_data["sent_as"],
                then_status=form.cleaned_data["then_status"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if reply.suppressed:
                messages.warning(
                    request,
                    f"Not sent: mail to {ticket.contact.email} bounces. The reply is on the "
                    "timeline; change the contact's address to write to them.",
                )
            else:
                messages.success(request, f"Reply sent to {ticket.contact.email}.")
            return redirect("ticket-page", pk=pk)
    return ticket_page(request, ticket, status=400, sections={"reply": form})


@login_required
@require_POST
def email_retry(request, pk: int, delivery_id: int):
    """Send the ticket's last email to the customer again, after it failed for good."""
    ticket = _ticket_or_404(pk)
    try:
        address = undelivered_send_again(ticket=ticket, delivery_id=delivery_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Sending it again to {address}.")
    return redirect("ticket-page", pk=pk)


@login_required
@require_GET
def reply_templates_for(request, pk: int):
    """The active reply templates, filled in for this ticket and this rep (the composer's
    picker filters them as the rep types)."""
    ticket = _ticket_or_404(pk)
    return JsonResponse({"templates": templates_filled_in(ticket=ticket, rep=request.user)})
