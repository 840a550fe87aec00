"""The dry run: the range an admin chooses, bounded, and what each action would do to each
matching ticket, in words people use (department names, priority labels), not codes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from routing import preview
from routing.preview import DEFAULT_LAST, MAX_TICKETS
from tests.factories import CustomerFactory, UserFactory
from tickets.models import Ticket
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/rules/preview/"

BUGS = {
    "trigger": "ticket.created",
    "conditions": {"all": [{"field": "kind", "operator": "is", "value": "bug"}]},
    "actions": [
        {"type": "notify_department", "department": "engineering"},
        {"type": "set_priority", "priority": "high"},
        {"type": "create_followup", "due_in_working_days": 2},
        {"type": "send_email", "to": "department", "department": "finance",
         "subject": "s", "body": "b"},
    ],
}  # fmt: skip


def bug(customer, subject="Crash", **fields):
    return ticket_create(customer=customer, kind="bug", channel="phone", subject=subject, **fields)


def test_each_matching_ticket_says_what_each_action_would_do_with_labels(admin_api):
    seller = UserFactory(username="sam", first_name="Sam", last_name="Seller")
    owned, orphan = CustomerFactory(salesperson=seller), CustomerFactory(salesperson=None)
    urgent = bug(owned, "Down", priority="high")
    plain = bug(orphan, "Slow")
    ticket_create(customer=owned, kind="rfe", channel="web", subject="Idea")
    body = admin_api.post(URL, {**BUGS, "last": 10}, format="json").json()
    assert body["tickets_matched"] == 2
    effects = {m["ticket"]: [e["text"] for e in m["effects"]] for m in body["matches"]}
    assert effects[urgent.pk] == [
        "Notify Engineering",
        "Priority already High",
        "Follow-up for Sam Seller in 2 working days",
        "Email Finance's members",
    ]
    assert effects[plain.pk] == [
        "Notify Engineering",
        "Priority Normal → High",
        "No follow-up: the customer has no salesperson",
        "Email Finance's members",
    ]
    labels = [e["label"] for e in body["matches"][0]["effects"]]
    assert labels[0] == "Notify a department"
    assert [(a["text"], a["tickets"]) for a in body["by_action"]] == [
        ("Notify Engineering", 2),
        ("Set priority to High", 1),
        ("Follow-up for the salesperson in 2 working days", 1),
        ("Email Finance's members", 2),
    ]


def test_the_admin_chooses_the_last_n_or_a_date_range(admin_api, customer):
    old, recent, _newest = bug(customer, "old"), bug(customer, "recent"), bug(customer, "newest")
    now = timezone.now()
    Ticket.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=30))
    Ticket.objects.filter(pk=recent.pk).update(created_at=now - timedelta(days=3))
    body = admin_api.post(URL, {**BUGS, "last": 2}, format="json").json()
    assert [m["subject"] for m in body["matches"]] == ["newest", "recent"]
    assert body["scope"] == "the last 2 tickets"
    since, until = (now - timedelta(days=10)).isoformat(), (now - timedelta(days=1)).isoformat()
    body = admin_api.post(URL, {**BUGS, "since": since, "until": until}, format="json").json()
    assert [m["subject"] for m in body["matches"]] == ["recent"]
    assert body["scope"].startswith("tickets created from ")
    assert body["limit"] == MAX_TICKETS


def test_at_most_the_maximum_is_tried(admin_api, customer, monkeypatch):
    monkeypatch.setattr(preview, "MAX_TICKETS", 3)
    for n in range(5):
        bug(customer, f"bug {n}")
    since = (timezone.now() - timedelta(days=1)).isoformat()
    body = admin_api.post(URL, {**BUGS, "since": since}, format="json").json()
    assert (body["limit"], body["tickets_evaluated"], body["tickets_matched"]) == (3, 3, 3)
    assert [m["subject"] for m in body["matches"]] == ["bug 4", "bug 3", "bug 2"]
    monkeypatch.setattr(preview, "DEFAULT_LAST", 2)
    body = admin_api.post(URL, BUGS, format="json").json()
    assert (body["limit"], body["tickets_evaluated"]) == (2, 2)


def test_the_range_is_bounded(admin_api, customer):
    response = admin_api.post(URL, {**BUGS, "last": MAX_TICKETS + 1}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["last"]
    assert admin_api.post(URL, {**BUGS, "last": MAX_TICKETS}, format="json").status_code == 200
    assert admin_api.post(URL, {**BUGS, "last": 0}, format="json").status_code == 400
    assert admin_api.post(URL, BUGS, format="json").json()["limit"] == DEFAULT_LAST
    backwards = {"since": timezone.now().isoformat(), "until": "2020-01-01T00:00:00Z"}
    response = admin_api.post(URL, {**BUGS, **backwards}, format="json")
    assert response.json() == {"until": ["Must be after since."]}


def test_queries_do_not_grow_with_the_matches(admin_api, django_assert_max_num_queries):
    customers = [CustomerFactory() for _ in range(3)]
    for customer in customers:
        bug(customer)
    with django_assert_max_num_queries(12) as few:
        admin_api.post(URL, {**BUGS, "last": 10}, format="json")
    for customer in customers * 5:
        bug(customer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = admin_api.post(URL, {**BUGS, "last": 50}, format="json").json()
    assert body["tickets_matched"] == 18


def test_counts_cover_every_match_while_the_newest_are_listed(admin_api, customer, monkeypatch):
    monkeypatch.setattr(preview, "SHOWN", 2)
    for n in range(4):
        bug(customer, f"bug {n}")
    body = admin_api.post(URL, BUGS, format="json").json()
    assert body["tickets_matched"] == 4
    assert [m["subject"] for m in body["matches"]] == ["bug 3", "bug 2"]
    assert body["by_action"][0]["tickets"] == 4


TIMED = {
    "trigger": "time",
    "conditions": {"all": [{"field": "kind", "operator": "is", "value": "bug"}]},
    "actions": [{"type": "notify_department", "department": "engineering"}],
}


def test_a_time_based_draft_tries_the_newest_tickets_being_worked_in_the_range(admin_api, customer):
    old, middle, new = bug(customer, "old"), bug(customer, "middle"), bug(customer, "new")
    now = timezone.now()
    Ticket.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=30))
    Ticket.objects.filter(pk=middle.pk).update(created_at=now - timedelta(days=3))
    Ticket.objects.filter(pk=new.pk).update(created_at=now - timedelta(hours=1))
    body = admin_api.post(URL, {**TIMED, "last": 2}, format="json").json()
    assert [m["subject"] for m in body["matches"]] == ["new", "middle"]
    assert body["tickets_evaluated"] == 2
    assert body["scope"] == "the last 2 tickets being worked now"
    since, until = (now - timedelta(days=10)).isoformat(), (now - timedelta(days=1)).isoformat()
    body = admin_api.post(URL, {**TIMED, "since": since, "until": until}, format="json").json()
    assert [m["subject"] for m in body["matches"]] == ["middle"]
    assert body["scope"].startswith("tickets being worked now, created from ")
