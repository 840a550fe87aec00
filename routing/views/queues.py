"""Department queues: the items routing sent, worked by the department's members."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Membership
from accounts.selectors import membership_of
from accounts.services import membership_set_email_preference
from helpdesk.parsing import positive_int
from routing import queues
from routing.api.filters import NotificationFilter
from routing.forms import ResponseForm, RmaStepForm
from routing.models import Notification
from routing.selectors import (
    departments_for_user,
    notifications_for_user,
    queue_counts_for_user,
    queue_status_counts,
    rules_list,
)
from tickets.models import Ticket
from tickets.returns import rma_advance

PAGE_SIZE = 25
TABS = [(status.value, status.label) for status in Notification.Status]
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
    return render(request, "routing/queue_index.html", {"departments": rows})


def _department_or_403(request, slug: str):
    department = departments_for_user(request.user).filter(slug=slug).first()
    if department is None:
        raise PermissionDenied("You are not a member of this department.")
    return department


@login_required
@require_GET
def queue(request, slug: str):
    department = _department_or_403(request, slug)
    tab = request.GET.get("status") or Notification.Status.NEW
    if tab not in Notification.Status.values:
        tab = Notification.Status.NEW
    base = notifications_for_user(request.user).filter(department=department)
    params = request.GET.copy()
    params["status"] = tab
    filters = NotificationFilter(params, queryset=base)
    items = filters.qs.alias(priority_rank=Ticket.priority_rank("ticket__priority"))
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "oldest"
    items = items.order_by(*SORTS[sort])
    size = request.GET.get("page_size", "")
    size = min(positive_int(size, PAGE_SIZE), 100)
    page = Paginator(items, size).get_page(request.GET.get("page"))
    counts = queue_status_counts(base)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "department": department,
        "tab": tab,
        "tabs": [(value, label, counts.get(value, 0)) for value, label in TABS],
        "filters": filters,
        "page": page,
        "sort": sort,
        "sorts": list(SORTS),
        "query": query.urlencode(),
        "rules": rules_list().only("id", "name"),
        "kinds": Ticket.Kind.choices,
        "priorities": Ticket.Priority.choices,
        "response_form": ResponseForm(),
        "rma_form": RmaStepForm() if department.slug == "shipping" else None,
        "membership": membership_of(user=request.user, department=department),
        "email_choices": Membership.EmailPreference.choices,
        "now": timezone.now(),
    }
    return render(request, "routing/queue.html", context)


def _item(request, pk: int) -> Notification:
    return get_object_or_404(notifications_for_user(request.user), pk=pk)


def _back(request, item: Notification):
    """Back to the queue page the action came from (its tab, filters and page), never off-site."""
    url = request.POST.get("next") or ""
    # A path on this site only: redirect() would take any other word for a view's name.
    if url.startswith("/") and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(url)
    return redirect("queue", slug=item.department.slug)


@login_required
@require_GET
def item_show(request, pk: int):
    """Where an email's link lands: the queue, showing that item in its current tab."""
    item = _item(request, pk)
    url = reverse("queue", args=[item.department.slug])
    return redirect(f"{url}?status={item.status}&ticket={item.ticket_id}#item-{item.pk}")


@login_required
@require_POST
def item_acknowledge(request, pk: int):
    item = _item(request, pk)
    try:
        queues.notification_acknowledge(notification=item, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Took on {item.ticket.reference}.")
    return _back(request, item)


@login_required
@require_POST
def items_acknowledge(request, slug: str):
    department = _department_or_403(request, slug)
    ids = [positive_int(value) for value in request.POST.getlist("items")]
    chosen = notifications_for_user(request.user).filter(department=department, pk__in=ids)
    count = queues.notifications_acknowledge(notifications=chosen, user=request.user)
    messages.success(request, f"Took on {count} item{'s' if count != 1 else ''}.")
    return redirect("queue", slug=department.slug)


@login_required
@require_POST
def item_respond(request, pk: int):
    item = _item(request, pk)
    form = ResponseForm(request.POST)
    if form.is_valid():
        try:
            queues.notification_respond(
                notification=item,
                user=request.user,
                body=form.cleaned_data["body"],
                done=form.cleaned_data["done"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Response recorded on {item.ticket.reference}.")
    else:
        messages.error(request, "Write the response before sending it.")
    return _back(request, item)


@login_required
@require_POST
def item_complete(request, pk: int):
    item = _item(request, pk)
    try:
        queues.notification_complete(notification=item, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(request, item)


@login_required
@require_POST
def item_rma_step(request, pk: int):
    item = _item(request, pk)
    if item.department.slug != "shipping" or item.ticket.kind != Ticket.Kind.RMA:
        raise PermissionDenied("Return steps are recorded from shipping's queue.")
    form = RmaStepForm(request.POST)
    if form.is_valid():
        try:
            rma_advance(ticket=item.ticket, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{item.ticket.reference}: return step recorded.")
    else:
        messages.error(request, "Choose a return step.")
    return _back(request, item)


@login_required
@require_POST
def queue_email_preference(request, slug: str):
    department = _department_or_403(request, slug)
    membership = membership_of(user=request.user, department=department)
    if membership is None:  # an admin sees every queue without being a member of it
        raise Http404("You are not a member of this department.")
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
def queue_counts(request):
    """New items per department of the user, for the navigation's live counts."""
    return JsonResponse({"queues": queue_counts_for_user(request.user)})
