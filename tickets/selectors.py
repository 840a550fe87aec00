"""Reads about tickets, shaped so lists do not grow their query count with their rows."""

import re

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, Prefetch, Q, QuerySet

from tickets.models import Ticket, TimelineEntry

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
    """What a page of the ticket list shows: no descriptions or search text, nothing per row."""
    return (
        Ticket.objects.select_related("customer", "assignee")
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
