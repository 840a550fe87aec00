"""Writes for routing: applying the rules to a ticket event, and managing the rule set."""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction

from routing.engine.actions import ActionContext, apply_ticket_changes, perform_action
from routing.engine.conditions import evaluate_conditions
from routing.engine.facts import facts_for_event
from routing.models import RoutingRun, Rule, RuleMatch
from routing.selectors import rules_for_trigger
from tickets.models import TicketEvent

logger = logging.getLogger(__name__)


@transaction.atomic
def route_event(event: TicketEvent) -> RoutingRun | None:
    """Apply the active rules to an event exactly once; None if it was already routed.

    The ``RoutingRun`` row is unique per event and written first: a second worker handling the
    same event waits on that row's unique index and then finds it taken, and a worker killed
    half-way leaves nothing behind, because every effect is in this one transaction.
    """
    try:
        with transaction.atomic():
            run = RoutingRun.objects.create(event=event)
    except IntegrityError:
        return None
    if event.depth > settings.ROUTING_MAX_CHAIN_DEPTH:
        run.skipped_reason = (
            f"Chain of automatic changes longer than {settings.ROUTING_MAX_CHAIN_DEPTH}"
        )
        run.save(update_fields=["skipped_reason"])
        logger.warning("Not routing %s: %s", event, run.skipped_reason)
        return run

    ctx = ActionContext(event=event, ticket=event.ticket, facts=facts_for_event(event))
    for rule in rules_for_trigger(event.type):
        run.rules_evaluated += 1
        evaluation = evaluate_conditions(rule.conditions, ctx.facts)
        if not evaluation.matched:
            continue
        ctx.rule = rule
        outcomes = [perform_action(action, ctx) for action in rule.actions]
        RuleMatch.objects.create(
            event=event,
            rule=rule,
            ticket=ctx.ticket,
            conditions=evaluation.conditions,
            actions=outcomes,
        )
        run.rules_fired += 1
        if rule.stop_processing:
            break
    apply_ticket_changes(ctx)
    run.save(update_fields=["rules_evaluated", "rules_fired"])
    return run


@transaction.atomic
def rule_create(**fields) -> Rule:
    """Create a rule after validating its conditions and actions."""
    rule = Rule(**fields)
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def rule_update(*, rule: Rule, **fields) -> Rule:
    """Change a rule after validating the result."""
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.full_clean()
    rule.save()
    return rule
