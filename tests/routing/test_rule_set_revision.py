"""The compiled rule set is keyed by the rule set's revision, bumped by every rule change."""

import pytest
from django.db import transaction
from django.db.models import Count, Max

from routing.engine.ruleset import current_key, load_rule_set
from routing.interchange import rules_export, rules_import
from routing.models import Rule, RuleAuditEntry, RuleSetRevision, RuleVersion
from routing.services import (
    rule_archive,
    rule_create,
    rule_restore,
    rule_update,
    rules_reorder,
)

pytestmark = pytest.mark.django_db


def notify(department: str) -> list[dict]:
    return [{"type": "notify_department", "department": department}]


def compiled_department(rule: Rule) -> str:
    return load_rule_set().by_id[rule.pk].actions[0]["department"]


def revision() -> int:
    row = RuleSetRevision.objects.filter(pk=1).first()
    return row.number if row else 0


def ids_and_counts() -> tuple:
    """What the cache key used to be: the newest version and audit entry ids, and their counts."""
    versions = RuleVersion.objects.aggregate(newest=Max("id"), count=Count("id"))
    audit = RuleAuditEntry.objects.aggregate(newest=Max("id"), count=Count("id"))
    return versions["newest"], versions["count"], audit["newest"], audit["count"]


def test_every_rule_change_bumps_the_revision(admin_user):
    assert current_key() == (0, None)
    rule = rule_create(name="a", trigger="ticket.created", actions=notify("marketing"))
    other = rule_create(name="b", trigger="ticket.created", actions=notify("finance"))
    assert revision() == 2
    steps = [
        lambda: rule_update(rule=rule, actions=notify("finance")),  # a new version
        lambda: rule_update(rule=rule, is_active=False),  # switched off: audited
        lambda: rule_update(rule=rule, is_active=True),
        lambda: rule_update(rule=rule, order=5),  # moved: audited
        lambda: rule_restore(rule=Rule.objects.get(pk=rule.pk), number=1),
        lambda: rules_reorder(rule_ids=[other.pk, rule.pk]),
        lambda: rule_archive(rule=other),
    ]
    for step in steps:
        before = current_key()
        step()
        assert current_key()[0] > before[0]
        assert current_key()[1] != before[1]
    before = current_key()
    rule_update(rule=rule, description="")  # nothing changed: nothing to compile again
    assert current_key() == before
    export = rules_export()
    export["rules"][0]["actions"] = notify("engineering")
    rules_import(export, author=admin_user)
    assert current_key()[0] > before[0]
    assert compiled_department(rule) == "engineering"


def test_the_engine_sees_a_change_the_old_key_would_have_missed():
    """SQLite gives a deleted row's id to the next row: delete the newest version and make
    another in its place, and the ids and counts are what they were."""
    rule = rule_create(name="a", trigger="ticket.created", actions=notify("marketing"))
    rule = rule_update(rule=rule, actions=notify("finance"))
    assert compiled_department(rule) == "finance"
    before = ids_and_counts()
    newest = rule.versions.get(number=2).pk
    RuleVersion.objects.filter(pk=newest).delete()
    Rule.objects.filter(pk=rule.pk).update(version=1)
    rule = rule_update(rule=rule, actions=notify("engineering"))
    RuleVersion.objects.filter(rule=rule, number=2).update(id=newest)  # the id reused
    assert ids_and_counts() == before  # the old key: no change seen
    assert compiled_department(rule) == "engineering"


def test_a_change_rolled_back_does_not_hide_the_next_one():
    """A rule set compiled inside a transaction that rolled back (a test, a failed import) has a
    revision number the next change reaches again; the token tells them apart."""
    rule = rule_create(name="a", trigger="ticket.created", actions=notify("marketing"))
    assert compiled_department(rule) == "marketing"
    number = revision()
    compiled = []

    def change_then_fail():
        with transaction.atomic():
            rule_update(rule=rule, actions=notify("finance"))
            compiled.append(compiled_department(rule))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert compiled == ["finance"]
    assert revision() == number
    rule_update(rule=rule, actions=notify("engineering"))
    assert revision() == number + 1  # the number the rolled-back set was compiled at
    assert compiled_department(rule) == "engineering"


def test_the_first_change_creates_the_row():
    RuleSetRevision.objects.all().delete()  # as a flushed database has it
    rule_create(name="a", trigger="ticket.created", actions=notify("marketing"))
    assert RuleSetRevision.objects.get().number == 1
