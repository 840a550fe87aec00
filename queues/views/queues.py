"""Department queues: the items routing sent, worked by the department's members."""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Department, Membership
from accounts.selectors import membership_of
from accounts.services import membership_set_email_preference
from helpdesk.parsing import positive_int
from queues import services
from queues.api.filters import NotificationFilter
from queues.forms import ResponseForm, RmaStepForm, form_errors_text
from queues.models import Notification
from queues.selectors import (
    SHIPPING,
    department_for_queue,
    departments_for_user,
    notification_for_work,
    notifications_for_user,
    queue_counts_for_user,
    queue_page_rows,
    queue_status_counts,
    ticket_who_was_told,
    user_sees_escalations,
)
from routing.selectors import rules_list
from tickets.models import Ticket, TimelineEntry
from tickets.returns import latest_tracking, rma_advance
from tickets.selectors import tickets_brief, timeline_entries_for
from tickets.templatetags.ticket_format import since_short, until_short

PAGE_SIZE = 25
TABS = [(status.value, status.label) for status in Notification.Status]
# The "taken on by" filter's choices as the queue page offers them, above its list.
TAKEN = [("", "All"), ("mine", "Mine"), ("anyone", "Taken by anyone"), ("nobody", "Not taken")]
ESCALATED = "escalated"  # a lead's tab: items escalated to them, still waiting to be taken on
SORTS = {
    "oldest": ("created_at", "id"),
    "newest": ("-created_at", "-id"),
    "priority": ("priority_rank", "created_at", "id"),
}


@login_required
@require_GET
def queue_index(request):
    departments = list(departments_for_user(request.user))
    if len(departments) == 1:
        return redirect("queue", slug=departments[0].slug)
    counts = {c["slug"]: c["new_count"] for c in queue_counts_for_user(request.user)}
    rows = [(d, counts.get(d.slug, 0)) for d in departments]
    return render(request, "queues/queue_index.html", {"departments": rows})


def _department(request, slug: str) -> Department:
    """The queue's department: 404 when there is none, 403 when it is not the user's."""
    try:
        return department_for_queue(user=request.user, slug=slug)
    except Department.DoesNotExist:
        raise Http404("No such queue.") from None


def _status_tab(request, department) -> tuple[str, bool]:
    """The tab asked for (new by default) and whether the user oversees escalations here."""
    leads = user_sees_escalations(request.user, department)
    tab = request.GET.get("status") or Notification.Status.NEW
    if tab not in Notification.Status.values and not (tab == ESCALATED and leads):
        tab = Notification.Status.NEW
    return tab, leads


@login_required
@require_GET
def queue(request, slug: str):
    """A department's queue: a compact list of its items (by status tab and filters) and, with
    ``item``, one item open in the side panel. ``fragment=list`` or ``fragment=panel`` answers
    with that part alone, for the page's live refresh and for opening items without a reload."""
    department = _department(request, slug)
    fragment = request.GET.get("fragment")
    panel = _panel_context(request, department)
    if fragment == "panel":
        if panel["open_item"] is None:
            raise Http404("No such item in this queue.")
        return render(request, "queues/_item_panel.html", panel)
    context = {**_list_context(request, department), **panel}
    if fragment == "list":
        return render(request, "queues/_queue_fragment.html", context)
    context.update(
        membership=membership_of(user=request.user, department=department),
        email_choices=Membership.EmailPreference.choices,
        refresh_seconds=settings.NAV_COUNTS_REFRESH_SECONDS,
    )
    return render(request, "queues/queue.html", context)


def _list_context(request, department: Department) -> dict:
    """What the list shows: the tab's items, filtered, sorted and paged, and the tab counts."""
    tab, leads = _status_tab(request, department)
    base = notifications_for_user(request.user).filter(department=department)
    params = request.GET.copy()
    if tab == ESCALATED:
        params.pop("status", None)
        listed = base.filter(status=Notification.Status.NEW, escalated_at__isnull=False)
    else:
        params["status"] = tab
        listed = base
    filters = NotificationFilter(params, queryset=listed, request=request)
    # A refused filter lists nothing, as on the ticket list: rows that quietly ignored it would
    # look like an answer to the question asked.
    items = filters.qs.none() if filters.errors else filters.qs
    items = items.alias(priority_rank=Ticket.priority_rank("ticket__priority"))
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "oldest"
    items = items.order_by(*SORTS[sort])
    size = request.GET.get("page_size", "")
    size = min(positive_int(size, PAGE_SIZE), 100)
    page = Paginator(items, size).get_page(request.GET.get("page"))
    page.object_list = queue_page_rows(page.object_list, department=department)
    counts = queue_status_counts(base)
    tabs = [(value, label, counts.get(value, 0)) for value, label in TABS]
    if leads:
        tabs.append((ESCALATED, "Escalated", counts.get(ESCALATED, 0)))
    now = timezone.now()
    query = _list_query(request)
    query.pop("page", None)
    return {
        "department": department,
        "tab": tab,
        "tabs": tabs,
        "filters": filters,
        "page": page,
        "sort": sort,
        "sorts": list(SORTS),
        "query": query.urlencode(),
        "taken_links": _taken_links(request),
        "rules": rules_list().only("id", "name"),
        "kinds": Ticket.Kind.choices,
        "priorities": Ticket.Priority.choices,
        "now": now,
        "list_digest": _list_digest(page, tabs, now),
    }


def _list_digest(page, tabs, now) -> str:
    """A short digest of what the list and its tabs show (each row's state and age as read,
    the page, the counts): the page's live refresh replaces the list only when it changes, so
    the keyboard's place and what is ticked stay put."""
    rows = [
        (
            item.pk,
            item.status,
            item.ticket.status,
            item.ticket.priority,
            item.acted_by_id,
            bool(item.escalated_at),
            bool(item.due_at and item.due_at < now),
            since_short(item.created_at, now),
            until_short(item.due_at, now),
        )
        for item in page.object_list
    ]
    shown = repr((rows, page.number, page.paginator.num_pages, tabs))
    return hashlib.sha256(shown.encode()).hexdigest()[:16]


def _taken_links(request) -> list[tuple[str, str, str, bool]]:
    """The "taken on by" choices as links: each the list's query with that choice (the page
    back to the first), and whether it is the one shown."""
    chosen = request.GET.get("taken", "")
    links = []
    for value, label in TAKEN:
        query = _list_query(request)
        query.pop("page", None)
        query.pop("taken", None)
        if value:
            query["taken"] = value
        links.append((value, label, query.urlencode(), value == chosen))
    return links


def _list_query(request):
    """The list's own query (tab, filters, page) without the open item or a fragment: what
    each row adds its item to, and where the panel's "back to the list" goes."""
    query = request.GET.copy()
    for name in ("item", "fragment"):
        query.pop(name, None)
    return query


def _panel_context(request, department: Department) -> dict:
    """The item open in the side panel (``item``: one of this queue's, in any tab, so that an
    item just taken on stays open to be answered), with what the panel shows of its ticket."""
    pk = positive_int(request.GET.get("item"))
    found = None
    if pk:
        found = notifications_for_user(request.user).filter(department=department, pk=pk).first()
    open_item = queue_page_rows([found], department=department)[0] if found else None
    tracking = ""
    if open_item is not None and open_item.ticket.kind == Ticket.Kind.RMA:
        steps = timeline_entries_for(
            ticket_ids=[open_item.ticket_id], kinds=[TimelineEntry.Kind.RMA]
        )
        tracking = latest_tracking(steps)
    back = request.GET.copy()
    back.pop("fragment", None)
    return {
        "department": department,
        "list_query": _list_query(request).urlencode(),
        "open_item": open_item,
        "tracking": tracking,
        "panel_next": f"{request.path}?{back.urlencode()}",
        "response_form": ResponseForm(),
        "rma_form": RmaStepForm() if department.slug == SHIPPING else None,
        "now": timezone.now(),
    }


def _item(request, pk: int) -> Notification:
    """An item the user is about to act on: 404 if they may not read it, 403 if they may read
    it (they see its ticket) but it is another department's to work."""
    try:
        return notification_for_work(user=request.user, notification_id=pk)
    except Notification.DoesNotExist:
        raise Http404("No such queue item.") from None


def _back(request, item: Notification):
    """Back to the queue page the action came from (its tab, filters and page), never off-site."""
    url = request.POST.get("next") or ""
    # A path on this site only: redirect() would take any other word for a view's name.
    if url.startswith("/") and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(url)
    return redirect("queue", slug=item.department.slug)


def _now_under(item: Notification) -> str:
    """Where an item went, said after each action: the tab it is listed under now."""
    return f"it is now under {item.get_status_display()}"


def _refused(request, item: Notification, exc: ValidationError) -> None:
    messages.error(request, f"{item.ticket.reference}: {' '.join(exc.messages)}")


@login_required
@require_GET
def item_show(request, pk: int):
    """Where an email's link lands: the queue, showing that item in its current tab."""
    item = _item(request, pk)
    url = reverse("queue", args=[item.department.slug])
    return redirect(f"{url}?status={item.status}&item={item.pk}")


@login_required
@require_POST
def item_acknowledge(request, pk: int):
    item = _item(request, pk)
    try:
        item = services.notification_acknowledge(notification=item, user=request.user)
    except ValidationError as exc:
        _refused(request, item, exc)
    else:
        messages.success(request, f"{item.ticket.reference} taken on: {_now_under(item)}.")
    return _back(request, item)


@login_required
@require_POST
def items_acknowledge(request, slug: str):
    department = _department(request, slug)
    # A set: an item ticked twice is one item, and the warning below counts items, not ticks.
    ids = {i for i in (positive_int(value) for value in request.POST.getlist("items")) if i}
    if not ids:
        messages.error(request, "Tick the items to take on first: none was selected.")
        return redirect("queue", slug=department.slug)
    chosen = notifications_for_user(request.user).filter(department=department, pk__in=ids)
    count = services.notifications_acknowledge(notifications=chosen, user=request.user)
    items = f"{count} item{'s' if count != 1 else ''}"
    if count == len(ids):
        messages.success(request, f"Took on {items}: they are now under Acknowledged.")
    elif count:
        messages.warning(
            request,
            f"Took on {items} of the {len(ids)} selected: they are now under Acknowledged. "
            "The others were not new in this queue.",
        )
    else:
        messages.error(request, "None of the selected items was still new: nothing taken on.")
    return redirect("queue", slug=department.slug)


@login_required
@require_POST
def item_respond(request, pk: int):
    item = _item(request, pk)
    form = ResponseForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{item.ticket.reference}: write the response before sending it.")
        return _back(request, item)
    try:
        item = services.notification_respond(
            notification=item,
            user=request.user,
            body=form.cleaned_data["body"],
            done=form.cleaned_data["done"],
        )
    except ValidationError as exc:
        _refused(request, item, exc)
    else:
        messages.success(
            request, f"Response recorded on {item.ticket.reference}: {_now_under(item)}."
        )
    return _back(request, item)


@login_required
@require_POST
def item_complete(request, pk: int):
    item = _item(request, pk)
    try:
        item = services.notification_complete(notification=item, user=request.user)
    except ValidationError as exc:
        _refused(request, item, exc)
    else:
        messages.success(request, f"{item.ticket.reference} marked done: {_now_under(item)}.")
    return _back(request, item)


@login_required
@require_POST
def item_rma_step(request, pk: int):
    item = _item(request, pk)
    if item.department.slug != SHIPPING or item.ticket.kind != Ticket.Kind.RMA:
        raise PermissionDenied("Return steps are recorded from shipping's queue.")
    form = RmaStepForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{item.ticket.reference}: {form_errors_text(form)}")
        return _back(request, item)
    try:
        ticket = rma_advance(ticket=item.ticket, actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        _refused(request, item, exc)
    else:
        messages.success(
            request,
            f"{ticket.reference}: return step recorded, the return is now "
            f"{ticket.get_rma_status_display()}.",
        )
    return _back(request, item)


@login_required
@require_POST
def queue_email_preference(request, slug: str):
    department = _department(request, slug)
    membership = membership_of(user=request.user, department=department)
    if membership is None:  # an admin sees every queue without being a member of it
        raise PermissionDenied("Only members choose how they hear of new items.")
    try:
        membership_set_email_preference(
            membership=membership, preference=request.POST.get("email_preference", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Saved: {membership.get_email_preference_display().lower()}.")
    return redirect("queue", slug=department.slug)


@login_required
@require_GET
def ticket_who_was_told_page(request, pk: int):
    """Who was told about a ticket and what became of it: every queue item and follow-up,
    for whoever can see the ticket (acting on them stays in the queues and follow-ups)."""
    ticket = get_object_or_404(tickets_brief(), pk=pk)
    told = ticket_who_was_told(user=request.user, ticket_id=ticket.pk)
    return render(request, "queues/ticket_queues.html", {"ticket": ticket, **told})
