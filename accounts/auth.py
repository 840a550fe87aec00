"""Login protection: lockout after repeated failures, per account and per client address.

django-axes counts the failures (in the database, so every web process sees the same count) and
refuses a locked-out login before the password is checked; this module adapts it to the project:
which address a request comes from, and what a locked-out client is told.
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


class LoginLockoutBackend(AxesStandaloneBackend):
    """Refuses logins to a locked-out account or from a locked-out address.

    A login without a request (``manage.py shell``, a management command) cannot come from the
    network, so it is not counted and never refused.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_address(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the one the trusted proxies put in X-Forwarded-For.

    Behind N proxies the client is the N-th address from the right of X-Forwarded-For; the
    addresses left of it were written by the client and cannot be trusted.
    """
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-count] if len(hops) >= count else hops[0]
    return request.META.get("REMOTE_ADDR")


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """429 for a locked-out login: JSON for the API, the login page's own message otherwise."""
    minutes = settings.LOGIN_COOLOFF_MINUTES
    message = (
        f"Too many failed logins for this account or from this address. "
        f"Try again in {minutes} minutes, or ask an admin to unlock the account."
    )
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = render(
            request,
            "registration/locked_out.html",
            {"message": message, "cooloff_minutes": minutes},
            status=429,
        )
    # The cool-off restarts with every attempt made while locked out.
    response["Retry-After"] = str(minutes * 60)
    return response
