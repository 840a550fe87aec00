"""Writes for routing: applying the rules to a ticket event, and changing the rule set.

Every edit of a rule's definition (create, edit, restore, import) goes through ``_save_version``
and leaves a ``RuleVersion`` saying who changed what. What happens to a rule without changing
what it does (moved in the order, switched on or off, archived, imported) is a
``RuleAuditEntry`` instead (all written by ``rule_audit_record``), so the history of a rule is
the history of its definition. Every change also bumps the rule set's revision
(``rule_set_revision_bump``), which tells the workers to compile the rules again.
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import DirectoryRevision, User
from helpdesk.revisions import revision_bump, revision_key
from routing.engine.actions import (
    ActionContext,
    RoutingBatch,
    apply_ticket_changes,
    lasting_memo,
    perform_action,
)
from routing.engine.conditions import explain_conditions
from routing.engine.facts import event_facts_item, facts_for_many, json_safe
from routing.engine.rows import insert_ignoring_conflicts, insert_or_get
from routing.engine.ruleset import load_rule_set
from routing.engine.validation import validate_rule_definition
from routing.models import (
    RoutingRun,
    Rule,
    RuleAuditEntry,
    RuleMatch,
    RuleSetRevision,
    RuleVersion,
)
from routing.models.rules import EDITABLE_FIELDS, VERSIONED_FIELDS
from tickets.models import TicketEvent, TimelineEntry
from tickets.outbox import log_extra
from tickets.services import check_text_lengths, entry_search_words, search_text_append

logger = logging.getLogger(__name__)

# The facts that actions can change while an event is routed (set_priority, assign, add_tag).
ACTION_CHANGED_FACTS = ("priority", "assignee", "department", "tags")


def _rules_for(event: TicketEvent, rule_set):
    if event.type == TicketEvent.Type.TIMER:
        rule = rule_set.by_id.get(event.changes.get("rule"))
        return (rule,) if rule is not None and rule.trigger == Rule.Trigger.TIME else ()
    return rule_set.for_trigger(event.type)


@transaction.atomic
def route_event(event: TicketEvent) -> RoutingRun | None:
    """Apply the active rules to an event exactly once; None if it was already routed.

    The ``RoutingRun`` row is unique per event and written first, before any effect: a second
    worker handling the same event waits on that row's unique index and then finds it taken,
    and a worker killed half-way leaves nothing behind, because every effect is in this one
    transaction. What the rules create is inserted after they all ran, one statement per table
    (``RoutingBatch.flush``), and with no savepoints: under the claim nothing of this event's
    exists yet, and what does (the run's record was lost) is found and kept, not duplicated.
    """
    return _route([event])[0]


def route_events(events: list[TicketEvent]) -> list[RoutingRun | None]:
    """``route_event`` for several events at once, in the caller's transaction (the outbox's,
    which dispatches a backlog in batches): the same effects, in about the statements of one.

    The events must be of different tickets: each is routed as if alone, and two of one
    ticket would each decide without the other's changes. All of it commits or none: a
    failure of one event's rules fails the batch, and the caller routes its events one by one.
    """
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("route_events needs a transaction")
    if len({event.ticket_id for event in events}) != len(events):
        raise ValueError("route_events routes one event per ticket")
    return _route(events)


def _route(events: list[TicketEvent]) -> list[RoutingRun | None]:
    """Claim, evaluate and record ``events`` (in a transaction): each one's run, or None for
    each already routed. One claim, one facts read, one insert per table for all of them."""
    deep = settings.ROUTING_MAX_CHAIN_DEPTH
    routed = [event for event in events if event.depth <= deep]
    customers: dict = {}
    facts_of = dict(
        zip(
            (event.pk for event in routed),
            facts_for_many([event_facts_item(event) for event in routed], customers=customers),
            strict=True,
        )
    )
    claims = []
    for event in events:
        if event.pk in facts_of:
            # The customer (and salesperson) the facts were read from serve the messages too.
            event.ticket.customer = customers[event.ticket.customer_id]
            stored = {k: v for k, v in facts_of[event.pk].items() if k != "customer.salesperson_id"}
            claims.append(RoutingRun(event=event, facts=json_safe(stored)))
        else:
            reason = f"Chain of automatic changes longer than {deep}"
            claims.append(RoutingRun(event=event, skipped_reason=reason))
    runs, key, directory = _claim(claims)
    for event in events:
        if event.pk not in facts_of and runs.get(event.pk) is not None:
            logger.warning(
                "Not routing %s: %s", event, runs[event.pk].skipped_reason, extra=log_extra(event)
            )
    owned = [event for event in routed if event.pk in runs]
    if owned:
        # What actions load of the rules' departments lasts while neither changes.
        batch = RoutingBatch(lasting=lasting_memo((key, directory)))
        rule_set = load_rule_set(key)
        contexts = [
            _evaluate(event, facts_of[event.pk], runs[event.pk], rule_set, batch) for event in owned
        ]
        batch.flush()
        insert_or_get(
            [m for ctx, _, matches in contexts for m in matches], unique=("event", "rule")
        )
        for ctx, _, _ in contexts:
            apply_ticket_changes(ctx)
        _record_on_timeline([(ctx.event, fired) for ctx, fired, _ in contexts if fired])
        _record_evaluations([runs[event.pk] for event in owned])
        for event in owned:
            run = runs[event.pk]
            logger.info(
                "Routed %s: %d rules evaluated, %d fired",
                event,
                run.rules_evaluated,
                run.rules_fired,
                extra=log_extra(event),
            )
    return [runs.get(event.pk) for event in events]


def _evaluate(event: TicketEvent, facts: dict, run: RoutingRun, rule_set, batch: RoutingBatch):
    """Run the event's rules on its facts; the context, the rules fired with their outcomes,
    and the matches to store. The rows actions create wait in ``batch``."""
    rules = _rules_for(event, rule_set)
    ctx = ActionContext(event=event, ticket=event.ticket, facts=facts, rules=rules, batch=batch)
    fired: list[tuple[str, list[dict]]] = []
    matches: list[RuleMatch] = []
    initial = {name: ctx.facts.get(name) for name in ACTION_CHANGED_FACTS}
    for rule in rules:
        matched, held = rule.evaluate(ctx.facts)
        # Compact, as a run may evaluate a thousand rules: [rule, version, matched, held], and
        # the facts earlier rules' actions had changed by then, if any, so that the explanation
        # shows the values this rule actually saw.
        evaluation = [rule.id, rule.version, matched, held]
        changed = {
            name: ctx.facts.get(name)
            for name in ACTION_CHANGED_FACTS
            if ctx.facts.get(name) != initial[name]
        }
        if changed:
            evaluation.append(changed)
        run.evaluations.append(evaluation)
        if not matched:
            continue
        ctx.rule_id, ctx.rule_name = rule.id, rule.name
        explanation = explain_conditions(_definition(rule), held, ctx.facts)
        # Outcomes of actions whose rows are inserted later are completed by then (their ids,
        # "Notified" or "Already notified"), before the match and the timeline record them.
        outcomes = [perform_action(action, ctx) for action in rule.actions]
        fired.append((rule.name, outcomes))
        matches.append(
            RuleMatch(
                event=event,
                rule_id=rule.id,
                rule_version_id=rule.version_id,
                ticket=ctx.ticket,
                conditions=explanation,
                actions=outcomes,
            )
        )
        if rule.stop_processing:
            break
    run.rules_evaluated = len(run.evaluations)
    run.rules_fired = len(matches)
    return ctx, fired, matches


def _record_evaluations(runs: list[RoutingRun]) -> None:
    fields = ["evaluations", "rules_evaluated", "rules_fired"]
    if len(runs) == 1:
        [run] = runs
        RoutingRun.objects.filter(pk=run.pk).update(**{name: getattr(run, name) for name in fields})
    else:
        RoutingRun.objects.bulk_update(runs, fields)


def _claim(runs: list[RoutingRun]) -> tuple[dict[int, RoutingRun], tuple, tuple]:
    """Insert the events' runs, except where there is one; and read the revisions of the rule
    set and of the directory in the same statement, so that checking that the compiled rules
    and what actions keep of departments are current costs no query of its own. The runs
    inserted by event id, and the two revisions; an event missing was routed already,
    or is being routed by another worker, which this one then waited for. Inserted in the
    order of the events' ids, so that two workers claiming overlapping events wait for each
    other in the same order and never for each other at once."""
    qn = connection.ops.quote_name
    revision = []
    for model in (RuleSetRevision, DirectoryRevision):
        # Only quoted names from the model's metadata are interpolated, never a value.
        table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
        revision += [
            f"(SELECT {qn(name)} FROM {table} WHERE {pk} = 1)"  # noqa: S608
            for name in ("number", "token")  # the columns are named as the fields
        ]
    # Only when routing's transaction is the outermost: set in a caller's, it would make the
    # caller's own writes (a ticket, its event) commit without waiting for the disk too.
    outermost = len(connection.atomic_blocks) == 1
    if settings.ROUTING_ASYNCHRONOUS_COMMIT and outermost and connection.vendor == "postgresql":
        # This transaction's COMMIT then returns without waiting for its WAL to reach the disk
        # (set here, in a statement routing sends anyway, rather than in one more). Nothing
        # that matters can be lost: the event is stored already; it is marked dispatched in
        # this transaction (a batch) or in a synchronous commit after it; and sending an email
        # or calling a webhook starts with a synchronous commit (the claim). Each synchronous
        # commit flushes the WAL up to itself, this commit with it. A crash before any of those
        # loses only this routing, and the event, still undispatched, is routed again.
        revision.append("set_config('synchronous_commit', 'off', true)")
    runs.sort(key=lambda run: run.event_id)
    rows = insert_ignoring_conflicts(
        runs, returning=("event",), extra_returning=", ".join(revision)
    )
    by_event = {run.event_id: run for run in runs}
    claimed: dict[int, RoutingRun] = {}
    for run_id, event_id, *_ in rows:
        run = by_event[event_id]
        run.pk = run_id
        run._state.adding = False
        claimed[event_id] = run
    if not rows:
        return claimed, (), ()
    number, token, directory_number, directory_token = rows[0][2:6]
    return claimed, revision_key(number, token), revision_key(directory_number, directory_token)


def _record_on_timeline(fired_by_event: list[tuple[TicketEvent, list[tuple[str, list[dict]]]]]):
    """Tell each ticket's readers what routing did, one line per rule that fired, in one
    INSERT for all the events.

    What ``tickets.services.timeline_record`` does, without its savepoint: routing's own
    transaction holds it all or nothing already."""
    kind = TimelineEntry.Kind.ROUTING
    entries = []
    for event, fired in fired_by_event:
        lines = [
            f"{name}: {'; '.join(outcome['done'] for outcome in outcomes)}."
            for name, outcomes in fired
        ]
        body = "\n".join(lines)
        check_text_lengths(body=body)
        changes = {"event": event.pk, "event_type": event.type}
        entries.append(TimelineEntry(ticket=event.ticket, kind=kind, body=body, changes=changes))
    if not entries:
        return
    # An entry has no key but its id to conflict on: this is a plain INSERT, whose SQL
    # (unlike ``bulk_create``'s) is built once per process and number of entries.
    insert_ignoring_conflicts(entries)
    # In the order of the tickets' ids, so that these updates at least lock in one order. (Two
    # batches whose actions locked the same tickets in other orders before can still deadlock;
    # PostgreSQL then fails one, and the outbox routes its events one by one.)
    for entry in sorted(entries, key=lambda entry: entry.ticket_id):
        words = entry_search_words(kind=kind, body=entry.body, changes=entry.changes)
        search_text_append(ticket_id=entry.ticket_id, words=words)


def _definition(rule) -> dict:
    conditions: dict[str, list[dict]] = {"all": [], "any": []}
    for condition in rule.conditions:
        item = {"field": condition.field, "operator": condition.operator}
        if condition.value is not None:
            item["value"] = condition.value
        conditions[condition.group].append(item)
    return conditions


# --- the rule set -----------------------------------------------------------------------------


DEFINITION_FIELDS = ("trigger", "conditions", "actions")


def definition_needs_check(rule: Rule, previous: dict | None) -> bool:
    """A new rule, a changed definition, or a rule being switched on must name only fields,
    departments, users and webhooks that exist; switching off, renaming or reordering need not,
    so a rule whose department was deleted since can still be retired."""
    if previous is None:
        return True
    if rule.is_active and not previous["is_active"]:
        return True
    return any(previous[name] != getattr(rule, name) for name in DEFINITION_FIELDS)


def rule_state(rule: Rule) -> dict:
    """Everything an admin edits: what the rule does (its ``VERSIONED_FIELDS``) and where it
    stands (order, on or off)."""
    return {field: getattr(rule, field) for field in EDITABLE_FIELDS}


def rule_set_revision_bump() -> None:
    """Mark the rule set as changed, in the transaction of the change: the workers' compiled
    rule sets (``engine/ruleset.py``) are keyed by this row. Anything that writes rules without
    the services below (a bulk update in the shell, a benchmark) must call it too."""
    revision_bump(RuleSetRevision)


def rule_audit_record(
    *,
    action: RuleAuditEntry.Action,
    rule: Rule | None = None,
    author: User | None = None,
    detail: str = "",
) -> RuleAuditEntry:
    """Record something done to a rule (or, without one, to the whole rule set) that makes no
    version. Every audit entry is written here, so that one action reads one way."""
    return RuleAuditEntry.objects.create(rule=rule, action=action, author=author, detail=detail)


def _moved(*, position: tuple[int, int], order: tuple[int, int]) -> str:
    """A move in words: the place in the list people see, and the order number behind it."""
    return f"Position {position[0]} → {position[1]} (order {order[0]} → {order[1]})"


def _position(*, pk: int, order: int) -> int:
    """Where a rule of this order stands among the current rules, as the rule list numbers
    them (the other rules where the database holds them now)."""
    earlier = Q(order__lt=order) | Q(order=order, pk__lt=pk)
    return Rule.objects.filter(earlier, archived_at__isnull=True).exclude(pk=pk).count() + 1


def _audit_state(rule: Rule, previous: dict, author: User | None, position_before: int) -> None:
    """Record a switch on or off and a change of order, which make no version."""
    Action = RuleAuditEntry.Action
    if previous["is_active"] != rule.is_active:
        action = Action.ACTIVATED if rule.is_active else Action.DEACTIVATED
        rule_audit_record(rule=rule, action=action, author=author)
    if previous["order"] != rule.order:
        position = (position_before, _position(pk=rule.pk, order=rule.order))
        detail = _moved(position=position, order=(previous["order"], rule.order))
        rule_audit_record(rule=rule, action=Action.REORDERED, author=author, detail=detail)


def _save_version(rule: Rule, *, author: User | None, summary: str, previous: dict | None) -> Rule:
    """Validate and save the rule; record a version if its definition changed, and an audit
    entry if it was switched on or off or moved.

    Whatever changed bumps the rule set's revision, the cache key of the compiled rule set.
    """
    rule.full_clean()
    if definition_needs_check(rule, previous):
        validate_rule_definition(
            trigger=rule.trigger, conditions=rule.conditions, actions=rule.actions
        )
    now = rule_state(rule)
    if previous is not None and previous == now:
        return rule
    changed = [f for f in VERSIONED_FIELDS if previous is None or previous[f] != now[f]]
    if changed:
        rule.version += 1
    moved = previous is not None and previous["order"] != rule.order
    position_before = _position(pk=rule.pk, order=previous["order"]) if previous and moved else 0
    rule.save()
    rule_set_revision_bump()
    if changed:
        RuleVersion.objects.create(
            rule=rule,
            number=rule.version,
            definition={f: now[f] for f in VERSIONED_FIELDS},
            changed_fields=changed,
            summary=summary or "Edited " + ", ".join(changed),
            author=author,
        )
    if previous is not None:
        _audit_state(rule, previous, author, position_before)
    return rule


@transaction.atomic
def rule_create(*, author: User | None = None, **fields) -> Rule:
    """Create a rule (validated) with its first version."""
    rule = Rule(**fields)
    return _save_version(rule, author=author, summary="Created", previous=None)


@transaction.atomic
def rule_update(*, rule: Rule, author: User | None = None, summary: str = "", **fields) -> Rule:
    """Change a rule (validated). A new version records a changed definition; switching on or
    off and moving are recorded in the audit trail. No change, nothing recorded."""
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    previous = rule_state(rule)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(rule, name, value)
    return _save_version(rule, author=author, summary=summary, previous=previous)


@transaction.atomic
def rule_restore(*, rule: Rule, number: int, author: User | None = None) -> Rule:
    """Make an earlier version current again, as a new version."""
    version = RuleVersion.objects.get(rule=rule, number=number)
    # What the rule does comes back; where it stands in the order and whether it is on stay as
    # they are now, as the list around it has moved on since. (Versions written before the
    # order and the switch left the definition still hold them: they are ignored.)
    restored = {k: v for k, v in version.definition.items() if k in VERSIONED_FIELDS}
    if all(getattr(rule, name) == value for name, value in restored.items()):
        raise ValidationError(
            {"version": f"Version {number} does what the rule does now: nothing to restore."}
        )
    return rule_update(rule=rule, author=author, summary=f"Restored version {number}", **restored)


@transaction.atomic
def rule_archive(*, rule: Rule, author: User | None = None, detail: str = "") -> Rule:
    """Retire a rule: it stops routing and leaves the list; its history stays."""
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    rule.is_active = False
    rule.archived_at = timezone.now()
    rule.save(update_fields=["is_active", "archived_at", "updated_at"])
    rule_set_revision_bump()
    rule_audit_record(
        rule=rule, action=RuleAuditEntry.Action.ARCHIVED, author=author, detail=detail
    )
    return rule


@transaction.atomic
def rules_reorder(*, rule_ids: list[int], author: User | None = None) -> list[Rule]:
    """Give the listed rules the orders 10, 20, 30... in the order listed; each rule that
    changed place gets an audit entry saying from where to where (no new version: the order
    is not part of what a rule does)."""
    locked = Rule.objects.select_for_update().filter(pk__in=rule_ids).order_by("order", "id")
    rules = {r.pk: r for r in locked}
    missing = [pk for pk in rule_ids if pk not in rules]
    if missing or len(set(rule_ids)) != len(rule_ids):
        raise ValueError("List each current rule once.")
    position_before = {pk: index + 1 for index, pk in enumerate(rules)}
    for index, pk in enumerate(rule_ids):
        rule, order = rules[pk], (index + 1) * 10
        if rule.order == order and position_before[pk] == index + 1:
            continue
        order_before, rule.order = rule.order, order
        rule.save(update_fields=["order", "updated_at"])
        rule_set_revision_bump()
        if position_before[pk] != index + 1:
            position = (position_before[pk], index + 1)
            rule_audit_record(
                rule=rule,
                action=RuleAuditEntry.Action.REORDERED,
                author=author,
                detail=_moved(position=position, order=(order_before, order)),
            )
    return [rules[pk] for pk in rule_ids]
