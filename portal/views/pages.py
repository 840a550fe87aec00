"""What every portal page shares: no caching (pages hold a contact's requests, and links are
personal), the policies of the portal's Content-Security-Policy, and the contact a link is for."""

from functools import wraps

from django.conf import settings
from django.http import Http404, HttpRequest
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts.portal_links import LinkExpired, contact_for_token
from portal.forms import LinkRequestForm


def portal_page(*, framed: bool = False, challenge: bool = False):
    """``framed``: the page may be shown in a frame on the sites of PORTAL_FRAME_ANCESTORS (the
    request form, embedded on the company's site). ``challenge``: it runs the proof of work,
    whose workers the altcha script starts from a blob: URL."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if challenge:
                response._csp_update = {"worker-src": ["'self'", "blob:"]}
            if framed:
                response._csp_replace = {"frame-ancestors": settings.PORTAL_FRAME_ANCESTORS}
                response.xframe_options_exempt = True
            return response

        return never_cache(wrapped)

    return decorator


def expired(request: HttpRequest):
    return render(
        request,
        "portal/link_expired.html",
        {"form": LinkRequestForm(), "days": settings.PORTAL_LINK_MAX_AGE_DAYS},
        status=410,
    )


def with_contact(view):
    """Views of a link's pages receive its contact instead of its token."""

    @wraps(view)
    def wrapped(request, token: str, *args, **kwargs):
        # 404 for a link that is not ours or was revoked; one too old offers a new one.
        try:
            contact = contact_for_token(token)
        except LinkExpired:
            return expired(request)
        if contact is None:
            raise Http404("No such link.")
        return view(request, contact, token, *args, **kwargs)

    return wrapped
