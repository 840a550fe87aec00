"""Refuse a post to the portal bigger than the files it may carry, before anything reads it.

It runs before the CSRF check, which reads the form (and so spools any upload to disk) before a
view could refuse it: a post with a made-up CSRF cookie would otherwise be read whole.
"""

from django.conf import settings
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.cache import add_never_cache_headers

PORTAL_PREFIX = "/support/"


def portal_body_limit() -> int:
    """The most a portal post may weigh: its files, and a megabyte for the rest."""
    return settings.PORTAL_ATTACHMENTS_TOTAL_MAX_BYTES + 1024 * 1024


class PortalBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path.startswith(PORTAL_PREFIX):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > portal_body_limit():
                return self._refused(request)
        return self.get_response(request)

    def _refused(self, request):
        message = (
            "That is more than we can receive at once: attach at most "
            f"{settings.PORTAL_ATTACHMENTS_MAX} files, "
            f"{filesizeformat(settings.PORTAL_ATTACHMENT_MAX_BYTES)} each and "
            f"{filesizeformat(settings.PORTAL_ATTACHMENTS_TOTAL_MAX_BYTES)} together, or send "
            "the rest by email."
        )
        response = render(
            request,
            "portal/limited.html",
            {"message": message, "title": "Too much at once"},
            status=413,
        )
        add_never_cache_headers(response)
        return response
