"""Mail waiting for a rep: unknown senders (triage) and quarantined messages, and what a rep
does with each: say who sent it (opening its ticket), put it on a ticket, or try it again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import contacts_list, customers_list
from conversations import services
from conversations.addressing import subject_ticket_id
from conversations.forms import AssignForm, AttachForm
from conversations.models import InboundMessage
from conversations.selectors import (
    customers_at_domain,
    inbound_get,
    inbound_list,
    inbound_preview,
    triage_customers,
    web_form_answers,
)
from tickets.selectors import ticket_id_from_reference, tickets_brief

_VIEWS = {
    "waiting": ("Waiting for a rep", InboundMessage.WAITING),
    "triage": ("Unknown senders", (InboundMessage.Status.TRIAGE,)),
    "quarantined": ("Quarantined", (InboundMessage.Status.QUARANTINED,)),
    "all": ("All mail received", None),
}


@login_required
@require_GET
def inbox(request):
    view = request.GET.get("view", "waiting")
    title, statuses = _VIEWS.get(view, _VIEWS["waiting"])
    page = Paginator(inbound_list(statuses=statuses), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "conversations/inbox.html",
        {"page": page, "view": view, "title": title, "views": _VIEWS},
    )


def _inbound_or_404(pk: int) -> InboundMessage:
    try:
        return inbound_get(inbound_id=pk)
    except InboundMessage.DoesNotExist:
        raise Http404("No such message") from None


def _detail(request, inbound, *, status=200, assign_form=None, attach_form=None):
    # A request made on the web form names the organisation: the search starts from it.
    query = request.GET.get("customer", inbound.form.get("organisation", "")).strip()
    customers = triage_customers(query=query) if query else []
    # Nothing searched yet: the customers whose people write from the sender's domain.
    suggested = not query and customers_at_domain(sender=inbound.sender)
    # A reply quoting a ticket's number, held (a stranger's, say): that ticket, ready to pick.
    tagged = subject_ticket_id(inbound.subject)
    context = {
        "inbound": inbound,
        "web_form": web_form_answers(inbound),
        "preview": inbound_preview(inbound),
        "query": query,
        "customers": customers or suggested or [],
        "suggested": bool(suggested),
        "assign_form": assign_form or AssignForm(),
        "attach_form": attach_form
        or AttachForm(initial={"reference": f"T-{tagged}"} if tagged else None),
    }
    return render(request, "conversations/inbound_detail.html", context, status=status)


@login_required
@require_GET
def inbound_detail(request, pk: int):
    return _detail(request, _inbound_or_404(pk))


def _done(request, inbound: InboundMessage, status: str):
    inbound.refresh_from_db()
    if inbound.ticket_id and status in (
        InboundMessage.Status.TICKET,
        InboundMessage.Status.APPENDED,
    ):
        messages.success(request, f"{inbound.reason}")
        return redirect("ticket-page", pk=inbound.ticket_id)
    messages.info(request, f"{inbound.get_status_display()}: {inbound.reason}")
    return redirect("inbound-detail", pk=inbound.pk)


@login_required
@require_POST
def inbound_assign(request, pk: int):
    inbound = _inbound_or_404(pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        contact = customer = None
        if form.cleaned_data.get("contact"):
            contact = contacts_list().filter(pk=form.cleaned_data["contact"]).first()
        elif form.cleaned_data.get("customer"):
            customer = customers_list().filter(pk=form.cleaned_data["customer"]).first()
        if contact is None and customer is None:
            form.add_error(None, "That contact or customer no longer exists.")
        else:
            try:
                status = services.inbound_assign(
                    inbound=inbound,
                    actor=request.user,
                    contact=contact,
                    customer=customer,
                    contact_name=form.cleaned_data.get("contact_name", ""),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                return _done(request, inbound, status)
    return _detail(request, inbound, status=400, assign_form=form)


@login_required
@require_POST
def inbound_attach(request, pk: int):
    inbound = _inbound_or_404(pk)
    form = AttachForm(request.POST)
    if form.is_valid():
        ticket_id = ticket_id_from_reference(form.cleaned_data["reference"])
        ticket = tickets_brief().filter(pk=ticket_id).first() if ticket_id else None
        if ticket is None:
            form.add_error("reference", "No ticket has this reference.")
        else:
            try:
                services.inbound_attach(inbound=inbound, ticket=ticket, actor=request.user)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                return _done(request, inbound, InboundMessage.Status.APPENDED)
    return _detail(request, inbound, status=400, attach_form=form)


@login_required
@require_POST
def inbound_dismiss(request, pk: int):
    inbound = _inbound_or_404(pk)
    try:
        services.inbound_dismiss(inbound=inbound, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("inbound-detail", pk=pk)
    messages.success(request, f"Dismissed: {inbound.subject or '(no subject)'}.")
    return redirect("mail-inbox")


@login_required
@require_POST
def inbound_retry(request, pk: int):
    inbound = _inbound_or_404(pk)
    try:
        status = services.inbound_retry(inbound=inbound)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("inbound-detail", pk=pk)
    return _done(request, inbound, status)
