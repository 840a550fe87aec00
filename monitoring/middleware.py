import time

from monitoring.metrics import REQUEST_SECONDS

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetricsMiddleware:
    """Times every request from the first middleware to the last, labelled by the view's URL
    name (bounded: "unmatched" for a path no view answers) and the status class."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        REQUEST_SECONDS.labels(
            request.method if request.method in METHODS else "other",
            (match.view_name or "unnamed") if match else "unmatched",
            f"{response.status_code // 100}xx",
        ).observe(time.perf_counter() - started)
        return response
