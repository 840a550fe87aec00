"""Reads about tickets, shaped so lists do not grow their query count with their rows."""

from django.db.models import QuerySet

from tickets.models import Ticket, TimelineEntry


def tickets_list() -> QuerySet[Ticket]:
    return Ticket.objects.select_related(
        "customer", "contact", "assignee", "department", "created_by"
    ).prefetch_related("tags")


def ticket_get(*, ticket_id: int) -> Ticket:
    return tickets_list().get(pk=ticket_id)


def timeline_for(*, ticket: Ticket) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.filter(ticket=ticket).select_related("author")
