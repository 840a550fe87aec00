"""Pages that belong to no single app: the start page, the health check, old admin addresses."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from queues.selectors import queue_counts_for_user
from tickets.selectors import tickets_for_list


@login_required
def home(request):
    context = {
        "recent_tickets": tickets_for_list()[:10],
        # Only the queues the user works: other departments' workload is not theirs to see.
        "queues": queue_counts_for_user(request.user),
    }
    return render(request, "home.html", context)


@require_GET
def healthz(request):
    """Liveness and database reachability, for load balancers and docker-compose."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def moved_admin_page(request, *, app: str, model: str, rest: str):
    """An admin page of a model that moved out of routing, at its new address (same query)."""
    target = f"/admin/{app}/{model}/{rest}"
    if request.META.get("QUERY_STRING"):
        target += f"?{request.META['QUERY_STRING']}"
    return HttpResponsePermanentRedirect(target)
