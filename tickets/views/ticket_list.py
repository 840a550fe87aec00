"""Finding tickets: filters in the URL (shareable), sorting, pages, and the search box."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import is_admin
from accounts.selectors import staff_list
from tickets.api.filters import TicketFilter
from tickets.bulk import tickets_bulk_update
from tickets.forms import BulkChangeForm
from tickets.list_columns import COLUMNS, list_columns_for, list_columns_save
from tickets.list_filters import LIST_FILTERS
from tickets.models import SavedView, Ticket
from tickets.saved_views import saved_view_delete, saved_view_query, saved_view_save
from tickets.selectors import saved_views_for, tickets_for_list

PAGE_SIZE = 50
SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "updated": ("-updated_at", "-id"),
    "priority": ("priority_rank", "-created_at", "-id"),
}
VIEW_URLS = {"all": "tickets-page", "mine": "tickets-mine", "unassigned": "tickets-unassigned"}
VIEWS = {
    "all": ("All tickets", {}),
    "mine": ("My open tickets", {"is_open": "true"}),
    "unassigned": ("New and unassigned", {"status": "new", "unassigned": "true"}),
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
    for name, label in LIST_FILTERS.items():
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
    """Per sortable column (created, priority, updated): the query string a click on its header
    asks for, and the column's aria-sort now. Created toggles newest and oldest first; priority
    sorts the most urgent first and updated the latest changed, and a second click on either
    goes back to newest first."""
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
        "updated": {
            "query": asking("newest" if sort == "updated" else "updated"),
            "sort": "descending" if sort == "updated" else "none",
        },
    }


@login_required
@require_GET
def ticket_list(request, view: str = "all"):
    return _list_page(request, view, request.GET)


@login_required
@require_POST
def saved_view_add(request):
    """Save the list's filters (posted as the list's query string) under a name. Refused (a
    name missing, sharing by someone not an admin): the list again, 400, with the reason beside
    the form and the name kept."""
    query = QueryDict(request.POST.get("query", ""))
    name = request.POST.get("name", "")
    try:
        saved = saved_view_save(
            owner=request.user, name=name, query=query, shared=request.POST.get("shared") == "on"
        )
    except ValidationError as error:
        return _list_page(
            request,
            "all",
            query,
            status=400,
            save_errors=[
                message for messages_ in error.message_dict.values() for message in messages_
            ],
            save_name=name,
        )
    messages.success(request, f"Saved the view “{saved.name}”.")
    return redirect(f"{reverse('tickets-page')}?{saved.query}")


@login_required
@require_POST
def ticket_list_columns(request):
    """Keep the columns ticked under "Columns" as the user's own, then the list again as it was
    (``back``: its query string; ``view``: which list)."""
    back = QueryDict(request.POST.get("back", ""))
    view = request.POST.get("view") if request.POST.get("view") in VIEWS else "all"
    try:
        list_columns_save(user=request.user, names=request.POST.getlist("columns"))
    except ValidationError as error:
        refused = [message for messages_ in error.message_dict.values() for message in messages_]
        return _list_page(request, view, back, status=400, columns_errors=refused)
    messages.success(request, "Saved your columns.")
    return redirect(f"{reverse(VIEW_URLS[view])}?{back.urlencode()}")


@login_required
@require_POST
def saved_view_remove(request, pk: int):
    saved = get_object_or_404(SavedView, pk=pk)
    saved_view_delete(view=saved, actor=request.user)  # PermissionDenied: 403
    messages.success(request, f"Deleted the view “{saved.name}”.")
    return redirect("tickets-page")


@login_required
@require_POST
def tickets_bulk_change(request):
    """The list's bulk action: the same change on every ticket ticked, each recorded and routed
    as if changed alone; then the list again (as it was filtered) saying what changed, what
    already was so, and what could not change and why. Refused input: the list, 400."""
    back = QueryDict(request.POST.get("back", ""))
    view = request.POST.get("view") if request.POST.get("view") in VIEWS else "all"
    form = BulkChangeForm(request.POST, staff=staff_list())
    if not form.is_valid():
        return _list_page(request, view, back, status=400, bulk_form=form)
    try:
        result = tickets_bulk_update(
            ticket_ids=form.ticket_ids,
            actor=request.user,
            changes=form.changes(),
            add_tag=form.cleaned_data.get("tag", ""),
        )
    except ValidationError as error:
        form.add_service_errors(error)
        return _list_page(request, view, back, status=400, bulk_form=form)
    what = form.summary()
    if result.changed:
        references = ", ".join(ticket.reference for ticket in result.changed)
        count = len(result.changed)
        messages.success(
            request, f"Changed {count} ticket{'s' if count != 1 else ''} ({what}): {references}."
        )
    if result.unchanged:
        references = ", ".join(ticket.reference for ticket in result.unchanged)
        messages.info(request, f"Already so, left as they were: {references}.")
    for ticket, reason in result.refused:
        messages.warning(request, f"{ticket.reference} was not changed: {reason}")
    return redirect(f"{reverse(VIEW_URLS[view])}?{back.urlencode()}")


def _list_page(request, view: str, given, *, status: int = 200, **extra):
    title, fixed = VIEWS[view]
    params = given.copy()
    for name, value in fixed.items():
        params.setdefault(name, value)
    tickets = tickets_for_list()
    if view == "mine":
        tickets = tickets.filter(assignee=request.user)
    filters = TicketFilter(params, queryset=tickets, request=request)
    # A refused filter lists nothing, as the API answers 400: a list that quietly ignored it
    # would look like an answer to the question asked.
    results = filters.qs.none() if filters.errors else filters.qs
    sort = given.get("sort", "")
    sort = sort if sort in SORTS else ""
    if sort:
        if sort == "priority":
            results = results.alias(priority_rank=Ticket.priority_rank())
        results = results.order_by(*SORTS[sort])
    elif not params.get("q"):
        results = results.order_by(*SORTS["newest"])
    page = Paginator(results, PAGE_SIZE).get_page(given.get("page"))
    choices = {
        "kind": Ticket.Kind.choices,
        "status": Ticket.Status.choices,
        "channel": Ticket.Channel.choices,
        "priority": Ticket.Priority.choices,
        "root_cause": Ticket.RootCause.choices,
    }
    users = list(staff_list())
    chips = active_filters(given, choices, users)
    context = {
        "title": title,
        "view": view,
        "filters": filters,
        "page": page,
        "sort": sort,
        "sorts": list(SORTS),
        "query": _without(given),
        "users": users,
        "choices": choices,
        "chips": chips,
        "clear_query": _without(given, *LIST_FILTERS),
        "headers": header_links(given, sort),
        "saved_views": saved_views_for(user=request.user),
        "can_share_views": is_admin(request.user),
        "bulk_form": BulkChangeForm(staff=users),
        "columns": list_columns_for(user=request.user),
        "column_choices": list(COLUMNS.items()),
        "current_view": saved_view_query(given),
        # The panel opens by itself when a filter in it was refused, to show why.
        "panel_open": bool(filters.errors),
    }
    return render(request, "tickets/ticket_list.html", {**context, **extra}, status=status)
