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


# The filters a chip can show, with their labels, in the order of the filter panel.
CHIP_LABELS = {
    "kind": "Kind",
    "status": "Status",
    "channel": "Channel",
    "priority": "Priority",
    "root_cause": "Root cause",
    "customer_name": "Customer",
    "product": "Product",
    "assignee": "Assignee",
    "created_from": "Created from",
    "created_to": "Created to",
}


def _without(query, *names: str) -> str:
    kept = query.copy()
    for name in (*names, "page"):
        kept.pop(name, None)
    return kept.urlencode()


def active_filters(query, choices: dict, users) -> list[dict]:
    """The filters given in ``query``, each as a chip: its label, its value as people read it,
    and the query string without it (the chip's link removes it)."""
    names = {str(user.pk): user.username for user in users}
    chips = []
    for name, label in CHIP_LABELS.items():
        value = query.get(name, "").strip()
        if not value:
            continue
        shown = dict(choices.get(name, [])).get(value, value)
        if name == "assignee":
            shown = names.get(value, value)
        chips.append(
            {"name": name, "label": label, "value": shown, "without": _without(query, name)}
        )
    return chips


def header_links(query, sort: str) -> dict:
    """Per sortable column (created, priority): the query string a click on its header asks
    for, and the column's aria-sort now. Created toggles newest and oldest first; priority
    sorts the most urgent first, and a second click goes back to newest first."""
    if not sort and not query.get("q"):
        sort = "newest"  # the list's own order without a search

    def asking(target: str) -> str:
        kept = query.copy()
        kept.pop("page", None)
        kept["sort"] = target
        return kept.urlencode()

    created = {"newest": "descending", "oldest": "ascending"}.get(sort, "none")
    return {
        "created": {"query": asking("oldest" if sort == "newest" else "newest"), "sort": created},
        "priority": {
            "query": asking("newest" if sort == "priority" else "priority"),
            "sort": "descending" if sort == "priority" else "none",
        },
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
    choices = {
        "kind": Ticket.Kind.choices,
        "status": Ticket.Status.choices,
        "channel": Ticket.Channel.choices,
        "priority": Ticket.Priority.choices,
        "root_cause": Ticket.RootCause.choices,
    }
    users = list(staff_list())
    chips = active_filters(request.GET, choices, users)
    context = {
        "title": title,
        "view": view,
        "filters": filters,
        "page": page,
        "sort": sort if sort in SORTS else "",
        "sorts": list(SORTS),
        "query": query.urlencode(),
        "users": users,
        "choices": choices,
        "chips": chips,
        "clear_query": _without(request.GET, *CHIP_LABELS),
        "headers": header_links(request.GET, sort if sort in SORTS else ""),
        # The panel opens by itself when a filter in it was refused, to show why.
        "panel_open": bool(filters.errors),
    }
    return render(request, "tickets/ticket_list.html", context)
