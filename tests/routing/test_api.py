"""The routing API: rules (admins write, everyone reads), notifications and follow-ups."""

import pytest

from routing.models import Rule
from routing.starter_rules import STARTER_RULES
from tests.conftest import dispatch_pending
from tests.factories import CustomerFactory
from tickets.models import Ticket
from tickets.services import ticket_create, ticket_update

pytestmark = pytest.mark.django_db

RULE = {
    "name": "Urgent calls to support",
    "trigger": "ticket.created",
    "conditions": {"all": [{"field": "priority", "operator": "is", "value": "urgent"}]},
    "actions": [{"type": "notify_department", "department": "support", "message": "Call back"}],
}


class TestRules:
    def test_admin_creates_and_edits_a_rule(self, admin_api):
        response = admin_api.post("/api/v1/rules/", RULE, format="json")
        assert response.status_code == 201, response.json()
        rule_id = response.json()["id"]
        response = admin_api.patch(f"/api/v1/rules/{rule_id}/", {"is_active": False}, format="json")
        assert response.status_code == 200
        assert Rule.objects.get(pk=rule_id).is_active is False

    def test_non_admin_reads_but_cannot_write(self, api, starter_rules):
        assert api.get("/api/v1/rules/").json()["count"] == len(STARTER_RULES)
        assert api.post("/api/v1/rules/", RULE, format="json").status_code == 403
        rule = starter_rules[0]
        assert api.patch(f"/api/v1/rules/{rule.pk}/", {"is_active": False}).status_code == 403
        assert api.delete(f"/api/v1/rules/{rule.pk}/").status_code == 403

    def test_invalid_rule_answers_with_the_exact_place(self, admin_api):
        bad = {
            **RULE,
            "conditions": {
                "all": [
                    {"field": "kind", "operator": "is", "value": "bug"},
                    {"field": "customer.pay_for_bug", "operator": "is", "value": True},
                    {"field": "priority", "operator": "is", "value": "someday"},
                ]
            },
            "actions": [{"type": "notify_department", "department": "legal"}],
        }
        response = admin_api.post("/api/v1/rules/", bad, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "conditions.all[2].value": ["Must be one of low, normal, high, urgent."],
            "actions[0].department": ["No department with slug 'legal'."],
        }
        assert not Rule.objects.exists()

    def test_invalid_trigger_and_partial_update_are_checked(self, admin_api):
        response = admin_api.post("/api/v1/rules/", {**RULE, "trigger": "x"}, format="json")
        assert response.json() == {"trigger": ['"x" is not a valid choice.']}
        rule_id = admin_api.post("/api/v1/rules/", RULE, format="json").json()["id"]
        response = admin_api.patch(
            f"/api/v1/rules/{rule_id}/", {"actions": [{"type": "fax"}]}, format="json"
        )
        assert response.status_code == 400
        assert list(response.json()) == ["actions[0].type"]


class TestQueues:
    @pytest.fixture
    def routed(self, starter_rules, rep):
        customer = CustomerFactory(pay_for_bug=True)
        bug = ticket_create(customer=customer, kind="bug", channel="phone", subject="Bug")
        rfe = ticket_create(customer=customer, kind="rfe", channel="web", subject="Idea")
        ticket_update(
            ticket=bug,
            actor=rep,
            status=Ticket.Status.RESOLVED,
            root_cause="product_defect",
            resolution="Fixed in 2.4",
        )
        dispatch_pending()
        return bug, rfe

    def test_notifications_filter_by_department_ticket_and_status(self, admin_api, routed):
        bug, rfe = routed
        api = admin_api  # sees every queue

        def departments(**params):
            results = api.get("/api/v1/notifications/", params).json()["results"]
            return sorted((n["department"], n["ticket_reference"]) for n in results)

        assert departments(department="engineering") == sorted(
            [("engineering", bug.reference), ("engineering", rfe.reference)]
        )
        assert departments(ticket=bug.pk) == [
            ("engineering", bug.reference),
            ("finance", bug.reference),
        ]
        assert len(departments(status="new")) == 5
        assert departments(status="done") == []
        item = api.get("/api/v1/notifications/", {"department": "marketing"}).json()["results"][0]
        assert item["rule_name"] == "RFEs go to engineering and marketing"
        assert item["event_type"] == "ticket.created"
        assert item["customer"] == bug.customer.name

    def test_notification_list_has_constant_queries(
        self, admin_api, routed, django_assert_num_queries
    ):
        with django_assert_num_queries(2):
            admin_api.get("/api/v1/notifications/")

    def test_followups_filter(self, admin_api, routed, salesperson):
        bug, _ = routed
        api = admin_api
        results = api.get("/api/v1/followups/", {"ticket": bug.pk}).json()["results"]
        assert len(results) == 1
        assert results[0]["salesperson"] == bug.customer.salesperson_id
        assert results[0]["status"] == "open"
        other = api.get("/api/v1/followups/", {"salesperson": salesperson.pk}).json()
        assert other["count"] == 0
        assert api.get("/api/v1/followups/", {"status": "done"}).json()["count"] == 0


def test_a_rep_reads_who_was_told_about_a_ticket_as_the_readme_shows(
    api, starter_rules, rep, django_assert_num_queries
):
    """The README's walkthrough as a rep ends with GET /api/v1/notifications/?ticket=<id>."""
    from queues.models import Notification
    from queues.services import notification_acknowledge
    from tests.factories import UserFactory

    customer = CustomerFactory(pay_for_bug=True)
    bug = ticket_create(customer=customer, kind="bug", channel="phone", subject="Bug")
    dispatch_pending()
    engineer = UserFactory(username="erin", first_name="Erin", last_name="Engineer")
    engineering = Notification.objects.get(ticket=bug, department__slug="engineering")
    notification_acknowledge(notification=engineering, user=engineer)
    with django_assert_num_queries(3):  # session-less API: count, page, nothing per row
        body = api.get("/api/v1/notifications/", {"ticket": bug.pk}).json()
    told = {n["department"]: n for n in body["results"]}
    assert set(told) == {"engineering", "finance"}
    assert told["engineering"]["status"] == "acknowledged"
    assert told["engineering"]["acted_by_name"] == "Erin Engineer"
    assert told["engineering"]["ticket_status"] == "new"
    assert told["finance"]["rule_name"]
    # Without ?ticket= the list stays the rep's own queues (support): none of these.
    assert api.get("/api/v1/notifications/").json()["count"] == 0
    # Reading an item is not working it.
    answer = api.post(f"/api/v1/notifications/{engineering.pk}/complete/")
    assert answer.status_code == 403
