"""The ticket page's "Satisfaction" section: the ticket's surveys, when each went out (or why
not), the answer, and what the follow-up made of it. Registered with tickets' page sections."""

from surveys.selectors import ticket_surveys


def survey_section(*, request, ticket, form=None) -> dict | None:
    surveys = ticket_surveys(ticket_id=ticket.pk)
    return {"surveys": surveys} if surveys else None
