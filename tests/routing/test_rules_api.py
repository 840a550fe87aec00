"""Rule versions, restore, reorder, archive, dry run, export/import and routing explanations."""

from datetime import timedelta

import pytest
from django.utils import timezone

from queues.models import FollowUpTask, Notification
from routing.models import Rule, RuleAuditEntry, RuleMatch
from routing.services import rule_create, rule_update
from tests.conftest import dispatch_pending
from tests.factories import CustomerFactory, InvoiceFactory
from tickets.models import TicketEvent
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db

RENEWAL = {
    "name": "RFE from a customer whose contract ends soon",
    "order": 900,
    "trigger": "ticket.created",
    "conditions": {
        "all": [
            {"field": "kind", "operator": "is", "value": "rfe"},
            {"field": "customer.contract_ends_in_days", "operator": "lte", "value": 30},
        ]
    },
    "actions": [
        {"type": "notify_department", "department": "marketing",
         "message": "{{ customer.name }} renews soon"},
        {"type": "create_followup", "due_in_working_days": 2, "reason": "Renewal"},
    ],
}  # fmt: skip


def customer_ending_in(days, **extra):
    today = timezone.localdate()
    return CustomerFactory(contract_ends_on=today + timedelta(days=days), **extra)


def rfe(customer, subject="Please add dark mode"):
    return ticket_create(customer=customer, kind="rfe", channel="phone", subject=subject)


class TestVersions:
    def test_each_edit_is_a_version_with_author_and_changes(self, admin_api, admin_user):
        rule_id = admin_api.post("/api/v1/rules/", RENEWAL, format="json").json()["id"]
        admin_api.patch(f"/api/v1/rules/{rule_id}/", {"description": "d"}, format="json")
        admin_api.patch(f"/api/v1/rules/{rule_id}/", {"description": "d"}, format="json")  # same
        versions = admin_api.get(f"/api/v1/rules/{rule_id}/versions/").json()
        assert [(v["number"], v["summary"], v["author"]) for v in versions] == [
            (2, "Edited description", "boss"),
            (1, "Created", "boss"),
        ]
        assert versions[0]["changed_fields"] == ["description"]
        assert versions[0]["definition"]["description"] == "d"

    def test_moving_or_switching_is_audited_not_versioned(self, admin_api, admin_user):
        admin_api.post("/api/v1/rules/", {**RENEWAL, "name": "Earlier", "order": 30}, format="json")
        rule_id = admin_api.post("/api/v1/rules/", RENEWAL, format="json").json()["id"]
        url = f"/api/v1/rules/{rule_id}/"
        admin_api.patch(url, {"order": 5}, format="json")
        admin_api.patch(url, {"is_active": False}, format="json")
        admin_api.patch(url, {"is_active": True}, format="json")
        rule = Rule.objects.get(pk=rule_id)
        assert [v.summary for v in rule.versions.all()] == ["Created"]
        entries = [(e.action, e.detail, e.author) for e in rule.audit_entries.order_by("id")]
        assert entries == [
            # Worded as a move in the list is, whichever way the order was changed.
            ("reordered", "Position 2 → 1 (order 900 → 5)", admin_user),
            ("deactivated", "", admin_user),
            ("activated", "", admin_user),
        ]

    def test_the_audit_trail_in_the_api(self, admin_api, starter_rules):
        first, second = starter_rules[0], starter_rules[1]
        ids = [second.pk, first.pk] + [r.pk for r in starter_rules[2:]]
        admin_api.post("/api/v1/rules/reorder/", {"rules": ids}, format="json")
        admin_api.patch(f"/api/v1/rules/{first.pk}/", {"is_active": False}, format="json")
        body = admin_api.get(f"/api/v1/rules/{first.pk}/audit/").json()
        assert [(e["action_label"], e["detail"], e["author"]) for e in body["results"]] == [
            ("Switched off", "", "boss"),
            ("Moved", "Position 1 → 2 (order 10 → 20)", "boss"),
        ]
        everything = admin_api.get("/api/v1/rules/audit/").json()
        assert everything["count"] == 3
        assert everything["results"][0]["rule_name"] == first.name

    def test_diff_and_restore(self, admin_api):
        rule_id = admin_api.post("/api/v1/rules/", RENEWAL, format="json").json()["id"]
        changed = {**RENEWAL["conditions"]}
        changed["all"] = [RENEWAL["conditions"]["all"][0]]
        admin_api.patch(f"/api/v1/rules/{rule_id}/", {"conditions": changed}, format="json")
        diff = admin_api.get(f"/api/v1/rules/{rule_id}/diff/", {"from": 1, "to": 2}).json()
        assert [d["field"] for d in diff] == ["conditions"]
        removed = [line for line in diff[0]["diff"] if line.startswith("-") and "lte" in line]
        assert removed == ['-      "operator": "lte",']
        response = admin_api.post(f"/api/v1/rules/{rule_id}/restore/", {"version": 1})
        assert response.status_code == 200
        assert response.json()["version"] == 3
        assert response.json()["conditions"] == RENEWAL["conditions"]
        versions = admin_api.get(f"/api/v1/rules/{rule_id}/versions/").json()
        assert versions[0]["summary"] == "Restored version 1"
        bad = admin_api.post(f"/api/v1/rules/{rule_id}/restore/", {"version": 9})
        assert bad.json() == {"version": ["This rule has no such version."]}
        bad = admin_api.get(f"/api/v1/rules/{rule_id}/diff/", {"from": "x"})
        assert bad.status_code == 400

    def test_restore_keeps_the_rules_place_and_switch(self, admin_api):
        rule_id = admin_api.post("/api/v1/rules/", RENEWAL, format="json").json()["id"]
        admin_api.patch(f"/api/v1/rules/{rule_id}/", {"name": "Renamed"}, format="json")
        admin_api.patch(
            f"/api/v1/rules/{rule_id}/", {"order": 5, "is_active": False}, format="json"
        )
        body = admin_api.post(f"/api/v1/rules/{rule_id}/restore/", {"version": 1}).json()
        assert body["name"] == RENEWAL["name"]
        assert (body["order"], body["is_active"]) == (5, False)
        again = admin_api.post(f"/api/v1/rules/{rule_id}/restore/", {"version": 1})
        assert again.status_code == 400
        assert again.json() == {
            "version": ["Version 1 does what the rule does now: nothing to restore."]
        }

    def test_a_rule_naming_a_deleted_department_can_still_be_retired(self, admin_api):
        from accounts.models import Department

        rule_id = admin_api.post("/api/v1/rules/", RENEWAL, format="json").json()["id"]
        other_id = admin_api.post(
            "/api/v1/rules/", {**RENEWAL, "name": "Other", "order": 70}, format="json"
        ).json()["id"]
        Department.objects.filter(slug="marketing").delete()
        url = f"/api/v1/rules/{rule_id}/"
        assert admin_api.patch(url, {"is_active": False}, format="json").status_code == 200
        assert admin_api.patch(url, {"name": "Old"}, format="json").status_code == 200
        response = admin_api.post(
            "/api/v1/rules/reorder/", {"rules": [other_id, rule_id]}, format="json"
        )
        assert response.status_code == 200
        # Switching it back on checks it again, and says what is wrong where.
        response = admin_api.patch(url, {"is_active": True}, format="json")
        assert response.status_code == 400
        assert "actions[0].department" in response.json()
        assert admin_api.delete(url).status_code == 204

    def test_rule_match_records_the_version_that_fired(self, starter_rules, rep):
        rule = Rule.objects.get(name="Bugs go to engineering")
        rule_update(rule=rule, author=rep, description="v2")
        ticket = ticket_create(customer=CustomerFactory(), kind="bug", channel="web", subject="s")
        dispatch_pending()
        match = RuleMatch.objects.get(ticket=ticket, rule=rule)
        assert match.rule_version.number == 2

    def test_delete_archives_and_keeps_history(self, admin_api, starter_rules):
        rule = starter_rules[0]
        assert admin_api.delete(f"/api/v1/rules/{rule.pk}/").status_code == 204
        rule.refresh_from_db()
        assert rule.archived_at is not None
        assert rule.is_active is False
        assert rule.versions.first().summary == "Created"
        assert rule.audit_entries.get().action == RuleAuditEntry.Action.ARCHIVED
        names = [r["name"] for r in admin_api.get("/api/v1/rules/").json()["results"]]
        assert rule.name not in names
        # The name is free again for a new rule.
        assert (
            admin_api.post(
                "/api/v1/rules/", {**RENEWAL, "name": rule.name}, format="json"
            ).status_code
            == 201
        )

    def test_reorder(self, admin_api, api, starter_rules):
        ids = [r.pk for r in reversed(starter_rules)]
        response = admin_api.post("/api/v1/rules/reorder/", {"rules": ids}, format="json")
        assert response.status_code == 200
        assert [r["id"] for r in response.json()] == ids
        # The order is not what a rule does: no new versions, an audit entry per rule moved.
        assert not Rule.objects.filter(pk__in=ids, version__gt=1).exists()
        moved = RuleAuditEntry.objects.filter(action="reordered").order_by("rule__order")
        # Reversed: the rule at position p of n moves to n + 1 - p (the middle one stays).
        n = len(ids)
        assert [(e.rule_id, e.detail) for e in moved] == [
            (ids[i], f"Position {n - i} → {i + 1} (order {(n - i) * 10} → {(i + 1) * 10})")
            for i in range(n)
            if n - i != i + 1
        ]
        response = admin_api.post("/api/v1/rules/reorder/", {"rules": ids[:2]}, format="json")
        assert response.json() == {"rules": ["List the id of every current rule exactly once."]}
        assert api.post("/api/v1/rules/reorder/", {"rules": ids}, format="json").status_code == 403

    def test_cached_rule_set_sees_every_change(self, customer, rep):
        notify = [{"type": "notify_department", "department": "marketing"}]
        rule = rule_create(name="m", trigger="ticket.created", actions=notify)
        rfe(customer)
        dispatch_pending()
        assert Notification.objects.count() == 1
        rule_update(rule=rule, author=rep, is_active=False)
        rfe(customer)
        dispatch_pending()
        assert Notification.objects.count() == 1

    def test_cached_rule_set_sees_a_reorder(self, customer, rep):
        from routing.services import rules_reorder

        def stopping(name, department):
            actions = [{"type": "notify_department", "department": department}]
            return rule_create(
                name=name, trigger="ticket.created", actions=actions, stop_processing=True
            )

        first, second = stopping("m", "marketing"), stopping("f", "finance")
        rules_reorder(rule_ids=[first.pk, second.pk])
        rfe(customer)
        dispatch_pending()
        rules_reorder(rule_ids=[second.pk, first.pk], author=rep)
        rfe(customer)
        dispatch_pending()
        slugs = Notification.objects.order_by("id").values_list("department__slug", flat=True)
        assert list(slugs) == ["marketing", "finance"]

    def test_checking_the_cached_rule_set_is_one_query(self, rep, django_assert_num_queries):
        from routing.engine.ruleset import current_key
        from routing.services import rules_reorder

        notify = [{"type": "notify_department", "department": "marketing"}]
        first = rule_create(name="m", trigger="ticket.created", actions=notify)
        second = rule_create(name="f", trigger="ticket.created", actions=notify)
        with django_assert_num_queries(1):
            before = current_key()
        rules_reorder(rule_ids=[second.pk, first.pk], author=rep)
        after = current_key()
        assert after[0] == before[0] + 2  # each rule that moved
        assert after[1] != before[1]


class TestPreview:
    def test_dry_run_counts_matches_and_changes_nothing(self, admin_api):
        soon, later = customer_ending_in(10), customer_ending_in(90)
        for customer in (soon, soon, later):
            rfe(customer)
        ticket_create(customer=soon, kind="bug", channel="web", subject="bug")
        response = admin_api.post("/api/v1/rules/preview/", {**RENEWAL, "last": 10}, format="json")
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["tickets_evaluated"] == 4
        assert body["tickets_matched"] == 2
        assert {m["customer"] for m in body["matches"]} == {soon.name}
        assert [a["text"] for a in body["by_action"]] == [
            "Notify Marketing",
            "Follow-up for the salesperson in 2 working days",
        ]
        assert "would_do" not in body  # by_action says it, with the number of tickets
        assert not Notification.objects.exists()
        assert not FollowUpTask.objects.exists()
        assert not Rule.objects.exists()

    def test_history_is_judged_on_each_event_day_as_routing_did(self, admin_api):
        customer = CustomerFactory()
        InvoiceFactory(customer=customer, due_on=timezone.localdate() - timedelta(days=10))
        before, after = rfe(customer, "Before it was due"), rfe(customer, "After")
        TicketEvent.objects.filter(ticket=before).update(
            created_at=timezone.now() - timedelta(days=20)
        )
        overdue_rule = {
            **RENEWAL,
            "conditions": {
                "all": [{"field": "customer.has_overdue_invoices", "operator": "is", "value": True}]
            },
        }
        body = admin_api.post(
            "/api/v1/rules/preview/", {**overdue_rule, "last": 10}, format="json"
        ).json()
        assert [m["ticket"] for m in body["matches"]] == [after.pk]

    def test_an_ended_contract_is_not_ending_soon(self, admin_api):
        ended = CustomerFactory(contract_ends_on=timezone.localdate() - timedelta(days=400))
        rfe(ended)
        body = admin_api.post("/api/v1/rules/preview/", {**RENEWAL, "last": 10}, format="json")
        assert body.json()["tickets_matched"] == 0

    def test_date_range(self, admin_api):
        rfe(customer_ending_in(5))
        tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
        response = admin_api.post(
            "/api/v1/rules/preview/", {**RENEWAL, "since": tomorrow}, format="json"
        )
        assert response.json()["tickets_evaluated"] == 0

    def test_invalid_draft_is_a_400_at_its_place(self, admin_api, api):
        draft = {**RENEWAL, "actions": [{"type": "notify_department", "department": "x"}]}
        response = admin_api.post("/api/v1/rules/preview/", draft, format="json")
        assert response.status_code == 400
        assert response.json() == {"actions[0].department": ["No department with slug 'x'."]}
        assert api.post("/api/v1/rules/preview/", RENEWAL, format="json").status_code == 403


class TestExportImport:
    def test_round_trip_is_exact(self, admin_api, starter_rules):
        exported = admin_api.get("/api/v1/rules/export/").json()
        assert exported["format"] == "switchboard.rules"
        assert [r["name"] for r in exported["rules"]] == [r.name for r in starter_rules]
        response = admin_api.post("/api/v1/rules/import/", exported, format="json")
        assert response.json() == {"created": 0, "updated": 0, "archived": 0}
        assert admin_api.get("/api/v1/rules/export/").json() == exported

    def test_import_replaces_the_rule_set(self, admin_api, starter_rules):
        exported = admin_api.get("/api/v1/rules/export/").json()
        rules = exported["rules"][1:]
        rules[0]["is_active"] = False
        rules.append(RENEWAL)
        response = admin_api.post(
            "/api/v1/rules/import/", {**exported, "rules": rules}, format="json"
        )
        assert response.json() == {"created": 1, "updated": 1, "archived": 1}
        entry = RuleAuditEntry.objects.get(action="imported")
        assert (entry.rule, entry.detail) == (None, "1 created, 1 updated, 1 archived")
        archived = RuleAuditEntry.objects.get(action="archived")
        assert (archived.rule, archived.detail) == (
            starter_rules[0],
            "Not in the imported rule set",
        )
        after = admin_api.get("/api/v1/rules/export/").json()["rules"]
        assert [r["name"] for r in after] == sorted(
            [r["name"] for r in rules], key=lambda n: [x["name"] for x in rules].index(n)
        )

    def test_invalid_import_changes_nothing(self, admin_api, starter_rules):
        exported = admin_api.get("/api/v1/rules/export/").json()
        rules = [dict(r) for r in exported["rules"]]
        rules[0]["is_active"] = False
        rules[3]["actions"] = [{"type": "fax"}]
        rules.append({**RENEWAL, "name": rules[1]["name"]})
        response = admin_api.post(
            "/api/v1/rules/import/", {**exported, "rules": rules}, format="json"
        )
        assert response.status_code == 400
        body = response.json()
        assert set(body) == {"rules[3].actions[0].type", f"rules[{len(rules) - 1}].name"}
        assert admin_api.get("/api/v1/rules/export/").json() == exported
        response = admin_api.post("/api/v1/rules/import/", {"rules": []}, format="json")
        assert response.json() == {"format": ['Must be "switchboard.rules".']}
        response = admin_api.post("/api/v1/rules/import/", [1, 2], format="json")
        assert response.status_code == 400

    def test_import_checks_every_field(self, admin_api):
        bad = {**RENEWAL, "name": "x" * 201, "order": -1, "is_active": "yes", "description": 5}
        response = admin_api.post(
            "/api/v1/rules/import/",
            {"format": "switchboard.rules", "version": 1, "rules": [bad, {"name": "n"}]},
            format="json",
        )
        assert response.status_code == 400
        assert set(response.json()) == {
            "rules[0].name",
            "rules[0].order",
            "rules[0].is_active",
            "rules[0].description",
            "rules[1].trigger",
            "rules[1].actions",
        }
        assert not Rule.objects.exists()


class TestExplanation:
    def test_done_when_scenario(self, admin_api, api, salesperson):
        """An admin builds the renewal rule, previews it, saves it; it fires exactly once for a
        matching ticket, and the ticket's explanation says why."""
        customer = customer_ending_in(12, salesperson=salesperson)
        rfe(customer, "Older request")
        dispatch_pending()  # routed long before the rule existed
        preview = admin_api.post("/api/v1/rules/preview/", RENEWAL, format="json").json()
        assert preview["tickets_matched"] == 1
        rule_id = admin_api.post("/api/v1/rules/", RENEWAL, format="json").json()["id"]
        ticket = rfe(customer)
        other = rfe(customer_ending_in(200))
        dispatch_pending()
        dispatch_pending()
        assert Notification.objects.filter(rule_id=rule_id).count() == 1
        assert FollowUpTask.objects.get(rule_id=rule_id).ticket == ticket
        assert Notification.objects.get(rule_id=rule_id).message == f"{customer.name} renews soon"

        explained = api.get(f"/api/v1/tickets/{ticket.pk}/routing/").json()
        [created] = explained
        assert created["type"] == "ticket.created"
        [rule] = created["rules"]
        assert (rule["name"], rule["version"], rule["matched"]) == (RENEWAL["name"], 1, True)
        assert [(c["text"], c["actual"], c["held"]) for c in rule["conditions"]] == [
            ("Kind is Request for enhancement", "rfe", True),
            ("Days until the customer's contract ends is at most 30", 12, True),
        ]
        assert [a["type"] for a in rule["actions"]] == ["notify_department", "create_followup"]

        [not_matched] = api.get(f"/api/v1/tickets/{other.pk}/routing/").json()[0]["rules"]
        assert not_matched["matched"] is False
        assert not_matched["conditions"][1]["actual"] == 200
        assert not_matched["conditions"][1]["held"] is False
        assert not_matched["actions"] == []

    def test_unrouted_event_is_shown_as_waiting(self, api, customer):
        ticket = rfe(customer)
        [event] = api.get(f"/api/v1/tickets/{ticket.pk}/routing/").json()
        assert event["routed"] is False
        assert api.get("/api/v1/tickets/999999/routing/").status_code == 404

    def test_explanation_queries_do_not_grow_with_events(
        self, api, customer, starter_rules, django_assert_max_num_queries
    ):
        from tickets.services import ticket_update

        ticket = ticket_create(customer=customer, kind="bug", channel="web", subject="s")
        for priority in ["high", "low", "urgent", "normal"]:
            ticket_update(ticket=ticket, actor=None, priority=priority)
        dispatch_pending()
        with django_assert_max_num_queries(5):
            response = api.get(f"/api/v1/tickets/{ticket.pk}/routing/")
        assert len(response.json()) == 5


def test_language_describes_fields_actions_and_choices(api, rep):
    body = api.get("/api/v1/rules/language/").json()
    fields = {f["name"]: f for f in body["fields"]}
    assert fields["kind"]["choices"] == ["call", "bug", "rfe", "rma"]
    operators = {o["name"]: o for o in fields["status"]["operators"]}
    assert operators["changed_to"]["on_change"] is True
    assert operators["in"]["list"] is True
    assert {a["type"] for a in body["actions"]} >= {"notify_department", "send_email"}
    assert {"slug": "finance", "name": "Finance"} in body["departments"]
    assert "rep" in [u["username"] for u in body["users"]]


WRONG_TYPES = [[], {}, ["kind"], {"a": 1}, 3, None, True]


@pytest.mark.parametrize("value", WRONG_TYPES)
@pytest.mark.parametrize(
    ("place", "build"),
    [
        ("conditions.all[0].field", lambda v: ({"all": [{"field": v, "operator": "is"}]}, None)),
        (
            "conditions.all[0].operator",
            lambda v: ({"all": [{"field": "kind", "operator": v, "value": "bug"}]}, None),
        ),
        (
            "conditions.all[0].value",
            lambda v: ({"all": [{"field": "kind", "operator": "is", "value": v}]}, None),
        ),
        ("actions[0].type", lambda v: (None, [{"type": v}])),
        (
            "actions[0].department",
            lambda v: (None, [{"type": "notify_department", "department": v}]),
        ),
        ("actions[0].priority", lambda v: (None, [{"type": "set_priority", "priority": v}])),
        ("actions[0].tag", lambda v: (None, [{"type": "add_tag", "tag": v}])),
        (
            "actions[0].to",
            lambda v: (None, [{"type": "send_email", "to": v, "subject": "s", "body": "b"}]),
        ),
        ("actions[0].webhook", lambda v: (None, [{"type": "call_webhook", "webhook": v}])),
        ("actions[0].user", lambda v: (None, [{"type": "assign", "user": v}])),
    ],
)
def test_values_of_the_wrong_type_are_a_400_at_their_place(admin_api, place, build, value):
    conditions, actions = build(value)
    draft = {
        **RENEWAL,
        "conditions": conditions or RENEWAL["conditions"],
        "actions": actions or RENEWAL["actions"],
    }
    response = admin_api.post("/api/v1/rules/", draft, format="json")
    assert response.status_code == 400, response.content
    assert place in response.json()
    assert not Rule.objects.exists()
