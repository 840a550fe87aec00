"""The active rule set, compiled once and cached in each process until a rule changes.

Every change to a rule writes a ``RuleVersion`` (its definition) or a ``RuleAuditEntry`` (moved,
switched on or off, archived), so the two identify the whole rule set: the key is the highest
id of each together with their numbers of rows (two admins saving at once can commit out of id
order; the count still changes when the later one lands). Two small queries per event instead
of one per rule.
"""

import threading
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Max

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
    versions = RuleVersion.objects.aggregate(newest=Max("id"), count=Count("id"))
    audit = RuleAuditEntry.objects.aggregate(newest=Max("id"), count=Count("id"))
    return (versions["newest"], versions["count"], audit["newest"], audit["count"])


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
