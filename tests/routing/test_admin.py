"""Rules edited in the Django admin are versioned and archived like everywhere else."""

import json
import re

import pytest
from django.apps import apps

from routing.models import Rule, RuleAuditEntry

pytestmark = pytest.mark.django_db


def form(rule, **changes):
    data = {
        "name": rule.name,
        "description": rule.description,
        "order": rule.order,
        "trigger": rule.trigger,
        "conditions": json.dumps(rule.conditions),
        "actions": json.dumps(rule.actions),
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
        "audit_entries-TOTAL_FORMS": "0",
        "audit_entries-INITIAL_FORMS": "0",
        **changes,
    }
    if rule.is_active:
        data["is_active"] = "on"
    return data


def test_admin_edit_makes_a_version_with_its_author(client, admin_user, starter_rules):
    rule = starter_rules[0]
    client.force_login(admin_user)
    response = client.post(
        f"/admin/routing/rule/{rule.pk}/change/", form(rule, description="Every bug")
    )
    assert response.status_code == 302, response.content[:2000]
    rule.refresh_from_db()
    assert rule.version == 2
    latest = rule.versions.first()
    assert (latest.summary, latest.author) == ("Edited description", admin_user)


def test_admin_delete_archives(client, admin_user, starter_rules):
    rule = starter_rules[0]
    client.force_login(admin_user)
    response = client.post(f"/admin/routing/rule/{rule.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    rule = Rule.objects.get(pk=rule.pk)
    assert rule.archived_at is not None
    assert client.get(f"/admin/routing/rule/{rule.pk}/change/").status_code == 302


def test_admin_delete_archives_a_rule_with_an_audit_trail_and_matches(
    client, admin_user, customer, starter_rules
):
    from routing.services import rule_update
    from tests.conftest import dispatch_pending
    from tickets.services import ticket_create

    rule = next(r for r in starter_rules if r.name == "Bugs go to engineering")
    rule_update(rule=rule, author=admin_user, order=rule.order + 1)
    ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")
    dispatch_pending()
    assert rule.matches.exists()
    assert rule.audit_entries.exists()
    client.force_login(admin_user)
    page = client.get(f"/admin/routing/rule/{rule.pk}/delete/").content.decode()
    assert "archived: it stops routing, its history stays" in page
    assert "permission to delete" not in page
    assert "protected" not in page
    response = client.post(f"/admin/routing/rule/{rule.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.archived_at is not None
    assert rule.audit_entries.first().action == RuleAuditEntry.Action.ARCHIVED


def test_a_rule_deleted_outright_takes_its_audit_trail_along(admin_user):
    from django.db import connection

    from routing.services import rule_create, rule_update

    notify = [{"type": "notify_department", "department": "marketing"}]
    rule = rule_create(name="Short-lived", trigger="ticket.created", actions=notify)
    rule_update(rule=rule, author=admin_user, is_active=False)
    assert rule.audit_entries.count() == 1
    rule.delete()
    # PostgreSQL checks foreign keys at commit; check them now, as the commit would.
    connection.check_constraints()
    assert not RuleAuditEntry.objects.exists()


def test_admin_can_switch_off_and_delete_a_rule_naming_a_deleted_department(
    client, admin_user, starter_rules
):
    from accounts.models import Department

    rule = next(r for r in starter_rules if r.actions[0].get("department") == "shipping")
    Department.objects.filter(slug="shipping").delete()
    client.force_login(admin_user)
    data = form(rule)
    data.pop("is_active")
    response = client.post(f"/admin/routing/rule/{rule.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    rule.refresh_from_db()
    assert rule.is_active is False
    # Switching it back on is refused, at the place of the missing department.
    response = client.post(f"/admin/routing/rule/{rule.pk}/change/", form(rule, is_active="on"))
    assert response.status_code == 200
    assert "actions[0].department: No department with slug &#x27;shipping&#x27;." in (
        response.content.decode()
    )
    response = client.post(f"/admin/routing/rule/{rule.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302


# Plurals Django guesses by adding "s": "deliverys", "matchs", "boxs". A consonant before "ys"
# ("days", "keys" are fine) or a sibilant before "s" is the sign of a guess.
WRONG_PLURAL = re.compile(r"([^aeiou]ys|(ch|sh|x|ss)s)$")


def test_every_model_has_a_proper_plural_in_the_admin():
    wrong = [
        f"{model._meta.label}: {model._meta.verbose_name_plural}"
        for model in apps.get_models()
        if WRONG_PLURAL.search(str(model._meta.verbose_name_plural).split()[-1])
        or "follow up" in str(model._meta.verbose_name_plural)
    ]
    assert wrong == []


def test_admin_index_shows_the_plurals_and_the_audit_trail(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/admin/").content.decode()
    for plural in ("Email deliveries", "Rule matches", "Webhook deliveries", "Follow-up tasks"):
        assert plural in page
    assert "Rule audit entries" in page
