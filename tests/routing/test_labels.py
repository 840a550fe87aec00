"""People read choices by their labels ("Bug report", "High"); rules store the codes."""

import pytest

from routing.engine.language import language_description
from routing.models import RuleMatch
from routing.services import rule_create
from tests.conftest import dispatch_pending
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db


def test_the_language_gives_each_choice_its_label():
    language = language_description()
    kind = next(f for f in language["fields"] if f["name"] == "kind")
    assert kind["choices"] == ["call", "bug", "rfe", "rma"]  # what a rule stores
    assert kind["choice_labels"]["bug"] == "Bug report"
    set_priority = next(a for a in language["actions"] if a["type"] == "set_priority")
    assert set_priority["parameters"][0]["choice_labels"]["low"] == "Low"
    send_email = next(a for a in language["actions"] if a["type"] == "send_email")
    assert send_email["parameters"][0]["choice_labels"]["contact"] == "The ticket's contact"


def test_why_page_and_outcomes_read_labels(client, admin_user, customer):
    rule_create(
        name="Low bugs up",
        trigger="ticket.created",
        conditions={
            "all": [
                {"field": "kind", "operator": "in", "value": ["bug", "rma"]},
                {"field": "priority", "operator": "is", "value": "low"},
            ]
        },
        actions=[{"type": "set_priority", "priority": "high"}],
    )
    ticket = ticket_create(
        customer=customer, kind="bug", channel="phone", subject="Crash", priority="low"
    )
    dispatch_pending()
    assert RuleMatch.objects.get(ticket=ticket).actions[0]["done"] == "Priority set to High"
    client.force_login(admin_user)
    page = client.get(f"/tickets/{ticket.pk}/why/").content.decode()
    assert "Kind is one of Bug report, Return materials authorization" in page
    assert "Priority is Low" in page
    assert '<strong class="actual">Bug report</strong>' in page
    assert "Priority set to High" in page
    assert "Kind is one of bug" not in page


def test_rule_list_sums_up_each_rule_in_words(client, admin_user, starter_rules):
    client.force_login(admin_user)
    page = client.get("/rules/").content.decode()
    assert "Kind is Bug report → Notify Engineering" in page
    assert "Kind is Request for enhancement → Notify Engineering; Notify Marketing" in page
    assert "Either Customer has an active service contract is yes or " in page


def test_rule_list_queries_do_not_grow_with_rules(
    client, admin_user, starter_rules, django_assert_max_num_queries
):
    client.force_login(admin_user)
    with django_assert_max_num_queries(20) as few:
        client.get("/rules/")
    for index in range(10):
        rule_create(
            name=f"extra {index}",
            trigger="ticket.created",
            actions=[{"type": "notify_department", "department": "finance"}],
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "extra 9" in client.get("/rules/").content.decode()
