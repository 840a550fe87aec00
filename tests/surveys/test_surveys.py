"""Satisfaction surveys: asked once a while after resolution, within the throttles; answered by
POST only; each answer a ``survey.answered`` event that the starter rules close the loop on."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.models import EmailDelivery
from helpdesk.calendar import add_working_days, add_working_hours
from queues.followups import followup_record_outcome
from queues.models import FollowUpTask, Notification
from surveys.links import survey_for_token, survey_token
from surveys.models import Survey
from surveys.selectors import customer_surveys, nps_of, survey_followups
from surveys.services import survey_answer, surveys_send_due
from tests.conftest import dispatch_pending
from tests.factories import ContactFactory, CustomerFactory
from tickets.models import Ticket, TicketEvent, TimelineEntry
from tickets.services import ticket_create, ticket_update

pytestmark = pytest.mark.django_db


def _resolved(contact, rep, *, kind="bug", subject="Export fails") -> Ticket:
    ticket = ticket_create(
        customer=contact.customer, contact=contact, kind=kind, channel="web", subject=subject
    )
    ticket_update(
        ticket=ticket, actor=rep, status="resolved", root_cause="product_defect", resolution="Fix"
    )
    dispatch_pending()
    return ticket


def _due(survey: Survey):
    return survey.send_after + timedelta(minutes=1)


def test_a_resolution_schedules_one_survey_24_working_hours_later(contact, rep):
    ticket = _resolved(contact, rep)
    survey = Survey.objects.get(ticket=ticket)
    resolved = TicketEvent.objects.get(ticket=ticket, type="ticket.status_changed")
    assert survey.send_after == add_working_hours(resolved.created_at, 24)
    assert survey.contact == contact
    assert survey.status == "scheduled"
    # The event handled again (at-least-once delivery) schedules nothing more.
    from surveys.services import surveys_on_event

    surveys_on_event(resolved)
    assert Survey.objects.count() == 1


def test_the_survey_goes_out_when_the_delay_has_passed_and_only_then(contact, rep):
    ticket = _resolved(contact, rep)
    survey = Survey.objects.get()
    assert surveys_send_due(now=survey.send_after - timedelta(minutes=1)) == 0
    assert surveys_send_due(now=_due(survey)) == 1
    assert surveys_send_due(now=_due(survey)) == 0  # once
    survey.refresh_from_db()
    assert survey.status == "sent"
    email = EmailDelivery.objects.get(key=f"survey:{survey.pk}")
    assert email.recipient == contact.email
    assert ticket.reference in email.subject
    assert "How likely are you to recommend us to a friend or colleague?" in email.body
    # The link (signed with the time it was made) is the survey's own.
    [token] = set(re.findall(r"/support/survey/([^/\s]+)/\?score=\d+", email.body))
    assert survey_for_token(token) == survey
    for score in range(11):
        assert f"/support/survey/{token}/?score={score}" in email.body
        assert f"/support/survey/{token}/?score={score}" in email.html_body
    assert f"/{ticket.pk}/" in email.body.splitlines()[-1]  # the request's page, as always
    assert "/support/my/" in email.body.splitlines()[-1]
    entry = TimelineEntry.objects.get(ticket=ticket, kind="survey")
    assert "sent to Ada Customer" in entry.body
    assert "/support/survey/" not in entry.body


def test_a_ticket_reopened_before_the_delay_gets_no_survey(contact, rep):
    ticket = _resolved(contact, rep)
    ticket_update(ticket=ticket, actor=rep, status="open")
    dispatch_pending()
    survey = Survey.objects.get()
    assert survey.status == "cancelled"
    assert surveys_send_due(now=_due(survey)) == 0
    assert not EmailDelivery.objects.filter(key__startswith="survey:").exists()


def test_at_most_one_survey_per_contact_in_30_days(contact, rep):
    first = _resolved(contact, rep)
    survey = Survey.objects.get(ticket=first)
    surveys_send_due(now=_due(survey))
    second = _resolved(contact, rep, subject="Second problem")
    later = Survey.objects.get(ticket=second)
    assert surveys_send_due(now=_due(survey) + timedelta(days=10)) == 0
    later.refresh_from_db()
    assert later.status == "skipped"
    assert "at most one survey every 30 days" in later.reason
    assert EmailDelivery.objects.filter(key__startswith="survey:").count() == 1


@pytest.mark.parametrize(
    ("make_unsuitable", "reason"),
    [
        (lambda c: setattr(c, "email_bouncing_since", timezone.now()), "bounces"),
        (lambda c: setattr(c, "email", "no-reply@customer.example"), "nobody answers"),
        (lambda c: setattr(c, "email", ""), "no email address"),
        (lambda c: setattr(c.customer, "is_internal", True), "internal or a partner"),
    ],
)
def test_no_survey_to_those_who_cannot_or_should_not_answer(contact, rep, make_unsuitable, reason):
    _resolved(contact, rep)
    make_unsuitable(contact)
    contact.save()
    contact.customer.save()
    survey = Survey.objects.get()
    assert surveys_send_due(now=_due(survey)) == 0
    survey.refresh_from_db()
    assert survey.status == "skipped"
    assert reason in survey.reason


def _sent(contact, rep, **kwargs) -> Survey:
    _resolved(contact, rep, **kwargs)
    survey = Survey.objects.latest("id")
    surveys_send_due(now=_due(survey))
    survey.refresh_from_db()
    return survey


def test_the_link_shows_the_chosen_score_and_records_nothing_on_get(client, contact, rep):
    survey = _sent(contact, rep)
    url = f"/support/survey/{survey_token(survey)}/"
    events = TicketEvent.objects.count()
    for method in (client.get, client.head):
        response = method(url + "?score=3")
        assert response.status_code == 200
    body = client.get(url + "?score=3").content.decode()
    assert 'value="3" id="id_score_3" required checked' in body
    assert body.count(" checked") == 1
    survey.refresh_from_db()
    assert survey.score is None
    assert survey.status == "sent"
    assert TicketEvent.objects.count() == events


def test_an_answer_is_a_survey_answered_event_and_the_same_answer_again_is_no_new_one(
    client, contact, rep
):
    survey = _sent(contact, rep)
    url = f"/support/survey/{survey_token(survey)}/"
    response = client.post(url, {"score": "3", "comment": "late part"})
    assert response.status_code == 302
    survey.refresh_from_db()
    assert (survey.status, survey.score, survey.comment) == ("answered", 3, "late part")
    event = TicketEvent.objects.get(type="survey.answered")
    assert event.changes["survey"] == {
        "id": survey.pk,
        "score": 3,
        "category": "detractor",
        "reason": "late part",
        "customer_open_problems": 0,
        "is_change": False,
    }
    client.post(url, {"score": "3", "comment": "late part"})
    assert TicketEvent.objects.filter(type="survey.answered").count() == 1
    assert b"Thank you for your answer" in client.get(url + "?thanks=1").content


def test_an_answer_can_be_changed_for_14_days_and_not_after(contact, rep, time_machine):
    survey = _sent(contact, rep)
    time_machine.move_to(survey.sent_at + timedelta(hours=1))
    survey_answer(survey=survey, score=5, comment="slow")
    time_machine.shift(timedelta(days=13))
    survey_answer(survey=survey, score=9, comment="they called me back")
    changed = TicketEvent.objects.filter(type="survey.answered").latest("id")
    assert changed.changes["survey"]["is_change"] is True
    assert changed.changes["survey"]["category"] == "promoter"
    time_machine.shift(timedelta(days=2))
    with pytest.raises(Exception, match="can no longer be changed"):
        survey_answer(survey=survey, score=2)
    survey.refresh_from_db()
    assert survey.score == 9


@pytest.mark.parametrize("score", ["11", "-1", "x", ""])
def test_a_score_outside_0_to_10_is_refused(client, contact, rep, score):
    survey = _sent(contact, rep)
    response = client.post(f"/support/survey/{survey_token(survey)}/", {"score": score})
    assert response.status_code == 400
    survey.refresh_from_db()
    assert survey.score is None


def test_a_link_not_ours_or_too_old_gives_nothing(client, contact, rep, time_machine):
    survey = _sent(contact, rep)
    token = survey_token(survey)
    assert client.get(f"/support/survey/{token[:-1]}x/").status_code == 404
    assert client.get(f"/support/survey/{survey.pk}/").status_code == 404
    time_machine.move_to(timezone.now() + timedelta(days=45))
    assert client.post(f"/support/survey/{token}/", {"score": "9"}).status_code == 404


def test_a_detractor_becomes_the_salespersons_follow_up_and_the_support_queue_hears(
    contact, rep, salesperson, starter_rules
):
    survey = _sent(contact, rep, kind="call")
    survey_answer(survey=survey, score=3, comment="late part")
    dispatch_pending()
    task = FollowUpTask.objects.get(ticket=survey.ticket, event__type="survey.answered")
    assert task.salesperson == salesperson
    assert task.reason == "Detractor, 3/10: late part"
    assert task.due_on == add_working_days(timezone.localdate(), 2)
    item = Notification.objects.get(ticket=survey.ticket, department__slug="support")
    assert "scored us 3/10" in item.message
    assert "late part" in item.message
    # The follow-up's outcome closes the loop: on the ticket, and on the survey.
    followup_record_outcome(
        task=task, user=salesperson, outcome="not_satisfied", notes="Part still late; reopened"
    )
    survey.ticket.refresh_from_db()
    assert survey.ticket.status == "open"
    assert [t.outcome for t in survey_followups(survey=survey)] == ["not_satisfied"]
    [answered] = customer_surveys(customer_id=contact.customer_id)
    assert [t.outcome for t in answered.followups] == ["not_satisfied"]
    assert TimelineEntry.objects.filter(
        ticket=survey.ticket, kind="followup", body__contains="Reached and not satisfied"
    ).exists()


def test_a_promoter_with_no_open_problem_is_worth_asking_for_a_reference(
    contact, rep, starter_rules
):
    survey = _sent(contact, rep, kind="call")
    survey_answer(survey=survey, score=10, comment="great")
    dispatch_pending()
    task = FollowUpTask.objects.get(event__type="survey.answered")
    assert "ask" in task.reason
    assert "reference" in task.reason


def test_a_promoter_with_an_open_problem_is_not_asked_for_a_reference(contact, rep, starter_rules):
    survey = _sent(contact, rep, kind="call")
    ticket_create(customer=contact.customer, kind="bug", channel="phone", subject="Other bug")
    survey_answer(survey=survey, score=9)
    dispatch_pending()
    assert not FollowUpTask.objects.filter(event__type="survey.answered").exists()
    event = TicketEvent.objects.get(type="survey.answered")
    assert event.changes["survey"]["customer_open_problems"] == 1


def test_nps_is_shown_with_its_sample_size_and_margin():
    nps = nps_of([9] * 10 + [7] * 5 + [3] * 5)
    assert (nps.score, nps.margin, nps.answers) == (25, 36, 20)
    assert str(nps) == "+25 ± 36, 20 answers"
    assert str(nps_of([9] * 25 + [8] * 15 + [2] * 10)) == "+30 ± 22, 50 answers"
    assert str(nps_of([])) == "no answers yet"
    assert str(nps_of([0])) == "-100 ± 0, 1 answer"


def test_a_survey_of_another_customers_contact_is_theirs_alone(contact, rep):
    other = ContactFactory(customer=CustomerFactory(), email="x@other.example")
    _sent(contact, rep)
    mine = Survey.objects.get()
    survey_answer(survey=mine, score=8)
    assert customer_surveys(customer_id=other.customer_id) == []


def test_the_ticket_page_shows_the_survey_and_what_became_of_it(
    client, contact, rep, salesperson, starter_rules
):
    survey = _sent(contact, rep, kind="call")
    client.force_login(rep)
    page = client.get(f"/tickets/{survey.ticket_id}/").content.decode()
    assert "Survey sent to Ada Customer" in page
    survey_answer(survey=survey, score=2, comment="Nobody called back")
    dispatch_pending()
    task = FollowUpTask.objects.get(event__type="survey.answered")
    followup_record_outcome(task=task, user=salesperson, outcome="no_answer")
    section = client.get(f"/tickets/{survey.ticket_id}/").content.decode()
    section = section[section.index('id="satisfaction"') :]
    assert "2/10" in section
    assert "Nobody called back" in section
    assert "Follow-up by" in section
    assert "open, due" in section
    # Staff never see the customer's link: it would let them answer in the customer's name.
    assert "/support/survey/" not in client.get(f"/tickets/{survey.ticket_id}/").content.decode()


def test_the_ticket_page_has_no_satisfaction_section_without_a_survey(client, contact, rep):
    ticket = ticket_create(customer=contact.customer, kind="call", channel="web", subject="Hi")
    client.force_login(rep)
    assert 'id="satisfaction"' not in client.get(f"/tickets/{ticket.pk}/").content.decode()


@pytest.mark.parametrize("score", ["\u00b2", "9" * 5000, "-0", " 3"])
def test_an_odd_score_in_the_link_preselects_nothing_and_is_no_error(client, contact, rep, score):
    survey = _sent(contact, rep)
    response = client.get(f"/support/survey/{survey_token(survey)}/", {"score": score})
    assert response.status_code == 200
    assert " checked" not in response.content.decode()


def test_revoking_a_contacts_links_revokes_their_survey_link_too(client, contact, rep):
    from accounts.portal_links import contact_links_revoke

    survey = _sent(contact, rep)
    url = f"/support/survey/{survey_token(survey)}/"
    assert client.get(url).status_code == 200
    contact_links_revoke(contact)
    assert client.get(url).status_code == 404
    assert client.post(url, {"score": "10"}).status_code == 404
