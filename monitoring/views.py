"""Liveness, readiness and metrics: unauthenticated probes that reveal nothing, and the
Prometheus endpoint behind its token."""

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from monitoring.health import check_names, readiness
from monitoring.metrics import metrics_text


@never_cache
@require_GET
def healthz(request):
    """The process is up and answering: nothing else is asked (a restart would not mend a
    database outage, so liveness must not depend on one)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Ready: the database answers, every migration is applied, the broker answers and routing
    is not behind (READYZ_OUTBOX_LAG_SECONDS); ``?only=database,migrations`` asks just those
    (a load balancer's probe of the web tier: monitoring.health says why). 503 names the
    failing checks only."""
    try:
        verdicts = readiness(check_names(request.GET.getlist("only")))
    except ValueError as error:
        return JsonResponse({"only": [str(error)]}, status=400)
    ready = all(verdicts.values())
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {name: "ok" if ok else "failing" for name, ok in verdicts.items()},
    }
    return JsonResponse(body, status=200 if ready else 503)


@never_cache
@require_GET
def metrics(request):
    """Prometheus's scrape, with ``Authorization: Bearer <METRICS_TOKEN>``. Without a token
    configured there is no such page."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: set METRICS_TOKEN.")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("A bearer token is needed.", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
