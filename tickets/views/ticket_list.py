"""Finding tickets: filters in the URL (shareable), sorting, pages, and the search box."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.selectors import staff_list
from tickets.api.filters import TicketFilter
from tickets.models import Ticket
from tickets.selectors import tickets_for_list

PAGE_SIZE = 50
SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "updated": ("-updated_at", "-id"),
    "priority": ("priority_rank", "-created_at", "-id"),
}
VIEWS = {
    "all": ("All tickets", {}),
    "mine": ("My open tickets", {"is_open": "true"}),
    "unassigned": ("New and unassigned", {"status": "new", "unassigned": "true"}),
}


@login_required
@require_GET
def ticket_list(request, view: str = "all"):
    title, fixed = VIEWS[view]
    params = request.GET.copy()
    for name, value in fixed.items():
        params.setdefault(name, value)
    tickets = tickets_for_list()
    if view == "mine":
        tickets = tickets.filter(assignee=request.user)
    filters = TicketFilter(params, queryset=tickets, request=request)
    # A refused filter lists nothing, as the API answers 400: a list that quietly ignored it
    # would look like an answer to the question asked.
    results = filters.qs.none() if filters.errors else filters.qs
    sort = request.GET.get("sort", "")
    if sort in SORTS:
        if sort == "priority":
            results = results.alias(priority_rank=Ticket.priority_rank())
        results = results.order_by(*SORTS[sort])
    elif not params.get("q"):
        results = results.order_by(*SORTS["newest"])
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "title": title,
        "view": view,
        "filters": filters,
        "page": page,
        "sort": sort if sort in SORTS else "",
        "sorts": list(SORTS),
        "query": query.urlencode(),
        "users": staff_list(),
        "choices": {
            "kind": Ticket.Kind.choices,
            "status": Ticket.Status.choices,
            "channel": Ticket.Channel.choices,
            "priority": Ticket.Priority.choices,
            "root_cause": Ticket.RootCause.choices,
        },
    }
    return render(request, "tickets/ticket_list.html", context)
