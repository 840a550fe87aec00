"""The active rule set, compiled once and cached in each process until a rule changes.

Every change to a rule writes a ``RuleVersion`` (its definition) or a ``RuleAuditEntry`` (moved,
switched on or off, archived), so the two identify the whole rule set: the key is the highest
id of each together with their numbers of rows (two admins saving at once can commit out of id
order; the count still changes when the later one lands). One small query per event instead
of one per rule.
"""

import threading
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection

from routing.engine.conditions import CompiledRule, compile_rule
from routing.models import Rule, RuleAuditEntry, RuleVersion


@dataclass(frozen=True)
class RuleSet:
    key: tuple
    by_trigger: dict[str, tuple[CompiledRule, ...]]
    by_id: dict[int, CompiledRule]

    def for_trigger(self, trigger: str) -> tuple[CompiledRule, ...]:
        return self.by_trigger.get(trigger, ())


_lock = threading.Lock()
_cached: RuleSet | None = None


def current_key() -> tuple:
    """(newest version id, versions, newest audit entry id, audit entries), in one SELECT:
    it runs for every routed event."""
    quote = connection.ops.quote_name
    versions, audit = quote(RuleVersion._meta.db_table), quote(RuleAuditEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT v.newest, v.count, a.newest, a.count"  # noqa: S608 (table names, no input)
            f" FROM (SELECT MAX(id) AS newest, COUNT(*) AS count FROM {versions}) AS v,"
            f" (SELECT MAX(id) AS newest, COUNT(*) AS count FROM {audit}) AS a"
        )
        return tuple(cursor.fetchone())


def load_rule_set() -> RuleSet:
    """The active, current rules compiled, grouped by trigger in evaluation order."""
    key = current_key()
    global _cached
    cached = _cached
    if cached is not None and cached.key == key:
        return cached
    with _lock:
        if _cached is not None and _cached.key == key:
            return _cached
        rules = Rule.objects.filter(is_active=True, archived_at__isnull=True).order_by(
            "order", "id"
        )
        by_trigger: dict[str, list[CompiledRule]] = defaultdict(list)
        by_id = {}
        for rule in rules:
            compiled = compile_rule(
                id=rule.pk,
                version=rule.version,
                name=rule.name,
                order=rule.order,
                trigger=rule.trigger,
                stop_processing=rule.stop_processing,
                conditions=rule.conditions,
                actions=rule.actions,
            )
            by_trigger[rule.trigger].append(compiled)
            by_id[rule.pk] = compiled
        _cached = RuleSet(
            key=key, by_trigger={t: tuple(r) for t, r in by_trigger.items()}, by_id=by_id
        )
        return _cached
