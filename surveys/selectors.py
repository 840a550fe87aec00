"""Reads on surveys: Net Promoter Score with its uncertainty, and a customer's answers with the
follow-ups they led to."""

import math
from dataclasses import dataclass

from queues.models import FollowUpTask
from surveys.models import Survey
from tickets.models import TicketEvent

# 95% of a normal distribution lies within this many standard errors of the mean.
Z_95 = 1.96


@dataclass(frozen=True)
class Nps:
    """Net Promoter Score of ``answers`` scores: % promoters (9-10) less % detractors (0-6),
    with the half-width of its 95% confidence interval in points. Never shown bare: a score of
    a handful of answers says little, and the margin says how little."""

    answers: int
    promoters: int
    passives: int
    detractors: int

    @property
    def score(self) -> int | None:
        if not self.answers:
            return None
        return round(100 * (self.promoters - self.detractors) / self.answers)

    @property
    def margin(self) -> int | None:
        """The standard error of a difference of two shares of one sample, as points at 95%."""
        if not self.answers:
            return None
        p, d = self.promoters / self.answers, self.detractors / self.answers
        variance = max(p + d - (p - d) ** 2, 0.0)
        return round(100 * Z_95 * math.sqrt(variance / self.answers))

    def __str__(self) -> str:
        if not self.answers:
            return "no answers yet"
        noun = "answer" if self.answers == 1 else "answers"
        return f"{self.score:+d} ± {self.margin}, {self.answers} {noun}"


def nps_of(scores) -> Nps:
    scores = list(scores)
    return Nps(
        answers=len(scores),
        promoters=sum(1 for score in scores if score >= 9),
        passives=sum(1 for score in scores if 7 <= score <= 8),
        detractors=sum(1 for score in scores if score <= 6),
    )


def _with_followups(surveys: list[Survey]) -> list[Survey]:
    """Give each survey ``followups``: what rules made of its answers (the salesperson's
    follow-up and its outcome), oldest first. One query, however many surveys."""
    by_id = {survey.pk: survey for survey in surveys}
    for survey in surveys:
        survey.followups = []
    if by_id:
        tasks = FollowUpTask.objects.filter(
            ticket_id__in={survey.ticket_id for survey in surveys},
            event__type=TicketEvent.Type.SURVEY_ANSWERED,
        ).select_related("event", "salesperson")
        for task in tasks.order_by("created_at", "id"):
            answered = by_id.get((task.event.changes.get("survey") or {}).get("id", 0))
            if answered is not None:
                answered.followups.append(task)
    return surveys


def customer_surveys(*, customer_id: int) -> list[Survey]:
    """The customer's answered surveys, newest first, with their follow-ups."""
    return _with_followups(
        list(
            Survey.objects.filter(
                status=Survey.Status.ANSWERED,
                score__isnull=False,
                ticket__customer_id=customer_id,
            )
            .select_related("ticket", "contact")
            .order_by("-answered_at", "-id")
        )
    )


def ticket_surveys(*, ticket_id: int) -> list[Survey]:
    """The ticket's surveys (sent or not), newest first, with their follow-ups."""
    return _with_followups(
        list(
            Survey.objects.filter(ticket_id=ticket_id)
            .select_related("contact")
            .order_by("-created_at", "-id")
        )
    )


def survey_followups(*, survey: Survey) -> list[FollowUpTask]:
    """The follow-ups rules made of the survey's answers, oldest first."""
    return _with_followups([survey])[0].followups
