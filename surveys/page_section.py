"""The ticket page's "Satisfaction" section: the ticket's surveys, when each went out (or why
not), the answer, and what the follow-up made of it. Registered with tickets' page sections."""

from surveys.models import Survey
from surveys.selectors import survey_followups


def survey_section(*, request, ticket, form=None) -> dict | None:
    surveys = list(
        Survey.objects.filter(ticket=ticket).select_related("contact").order_by("-created_at")
    )
    if not surveys:
        return None
    for survey in surveys:
        survey.followups = survey_followups(survey=survey) if survey.score is not None else []
    return {"surveys": surveys}
