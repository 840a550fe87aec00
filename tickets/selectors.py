"""Reads about tickets, shaped so lists do not grow their query count with their rows."""

import re
from datetime import date, datetime, time, timedelta

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Count, F, Min, Prefetch, Q, QuerySet
from django.utils import timezone

from tickets.models import SavedView, Ticket, TicketEvent, TimelineEntry
from tickets.outbox import MAX_DISPATCH_FAILURES

REFERENCE = re.compile(r"^\s*[Tt]-?(\d{1,10})\s*$")
SEARCH_CONFIG = "english"  # the same as the trigger in migration 0009


def tickets_list() -> QuerySet[Ticket]:
    return (
        Ticket.objects.select_related("customer", "contact", "assignee", "department", "created_by")
        .defer("search_text", "search_vector")
        .prefetch_related("tags", Prefetch("related", queryset=Ticket.objects.only("id")))
    )


def tickets_brief() -> QuerySet[Ticket]:
    """Tickets with their customer only: for pages about something else on a ticket."""
    return Ticket.objects.select_related("customer").defer("search_text", "search_vector")


def tickets_for_list() -> QuerySet[Ticket]:
    """What a page of the ticket list shows (whichever columns are chosen): no descriptions or
    search text, nothing per row."""
    return (
        Ticket.objects.select_related("customer", "assignee", "contact", "department")
        .defer("description", "search_text", "search_vector", "resolution")
        .prefetch_related("tags")
    )


def ticket_get(*, ticket_id: int) -> Ticket:
    return tickets_list().get(pk=ticket_id)


def ticket_for_page(*, ticket_id: int) -> Ticket:
    """A ticket with what its page shows beside its fields: tags and linked tickets."""
    related = Ticket.objects.select_related("customer").defer(
        "description", "search_text", "search_vector"
    )
    return (
        tickets_list()
        .prefetch_related(Prefetch("related", queryset=related, to_attr="related_tickets"))
        .get(pk=ticket_id)
    )


def ticket_last_change(*, ticket_id: int) -> TimelineEntry | None:
    """The latest entry that changed the ticket's own fields (status, priority, assignee, kind,
    a return step): who the page's "changed since you opened it" names."""
    kinds = TimelineEntry.Kind
    changes = [kinds.STATUS_CHANGE, kinds.FIELD_CHANGE, kinds.RMA]
    entries = TimelineEntry.objects.filter(ticket_id=ticket_id, kind__in=changes)
    return entries.select_related("author").order_by("-id").first()


def ticket_id_from_reference(text: str) -> int | None:
    """``T-1042``, ``t1042`` or ``1042`` as a ticket id; None if the text is no reference."""
    match = REFERENCE.match(text) or re.match(r"^\s*(\d{1,10})\s*$", text)
    return int(match.group(1)) if match else None


def timeline_for(*, ticket: Ticket, after_id: int | None = None) -> QuerySet[TimelineEntry]:
    entries = TimelineEntry.objects.filter(ticket=ticket).select_related("author")
    if after_id is not None:
        entries = entries.filter(pk__gt=after_id)
    return entries


def timeline_entries_for(*, ticket_ids, kinds) -> QuerySet[TimelineEntry]:
    """The entries of several tickets at once, of the given kinds, oldest first."""
    return (
        TimelineEntry.objects.filter(ticket_id__in=ticket_ids, kind__in=kinds)
        .select_related("author")
        .order_by("ticket_id", "created_at", "id")
    )


def tickets_search(tickets: QuerySet[Ticket], query: str) -> QuerySet[Ticket]:
    """Tickets whose reference, words, notes or calls match ``query``; best matches first.

    PostgreSQL uses full-text search (stemmed, so "crashes" finds "crash") over the stored
    ``search_vector``, served by a GIN index. The embedded SQLite default has none (nor a query
    of words full-text search ignores, such as "the"): every word must appear, ignoring case.
    """
    query = query.replace("\x00", "").strip()  # PostgreSQL refuses NUL in text
    if not query:
        return tickets
    ticket_id = ticket_id_from_reference(query) if REFERENCE.match(query) else None
    if ticket_id is not None:
        return tickets.filter(pk=ticket_id)
    if connection.vendor == "postgresql" and _has_search_terms(query):
        search = SearchQuery(query, config=SEARCH_CONFIG, search_type="websearch")
        return (
            tickets.filter(search_vector=search)
            .annotate(rank=SearchRank(F("search_vector"), search))
            .order_by("-rank", "-created_at", "-id")
        )
    # Without full-text search, or for words it ignores ("the", "-"): each word must appear.
    matches = Q()
    for word in query.split():
        matches &= Q(search_text__icontains=word)
    return tickets.filter(matches)


def _has_search_terms(query: str) -> bool:
    """Whether full-text search keeps any term of ``query``: a query of stop words only would
    silently match nothing."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT numnode(websearch_to_tsquery(%s::regconfig, %s))", [SEARCH_CONFIG, query]
        )
        return cursor.fetchone()[0] > 0


def customer_tickets(*, customer_id: int, limit: int = 10) -> dict[str, list[Ticket]]:
    """A customer's open tickets and most recent others, for the rep on the phone."""
    base = (
        Ticket.objects.filter(customer_id=customer_id)
        .select_related("assignee")
        .defer("description", "search_text", "search_vector", "resolution")
    )
    return {
        "open": list(base.filter(status__in=Ticket.OPEN_STATUSES)[:limit]),
        "recent": list(base.filter(status__in=Ticket.DONE_STATUSES)[:limit]),
    }


# --- the start page ----------------------------------------------------------------------------


def local_day_start(day: date) -> datetime:
    """The first moment of ``day`` in the company's time zone (``TIME_ZONE``): "today" on the
    start page is the company's day, whoever looks and wherever the server runs."""
    return timezone.make_aware(datetime.combine(day, time.min))


def tickets_open_for_assignee(*, user, limit: int = 10) -> dict:
    """The open tickets assigned to ``user``, as their "My open tickets" list counts them:
    ``count``, ``urgent`` (of those, how many are urgent) and ``first``, the ``limit`` that
    need them most (most urgent first, then the longest open), with their customer. Two
    queries however many there are."""
    mine = Q(assignee=user, status__in=Ticket.OPEN_STATUSES)
    counts = Ticket.objects.filter(mine).aggregate(
        count=Count("id"), urgent=Count("id", filter=Q(priority=Ticket.Priority.URGENT))
    )
    first = (
        tickets_brief()
        .filter(mine)
        .alias(rank=Ticket.priority_rank())
        .order_by("rank", "created_at", "id")[:limit]
    )
    return {**counts, "first": list(first)}


def calls_logged_by(*, user, since: datetime, limit: int = 20) -> dict:
    """The calls ``user`` logged since ``since`` (a new call's first entry, or a further call on
    a ticket: every timeline entry with a call's length), newest first: ``count`` and the
    latest ``limit`` as ``calls``, each with its ticket and customer. Two queries."""
    calls = TimelineEntry.objects.filter(
        author=user, call_duration_seconds__isnull=False, created_at__gte=since
    )
    latest = (
        calls.select_related("ticket__customer")
        .defer("ticket__description", "ticket__search_text", "ticket__search_vector")
        .order_by("-created_at", "-id")[:limit]
    )
    return {"count": calls.count(), "calls": list(latest)}


# An event is dispatched on commit, and by default the outbox sweep enqueues it again 10 s later
# and every 15 s after: one still waiting a minute later is not merely queued, the worker or the
# broker is down, or its dispatch keeps failing.
EVENT_DISPATCH_GRACE = timedelta(minutes=1)


def events_undispatched_summary(*, now: datetime | None = None) -> dict:
    """Ticket events still not dispatched a minute after they happened, in one query:
    ``count``, ``given_up`` (of those, how many the sweep no longer retries after repeated
    failures, ``max_failures`` of them), ``oldest_at`` and ``before``, the moment they are
    older than (whole seconds, so a link can name the same ones)."""
    now = now or timezone.now()
    before = (now - EVENT_DISPATCH_GRACE).replace(microsecond=0)
    summary = TicketEvent.objects.filter(
        dispatched_at__isnull=True, created_at__lt=before
    ).aggregate(
        count=Count("id"),
        given_up=Count("id", filter=Q(dispatch_failures__gte=MAX_DISPATCH_FAILURES)),
        oldest_at=Min("created_at"),
    )
    return {**summary, "before": before, "max_failures": MAX_DISPATCH_FAILURES}


def events_outbox_state(*, now: datetime | None = None) -> dict:
    """The outbox as monitoring reads it, in one query on its partial index: ``backlog``
    (events not dispatched yet), ``given_up`` (of those, the ones the sweep no longer retries)
    and ``lag_seconds`` (the age of the oldest one still retried; 0 when none waits). A given-up
    event is counted, not aged: it waits for a person, and would otherwise hold the lag up
    forever."""
    now = now or timezone.now()
    waiting = TicketEvent.objects.filter(dispatched_at__isnull=True).aggregate(
        backlog=Count("id"),
        given_up=Count("id", filter=Q(dispatch_failures__gte=MAX_DISPATCH_FAILURES)),
        oldest_at=Min("created_at", filter=Q(dispatch_failures__lt=MAX_DISPATCH_FAILURES)),
    )
    oldest = waiting["oldest_at"]
    return {
        "backlog": waiting["backlog"],
        "given_up": waiting["given_up"],
        "lag_seconds": max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
    }


def saved_views_for(*, user) -> QuerySet[SavedView]:
    """The saved views a user can open: their own and every shared one, by name."""
    return (
        SavedView.objects.filter(Q(owner=user) | Q(shared=True))
        .select_related("owner")
        .order_by("name", "id")
    )
