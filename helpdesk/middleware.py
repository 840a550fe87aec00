"""Response headers that every page and API answer share."""

from django.utils.cache import patch_cache_control


class PrivateCacheMiddleware:
    """What a signed-in user (or an API client with a token) is shown is theirs alone: no
    shared cache may keep it, and the browser keeps no copy after logging out.

    Answers that set their own ``Cache-Control`` (static files, say) keep it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if (signed_in or "HTTP_AUTHORIZATION" in request.META) and not response.has_header(
            "Cache-Control"
        ):
            patch_cache_control(response, private=True, no_store=True)
        return response
