"""Pages that belong to no single app: the start page, the navigation's live counts, old admin
addresses."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from conversations.selectors import inbound_waiting_counts, waiting_mail_count
from deliveries.models import DeliveryStatus
from deliveries.selectors import deliveries_failed_counts
from queues.selectors import (
    followups_summary_for_user,
    is_salesperson,
    nav_counts_for_user,
    queue_health_for_member,
)
from tickets.selectors import (
    calls_logged_by,
    events_undispatched_summary,
    local_day_start,
    tickets_open_for_assignee,
)

# How urgent a start-page section is: something late or broken, something waiting, nothing.
LATE, WAITING, CLEAR = 2, 1, 0
SUPPORT = "support"  # its members are the reps who take the calls
# The routing section links to the admin's lists of events and deliveries, so it is shown to
# whoever the admin lets read them (admins, staff granted these), never as links to a refusal.
ROUTING_HEALTH_PERMISSIONS = (
    "tickets.view_ticketevent",
    "deliveries.view_emaildelivery",
    "deliveries.view_webhookdelivery",
)


@login_required
def home(request):
    """What needs the user now: a section for each role they hold, the most urgent first."""
    return render(request, "home.html", {"sections": _home_sections(request.user)})


@login_required
@require_GET
def nav_counts(request):
    """What the navigation's badges show, for their refresh without a reload: the user's queues
    (per queue and in total) and the mail waiting for a rep. One answer for both, so that an
    open page costs one request per interval, whatever the navigation counts."""
    return JsonResponse(
        {"queues": nav_counts_for_user(request.user), "mail": {"waiting": waiting_mail_count()}}
    )


def _home_sections(user) -> list[dict]:
    now = timezone.now()
    queues = queue_health_for_member(user, now=now)
    sections = []
    mail: dict[str, int] | None = None  # read once for the sections that show it
    if user.is_staff and user.has_perms(ROUTING_HEALTH_PERMISSIONS):
        mail = inbound_waiting_counts()
        sections.append(_routing_section(now, mail))
    for queue in queues:
        urgency = _urgency(late=queue["past_target"], waiting=queue["new_count"])
        sections.append({"template": "home/_queue.html", "urgency": urgency, "queue": queue})
    if is_salesperson(user):
        followups = followups_summary_for_user(user, now=now)
        urgency = _urgency(late=followups["overdue"], waiting=followups["due_today"])
        sections.append(
            {"template": "home/_followups.html", "urgency": urgency, "followups": followups}
        )
    if any(queue["slug"] == SUPPORT for queue in queues):
        tickets = tickets_open_for_assignee(user=user)
        calls = calls_logged_by(user=user, since=local_day_start(timezone.localdate(now)))
        # Mail nobody could put on a ticket waits for a rep: a new customer's first email,
        # most often, which nothing else would bring to anyone's attention.
        mail = mail if mail is not None else inbound_waiting_counts()
        waiting = tickets["count"] + mail["triage"] + mail["quarantined"]
        sections.append(
            {
                "template": "home/_rep.html",
                # No ticket has a deadline of its own: an urgent one is the rep's "late".
                "urgency": _urgency(late=tickets["urgent"], waiting=waiting),
                "tickets": tickets,
                "calls": calls,
                "mail": mail,
                "mail_links": _mail_links(),
            }
        )
    # sorted() is stable: equally urgent sections keep the order above (what stops everyone's
    # work first, then response targets, then due dates, then the rep's own tickets).
    return sorted(sections, key=lambda section: -section["urgency"])


def _urgency(*, late: int, waiting: int) -> int:
    return LATE if late else WAITING if waiting else CLEAR


def _mail_links() -> dict[str, str]:
    """The Mail page's tabs of the mail waiting for a rep."""
    inbox = reverse("mail-inbox")
    return {"triage": f"{inbox}?view=triage", "quarantined": f"{inbox}?view=quarantined"}


def _routing_section(now, mail: dict[str, int]) -> dict:
    """Whether routing keeps up: events not dispatched, deliveries failed, mail held back, each
    linked to the list that shows the same rows (the admin's filters, the Mail page's tabs)."""
    events = events_undispatched_summary(now=now)
    failed = deliveries_failed_counts()
    undispatched = {"dispatched_at__isnull": "True", "created_at__lt": events["before"].isoformat()}
    given_up = {**undispatched, "dispatch_failures__gte": events["max_failures"]}
    failed_only = {"status__exact": DeliveryStatus.FAILED.value}
    links = {
        "events": _admin_list("tickets_ticketevent", undispatched),
        "given_up": _admin_list("tickets_ticketevent", given_up),
        "emails": _admin_list("deliveries_emaildelivery", failed_only),
        "webhooks": _admin_list("deliveries_webhookdelivery", failed_only),
        **_mail_links(),
    }
    broken = events["count"] + failed["emails"] + failed["webhooks"]
    return {
        "template": "home/_routing.html",
        "urgency": _urgency(late=broken, waiting=mail["triage"] + mail["quarantined"]),
        "events": events,
        "failed": failed,
        "mail": mail,
        "links": links,
    }


def _admin_list(model: str, query: dict) -> str:
    return f"{reverse(f'admin:{model}_changelist')}?{urlencode(query)}"


def moved_admin_page(request, *, app: str, model: str, rest: str):
    """An admin page of a model that moved out of routing, at its new address (same query)."""
    target = f"/admin/{app}/{model}/{rest}"
    if request.META.get("QUERY_STRING"):
        target += f"?{request.META['QUERY_STRING']}"
    return HttpResponsePermanentRedirect(target)
