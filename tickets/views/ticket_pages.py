"""A ticket's page and what a rep does on it: edit, add a note, log a call, link a ticket."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.views.decorators.http import require_GET

from helpdesk.parsing import positive_int
from tickets import services
from tickets.calls import call_add
from tickets.forms import CallForm, LinkForm, NoteForm, TicketEditForm
from tickets.models import Ticket, TimelineEntry
from tickets.page_sections import facts_for, sections_for
from tickets.presence import presence_report
from tickets.returns import latest_tracking
from tickets.selectors import (
    ticket_for_page,
    ticket_id_from_reference,
    ticket_last_change,
    tickets_brief,
    timeline_entries_for,
    timeline_for,
)
from tickets.timeline_extras import timeline_with_extras


def form_target(view):
    """A page the ticket page's forms post to. Its address can end up in the address bar, the
    history or a shared link (a refused form is answered there), so opening it shows the
    ticket page rather than a 405."""

    @wraps(view)
    def answer(request, pk: int):
        if request.method in ("GET", "HEAD"):
            return redirect("ticket-page", pk=pk)
        if request.method != "POST":
            return HttpResponseNotAllowed(["GET", "POST"])
        return view(request, pk)

    return answer


def _ticket_or_404(pk: int) -> Ticket:
    try:
        return ticket_for_page(ticket_id=pk)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket") from None


# What a refused form did not do, in the words of the message at the top of the page.
_REFUSED = {
    "edit_form": "the ticket was not changed",
    "note_form": "the note was not added",
    "call_form": "the call was not logged",
    "link_form": "the link was not added",
}


def ticket_page(request, ticket: Ticket, *, status: int = 200, **forms):
    """The ticket page; with ``status=400``, a refused form (by its name; ``sections`` for
    those of registered sections) shown again with its errors."""
    return _page(request, ticket, status=status, **forms)


def _page(request, ticket: Ticket, *, status: int = 200, **forms):
    if status == 400 and "sections" in forms:
        messages.error(request, f"{ticket.reference}: not sent: see what the form marks.")
    elif status == 400:
        # Said at the top too: on a phone the refused form is far below where the page opens.
        refused = next(name for name in _REFUSED if name in forms)
        messages.error(
            request, f"{ticket.reference}: {_REFUSED[refused]}: see what the form marks."
        )
    timeline = timeline_with_extras(timeline_for(ticket=ticket))
    context = {
        **_facts_context(request, ticket, tracking=latest_tracking(timeline)),
        "timeline": timeline,
        "live_seconds": settings.TICKET_LIVE_SECONDS,
        "edit_form": forms.get("edit_form") or TicketEditForm.for_ticket(ticket),
        "note_form": forms.get("note_form") or NoteForm(),
        "call_form": forms.get("call_form") or CallForm(),
        "link_form": forms.get("link_form") or LinkForm(),
        "conflict": forms.get("conflict"),
        "sections": sections_for(request, ticket, forms.get("sections") or {}),
    }
    return render(request, "tickets/ticket_detail.html", context, status=status)


def _facts_context(request, ticket: Ticket, *, tracking: str) -> dict:
    """What the facts panel shows (tickets/_facts.html), on the page and in its refresh."""
    return {
        "ticket": ticket,
        "tracking": tracking,
        "facts": facts_for(request, ticket),
        "done_statuses": list(Ticket.DONE_STATUSES),
        "now": timezone.now(),
    }


@login_required
@require_GET
def ticket_detail(request, pk: int):
    return _page(request, _ticket_or_404(pk))


@login_required
@form_target
def ticket_edit(request, pk: int):
    ticket = _ticket_or_404(pk)
    form = TicketEditForm(request.POST)
    if not form.is_valid():
        return _page(request, ticket, status=400, edit_form=form)
    fields = form.edited_fields()
    version = form.cleaned_data["version"]
    try:
        try:
            services.ticket_update(
                ticket=ticket, actor=request.user, expected_version=version, **fields
            )
        except services.TicketChanged as changed:
            current = _ticket_or_404(pk)
            clashes = form.clashes(current)
            if clashes:
                return _conflict(request, form, current, clashes, changed)
            # Someone (or a routing rule) changed other fields: the rep's edit merges over it.
            services.ticket_update(
                ticket=current, actor=request.user, expected_version=current.version, **fields
            )
    except services.TicketChanged as changed:  # changed again in between: show it as it is
        current = _ticket_or_404(pk)
        return _conflict(request, form, current, form.clashes(current), changed)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _page(request, ticket, status=400, edit_form=form)
    if fields:
        messages.success(request, f"Saved {ticket.reference}.")
    return redirect("ticket-page", pk=pk)


def _conflict(request, form, current: Ticket, clashes: list[str], changed):
    """The ticket as it is now, and the rep's values kept as typed, now over the current
    version: saving again applies them knowingly."""
    labels = [str(form.fields[name].label) for name in clashes]
    detail = f" Both of you changed: {', '.join(labels)}." if labels else ""
    return _page(
        request,
        current,
        status=409,
        edit_form=TicketEditForm.over(request.POST, current),
        conflict=str(changed) + detail,
    )


@login_required
@form_target
def ticket_note_add(request, pk: int):
    ticket = _ticket_or_404(pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _page(request, ticket, status=400, note_form=form)
    services.note_add(
        ticket=ticket,
        author=request.user,
        body=form.cleaned_data["body"],
        is_internal=not form.cleaned_data["is_public"],
    )
    return redirect("ticket-page", pk=pk)


@login_required
@form_target
def ticket_call_add(request, pk: int):
    ticket = _ticket_or_404(pk)
    form = CallForm(request.POST)
    if not form.is_valid():
        return _page(request, ticket, status=400, call_form=form)
    call_add(ticket=ticket, rep=request.user, **form.cleaned_data)
    return redirect("ticket-page", pk=pk)


@login_required
@form_target
def ticket_link_add(request, pk: int):
    ticket = _ticket_or_404(pk)
    form = LinkForm(request.POST)
    if form.is_valid():
        other_id = ticket_id_from_reference(form.cleaned_data["reference"])
        other = tickets_brief().filter(pk=other_id).first() if other_id else None
        if other is None:
            form.add_error("reference", "No ticket with this reference.")
        else:
            try:
                services.ticket_link(ticket=ticket, other=other, actor=request.user)
            except ValidationError as exc:
                form.add_error("reference", exc.message_dict["related"])
    if not form.is_valid():
        return _page(request, ticket, status=400, link_form=form)
    return redirect("ticket-page", pk=pk)


@login_required
@require_GET
def ticket_timeline_since(request, pk: int):
    """The timeline entries after ``after``: the ticket page polls it to show news live."""
    ticket = get_object_or_404(tickets_brief(), pk=pk)
    after = request.GET.get("after", "")
    entries = timeline_with_extras(timeline_for(ticket=ticket, after_id=positive_int(after, 0)))
    return render(request, "components/timeline_entries.html", {"timeline": entries})


@login_required
@require_GET
def ticket_live(request, pk: int):
    """What an open ticket page refreshes every few seconds: its facts as they are now, who
    else has it open, and, when it changed since the page's ``version``, by whom and when.
    Asking is also how the page says its user is viewing the ticket (tickets.presence)."""
    ticket = _ticket_or_404(pk)
    tracking = ""
    if ticket.kind == Ticket.Kind.RMA or ticket.rma_number:
        steps = timeline_entries_for(ticket_ids=[ticket.pk], kinds=[TimelineEntry.Kind.RMA])
        tracking = latest_tracking(steps)
    facts = _facts_context(request, ticket, tracking=tracking)
    opened = positive_int(request.GET.get("version"), ticket.version)
    answer = {
        "version": ticket.version,
        "facts": render_to_string("tickets/_facts.html", facts, request=request),
        "viewers": presence_report(ticket_id=ticket.pk, user=request.user),
        "changed": None,
    }
    if opened != ticket.version:
        change = ticket_last_change(ticket_id=ticket.pk)
        when = timezone.localtime(change.created_at if change else ticket.updated_at)
        today = when.date() == timezone.localdate()
        answer["changed"] = {
            "by": (change.author.get_full_name() or change.author.username)
            if change and change.author
            else "",
            "at": formats.date_format(when, "H:i" if today else "Y-m-d H:i"),
        }
    return JsonResponse(answer)
