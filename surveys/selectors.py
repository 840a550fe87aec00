"""Reads on surveys: Net Promoter Score with its uncertainty, and a customer's answers with the
follow-ups they led to."""

import math
from dataclasses import dataclass

from django.db.models import QuerySet

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


def answered_surveys() -> QuerySet[Survey]:
    return Survey.objects.filter(status=Survey.Status.ANSWERED, score__isnull=False)


def nps_for(surveys: QuerySet[Survey]) -> Nps:
    return nps_of(surveys.filter(score__isnull=False).values_list("score", flat=True))


def customer_surveys(*, customer_id: int) -> list[Survey]:
    """The customer's answered surveys, newest first, each with ``followups``: what rules made
    of its answers (the salesperson's follow-up and its outcome)."""
    surveys = list(
        answered_surveys()
        .filter(ticket__customer_id=customer_id)
        .select_related("ticket", "contact")
        .order_by("-answered_at", "-id")
    )
    by_id = {survey.pk: survey for survey in surveys}
    for survey in surveys:
        survey.followups = []
    if by_id:
        tasks = FollowUpTask.objects.filter(
            ticket__customer_id=customer_id, event__type=TicketEvent.Type.SURVEY_ANSWERED
        ).select_related("event", "salesperson")
        for task in tasks.order_by("created_at"):
            answered = by_id.get((task.event.changes.get("survey") or {}).get("id", 0))
            if answered is not None:
                answered.followups.append(task)
    return surveys


def survey_followups(*, survey: Survey) -> list[FollowUpTask]:
    """The follow-ups rules made of the survey's answers, oldest first."""
    tasks = FollowUpTask.objects.filter(
        ticket_id=survey.ticket_id, event__type=TicketEvent.Type.SURVEY_ANSWERED
    ).select_related("event", "salesperson")
    return [
        task
        for task in tasks.order_by("created_at")
        if (task.event.changes.get("survey") or {}).get("id") == survey.pk
    ]
