"""The request form (no account), its proof-of-work challenge, and "email me a link to my
requests"."""

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from accounts.auth import client_address
from conversations.models import InboundMessage
from conversations.processing import inbound_process
from conversations.web import web_request_store
from portal.challenge import challenge_error, challenge_new
from portal.forms import ANSWERS, LinkRequestForm, RequestForm
from portal.limits import limit_reached, link_limits, request_limits, total_limit
from portal.services import links_send
from portal.views.pages import portal_page

logger = logging.getLogger(__name__)


def _limited(request: HttpRequest, message: str) -> HttpResponse:
    response = render(request, "portal/limited.html", {"message": message}, status=429)
    response["Retry-After"] = "3600"
    return response


@require_GET
@portal_page()
def challenge(request: HttpRequest) -> JsonResponse:
    return JsonResponse(challenge_new())


# No CSRF token: the form is anonymous and meant to be framed by the company's site, where
# browsers withhold our (SameSite) CSRF cookie. A cross-site post of it could do nothing its sender
# could not do by posting it directly; what guards it is the single-use proof of work and the
# limits. Every form of a contact's own pages does carry a CSRF token.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@portal_page(framed=True, challenge=True)
def request_form(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "portal/request_form.html", {"form": RequestForm()})
    address = client_address(request)
    reached = limit_reached(request_limits(address))
    if reached is not None:
        return _limited(request, reached.message)
    form = RequestForm(request.POST, request.FILES)
    if request.POST.get("website"):
        # Only a bot fills in the hidden field: it is told what a person would be, and nothing
        # is kept.
        logger.info("Web request refused: the hidden field was filled in (from %s)", address)
        return render(request, "portal/request_received.html", {"email": request.POST.get("email")})
    valid = form.is_valid()
    # Checked only for an otherwise valid request, so a valid solution is not used up by a
    # form sent back for a missing field.
    problem = challenge_error(request.POST.get("altcha", "")) if valid else ""
    if problem:
        form.add_error(None, problem)
    if not valid or problem:
        return render(request, "portal/request_form.html", {"form": form}, status=400)
    reached = limit_reached(total_limit())
    if reached is not None:
        return _limited(request, reached.message)
    data = form.cleaned_data
    try:
        inbound = web_request_store(
            name=data["name"],
            email=data["email"],
            subject=data["subject"],
            description=data["description"],
            form={name: data[name] for name in ANSWERS},
            files=data["attachments"],
            client=address or "",
        )
    except DatabaseError:
        logger.exception("A web request could not be stored")
        form.add_error(
            None, "We could not save your request just now. Please try again in a few minutes."
        )
        return render(request, "portal/request_form.html", {"form": form}, status=503)
    try:
        # Processed at once, so the confirmation can name the ticket; if this fails, the task
        # enqueued on storing (or the sweep) processes it.
        inbound_process(inbound_id=inbound.pk)
        inbound.refresh_from_db()
    except DatabaseError:
        logger.warning("Web request %s stored; its processing is left to the task", inbound.pk)
    ticket = inbound.ticket if inbound.status == InboundMessage.Status.TICKET else None
    return render(
        request,
        "portal/request_received.html",
        {"ticket": ticket, "email": data["email"]},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@portal_page()
def link_request(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "portal/link_request.html", {"form": LinkRequestForm()})
    form = LinkRequestForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/link_request.html", {"form": form}, status=400)
    email = form.cleaned_data["email"]
    reached = limit_reached(link_limits(client_address(request), email))
    if reached is not None and reached.message:
        return _limited(request, reached.message)
    if reached is None:
        links_send(email=email)
    # The same answer whether or not we know the address (or sent nothing because it asked too
    # often): the page must not tell who is a customer.
    return render(
        request,
        "portal/link_sent.html",
        {"email": email, "days": settings.PORTAL_LINK_MAX_AGE_DAYS},
    )
