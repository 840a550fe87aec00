"""A contact's requests, reached by their signed link: the list, each request's public
conversation and return progress, and what the contact may do there (reply with files, say it
is solved or not). A GET never changes anything: link scanners open every link in an email."""

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from conversations.web import web_message_receive
from portal.forms import NotSolvedForm, ReplyForm
from portal.selectors import (
    STATUS_WORDS,
    public_timeline,
    return_progress,
    visible_attachment,
    visible_ticket,
    visible_tickets,
)
from portal.services import ticket_not_solved_say, ticket_solved_say
from portal.views.pages import portal_page, with_contact
from tickets.models import Ticket

DONE_NOTICES = {
    "reply": "Thank you: your message was added to the request.",
    "solved": "Thank you for telling us it is solved.",
    "not-solved": "Thank you: the request is open again and we will be back to you.",
}


@require_http_methods(["GET", "HEAD"])
@portal_page()
@with_contact
def requests_list(request: HttpRequest, contact, token: str) -> HttpResponse:
    tickets = list(visible_tickets(contact)[:200])
    for ticket in tickets:
        ticket.status_words = STATUS_WORDS[ticket.status]
    return render(
        request,
        "portal/requests.html",
        {
            "contact": contact,
            "token": token,
            "tickets": tickets,
            "shared": contact.customer.colleagues_see_tickets,
        },
    )


def _ticket_or_404(contact, ticket_id: int) -> Ticket:
    ticket = visible_ticket(contact, ticket_id)
    if ticket is None:
        raise Http404("No such request.")
    return ticket


def _page(request, contact, token, ticket, *, reply=None, not_solved=None, status=200):
    return render(
        request,
        "portal/ticket.html",
        {
            "contact": contact,
            "token": token,
            "ticket": ticket,
            "status_words": STATUS_WORDS[ticket.status],
            "is_done": ticket.status in Ticket.DONE_STATUSES,
            "entries": public_timeline(ticket),
            "progress": return_progress(ticket),
            "reply_form": reply or ReplyForm(),
            "not_solved_form": not_solved or NotSolvedForm(),
            "notice": DONE_NOTICES.get(request.GET.get("done", "")),
        },
        status=status,
    )


def _back(token: str, ticket: Ticket, done: str) -> HttpResponse:
    return redirect(reverse("portal-ticket", args=[token, ticket.pk]) + f"?done={done}")


@require_http_methods(["GET", "HEAD"])
@portal_page()
@with_contact
def ticket_page(request: HttpRequest, contact, token: str, ticket_id: int) -> HttpResponse:
    return _page(request, contact, token, _ticket_or_404(contact, ticket_id))


@require_POST
@portal_page()
@with_contact
def ticket_reply(request: HttpRequest, contact, token: str, ticket_id: int) -> HttpResponse:
    ticket = _ticket_or_404(contact, ticket_id)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            web_message_receive(
                ticket=ticket,
                contact=contact,
                text=form.cleaned_data["body"],
                files=form.cleaned_data["attachments"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _back(token, ticket, "reply")
    return _page(request, contact, token, ticket, reply=form, status=400)


@require_POST
@portal_page()
@with_contact
def ticket_solved(request: HttpRequest, contact, token: str, ticket_id: int) -> HttpResponse:
    ticket = _ticket_or_404(contact, ticket_id)
    ticket_solved_say(ticket=ticket, contact=contact)
    return _back(token, ticket, "solved")


@require_POST
@portal_page()
@with_contact
def ticket_not_solved(request: HttpRequest, contact, token: str, ticket_id: int) -> HttpResponse:
    ticket = _ticket_or_404(contact, ticket_id)
    form = NotSolvedForm(request.POST)
    if not form.is_valid():
        return _page(request, contact, token, ticket, not_solved=form, status=400)
    ticket_not_solved_say(ticket=ticket, contact=contact, text=form.cleaned_data["body"])
    return _back(token, ticket, "not-solved")


@require_http_methods(["GET", "HEAD"])
@portal_page()
@with_contact
def attachment(request, contact, token: str, ticket_id: int, attachment_id: int) -> FileResponse:
    ticket = _ticket_or_404(contact, ticket_id)
    found = visible_attachment(ticket, attachment_id)
    if found is None:
        raise Http404("No such file.")
    response = FileResponse(
        found.file.open("rb"),
        as_attachment=True,
        filename=found.filename,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
