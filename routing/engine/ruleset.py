"""The active rule set, compiled once and cached in each process until a rule changes.

Every change to a rule (create, edit, restore, switch, move, archive, import) bumps the single
``RuleSetRevision`` row in its own transaction (``routing.services``), so the row identifies
the rule set. Routing reads it in the statement that claims the event (``RETURNING`` it along
with the run's id), so a worker knows whether its compiled set is current at no cost of its own.
(It used to be keyed by the newest version and audit entry ids with their counts, which can
come round again: SQLite reuses the ids of deleted or rolled-back rows.)
"""

import threading
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import F

from routing.engine.conditions import CompiledRule, compile_rule
from routing.models import Rule, RuleSetRevision, RuleVersion


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
    """The rule set's (revision number, token), in one SELECT: it runs for every routed event.
    Before any rule changed there is no row yet: (0, None)."""
    row = RuleSetRevision.objects.filter(pk=1).values_list("number", "token").first()
    return tuple(row) if row is not None else (0, None)


def load_rule_set(key: tuple | None = None) -> RuleSet:
    """The active, current rules compiled, grouped by trigger in evaluation order. ``key`` is
    the revision as the caller read it, else it is read here."""
    if key is None:
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
        rules = list(rules)
        version_ids = dict(
            RuleVersion.objects.filter(rule__in=rules, number=F("rule__version")).values_list(
                "rule_id", "pk"
            )
        )
        by_trigger: dict[str, list[CompiledRule]] = defaultdict(list)
        by_id = {}
        for rule in rules:
            compiled = compile_rule(
                id=rule.pk,
                version=rule.version,
                version_id=version_ids.get(rule.pk),
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
