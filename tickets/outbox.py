"""The transactional outbox of ticket events, and the registry of those who subscribe to it.

``tickets`` does not know who listens: other apps call ``subscribe()`` from their
``AppConfig.ready()``. Delivery is at least once (a task on commit, then the periodic sweep), so
each subscriber must make handling the same event twice have the effect of handling it once.

A new event sends a dispatch task when none is queued (``OUTBOX_COALESCE_SECONDS``); a task
that finds other events waiting too (a steady stream, a backlog: a Monday morning, a mail
import, a worker back from a restart) dispatches up to OUTBOX_DISPATCH_BATCH of them together,
of different tickets, in one transaction, with the event rows locked (``SKIP LOCKED``, so two
workers take different batches), and goes on, batch after batch, while any wait. A
subscriber that can handle several events at once says so (``subscribe(..., many=...)``).
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, Case, F, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from helpdesk import log_context
from helpdesk.prepared import PreparedQuery
from helpdesk.queue import enqueue_on_commit, started
from tickets.models import Ticket, TicketEvent

logger = logging.getLogger(__name__)

EventHandler = Callable[[TicketEvent], None]
BatchHandler = Callable[[list[TicketEvent]], object]
_subscribers: list[EventHandler] = []
# For a subscriber that handles several events at once: that way (in the outbox's transaction).
_batch_handlers: dict[EventHandler, BatchHandler] = {}

# The ticket fields recorded with every event, as rules see them.
SNAPSHOT_FIELDS = (
    "kind",
    "channel",
    "priority",
    "status",
    "product",
    "subject",
    "description",
    "customer_id",
    "contact_id",
)
SNAPSHOT_TIMES = ("created_at", "updated_at", "status_changed_at", "first_response_at")

# The flag of a queued dispatch task (helpdesk.queue): while it is up, new events send none.
DISPATCH_QUEUED = "outbox-dispatch-queued"

# An event whose dispatch keeps failing is left alone after this many failures and logged as an
# error, so one poisonous event cannot occupy the workers forever.
MAX_DISPATCH_FAILURES = 10


def subscribe(handler: EventHandler, *, many: BatchHandler | None = None) -> None:
    """Register ``handler`` to receive every ticket event (idempotent). ``many``, if given,
    handles a batch of events of different tickets as ``handler`` would each, inside the
    transaction the outbox opens for the batch: an exception from it rolls the whole batch back,
    and the outbox then dispatches its events one by one."""
    if handler not in _subscribers:
        _subscribers.append(handler)
    if many is not None:
        _batch_handlers[handler] = many


def ticket_snapshot(ticket: Ticket, *, tags: list[str] | None = None) -> dict:
    """The ticket as rules see it: plain values, people and teams by the names rules use.

    ``tags``: the ticket's tag names when the caller knows them (it has just set them), so they
    are not read back.
    """
    snapshot = {field: getattr(ticket, field) for field in SNAPSHOT_FIELDS}
    for field in SNAPSHOT_TIMES:
        value = getattr(ticket, field)
        snapshot[field] = value.isoformat() if value else None
    snapshot["assignee"] = ticket.assignee.username if ticket.assignee_id else None
    snapshot["department"] = ticket.department.slug if ticket.department_id else None
    if tags is None:
        # .all() so that a prefetched list is used when the caller loaded many tickets at once.
        tags = [tag.name for tag in ticket.tags.all()]
    snapshot["tags"] = sorted(tags)
    return snapshot


def event_record(
    *,
    ticket: Ticket,
    type: str,
    actor=None,
    changes: dict | None = None,
    caused_by: TicketEvent | None = None,
    tags: list[str] | None = None,
) -> TicketEvent:
    """Write an event in the caller's transaction and enqueue its dispatch for after commit.

    ``tags``: the ticket's tag names, when the caller has just set them (see ticket_snapshot).
    """
    event = TicketEvent.objects.create(
        ticket=ticket,
        type=type,
        actor=actor,
        snapshot=ticket_snapshot(ticket, tags=tags),
        changes=changes or {},
        caused_by=caused_by,
        depth=caused_by.depth + 1 if caused_by else 0,
        # A consequence of an event's routing belongs to the request that wrote that event.
        request_id=(caused_by.request_id if caused_by else log_context.request_id.get())[:64],
    )
    from tickets.tasks import dispatch_event  # the task module imports this one

    # Unless a dispatch task is queued already: it will find this event waiting.
    enqueue_on_commit(
        dispatch_event,
        event.pk,
        unless_queued=DISPATCH_QUEUED,
        seconds=settings.OUTBOX_COALESCE_SECONDS if _coalescing() else 0,
    )
    return event


def event_dispatch(*, event_id: int) -> bool:
    """Hand an event to every subscriber, then mark it dispatched. False if nothing was to do.

    A subscriber that raises makes it a failure: counted, and backed off before the sweep tries
    again. A duplicate delivery of a dispatched event costs one query and counts for nothing.
    When other events are waiting, they are dispatched with this one (``_dispatch_batch``),
    in rounds until none waits: events written while a dispatch task was queued sent no task
    of their own (``OUTBOX_COALESCE_SECONDS``), and count on this one.
    """
    # Events may count on this task only when they send none while one is queued.
    coalescing = _coalescing()
    if coalescing:
        # Before looking: an event committed from now on sends a task of its own.
        started(DISPATCH_QUEUED)
    now = timezone.now()
    if settings.OUTBOX_DISPATCH_BATCH > 1:
        # Whether a batch is worth it, known in the same query: an index probe of the
        # undispatched events that stops at the first.
        found = _EVENT_AND_OTHERS_WAITING(event_id, now)
    else:
        found = _EVENT(event_id)
    event = found[0] if found else None
    others_waiting = getattr(event, "others_waiting", False)
    if event is None or event.dispatched_at is not None:
        if coalescing and (event is None or others_waiting):
            _dispatch_waiting(now, rounds=settings.OUTBOX_DISPATCH_ROUNDS)
        return False
    if not others_waiting:
        return _dispatch_one(event)
    dispatched, _ = _dispatch_batch(event, now)
    try:
        if dispatched is None:  # the batch failed: this event alone, its failure counted once
            dispatched = _dispatch_one(event)
    except SoftTimeLimitExceeded:
        raise
    except Exception:
        if coalescing:  # the others still count on this task; this event now backs off
            _dispatch_waiting(now, rounds=settings.OUTBOX_DISPATCH_ROUNDS - 1)
        raise
    if coalescing:
        # Whether or not the first batch was full: what other workers held in its window of
        # candidates hid what came after it.
        _dispatch_waiting(now, rounds=settings.OUTBOX_DISPATCH_ROUNDS - 1)
    return dispatched


def log_extra(event: TicketEvent) -> dict[str, str]:
    """What a log line about ``event`` names: it, and the request that wrote it (a batch's
    task was sent by another request)."""
    # Even when empty (an event of beat's or the sweep's): not the batch task's request.
    return {"event_id": str(event.pk), "request_id": event.request_id}


def _coalescing() -> bool:
    return settings.OUTBOX_COALESCE_SECONDS > 0 and settings.OUTBOX_DISPATCH_BATCH > 1


def _dispatch_waiting(now, *, rounds: int) -> None:
    """Dispatch the events waiting, a batch at a time, until a batch comes back short, for up
    to ``rounds`` batches; if some may still wait then (or a batch could not even be locked,
    or the task's time is up), a new task takes over, so other tasks run in between."""
    try:
        for _ in range(rounds):
            outcome, full = _dispatch_batch(None, now)
            if outcome is None:
                break
            if not full:
                return
    except SoftTimeLimitExceeded:
        _hand_over(now)
        raise
    _hand_over(now)


def _hand_over(now) -> None:
    """A dispatch task for the oldest event waiting, if any (the sweep's, if even that fails)."""
    oldest = _due(now).order_by("created_at", "id").values_list("pk", flat=True).first()
    if oldest is not None:
        from tickets.tasks import dispatch_event

        enqueue_on_commit(dispatch_event, oldest)


def _due(now) -> QuerySet:
    """Undispatched events due for a dispatch: those the sweep would enqueue, less those
    backing off after failures or claimed by the sweep."""
    return TicketEvent.objects.filter(_due_condition(now), dispatched_at__isnull=True)


def _others_due(now, event_id: int) -> RawSQL:
    """Whether any event but this one is ``_due``, as an annotation: the same conditions in
    SQL written once, because building them from the ORM on every dispatch cost twice the
    query itself (tests/tickets/test_outbox.py checks that both agree)."""
    table = connection.ops.quote_name(TicketEvent._meta.db_table)
    # The values are parameters; only the table's quoted name is interpolated.
    return RawSQL(  # noqa: S611
        f"EXISTS(SELECT 1 FROM {table} due WHERE due.dispatched_at IS NULL"  # noqa: S608
        " AND (due.next_dispatch_at IS NULL OR due.next_dispatch_at <= %s)"
        " AND due.dispatch_failures < %s AND due.id <> %s)",
        (connection.ops.adapt_datetimefield_value(now), MAX_DISPATCH_FAILURES, event_id),
        output_field=BooleanField(),
    )


# An event with its ticket, read for every dispatch: its SQL is built once (helpdesk.prepared).
_EVENT = PreparedQuery(
    lambda event_id: TicketEvent.objects.select_related("ticket").filter(pk=event_id).order_by()
)
_EVENT_AND_OTHERS_WAITING = PreparedQuery(
    lambda event_id, now: (
        TicketEvent.objects.select_related("ticket")
        .filter(pk=event_id)
        .annotate(others_waiting=_others_due(now, event_id))
        .order_by()
    )
)


def _due_condition(now) -> Q:
    return Q(Q(next_dispatch_at__isnull=True) | Q(next_dispatch_at__lte=now)) & Q(
        dispatch_failures__lt=MAX_DISPATCH_FAILURES
    )


def _dispatch_batch(event: TicketEvent | None, now) -> tuple[bool | None, bool]:
    """Dispatch ``event`` (or, for None, the oldest waiting that no other worker holds) with up
    to OUTBOX_DISPATCH_BATCH - 1 others waiting, of other tickets, in one transaction, their
    rows locked.

    First: True if ``event`` was done; False if another worker's batch holds it (this task
    then dispatches the others it found instead), or for None; None if the batch failed,
    after its other events were dispatched one by one (``event`` is left to the caller, which
    counts its failure and raises it as for any event alone), or for None if no batch could be
    locked. Second: whether the batch was full; for None, a short one means nothing else
    waits unlocked.

    Every event whose row it locked is this task's to dispatch (another task finding it locked
    leaves it): one of a ticket already in the batch is dispatched alone after the batch.
    """
    size = settings.OUTBOX_DISPATCH_BATCH
    # For None, the due events themselves, oldest first: what a batch of another worker holds
    # is skipped, not waited for, and only the rows returned are locked (the limit stops the
    # locking). With an event first, more candidates than the batch, for the same reasons.
    wanted = _due_condition(now)
    order: list = ["created_at", "id"]
    if event is not None:
        oldest = _due(now).order_by("created_at", "id").values("pk")[: size * 2]
        wanted = Q(pk=event.pk) | Q(pk__in=oldest)
        order.insert(0, Case(When(pk=event.pk, then=Value(0)), default=Value(1)))
    batch: list[TicketEvent] = []
    after: list[TicketEvent] = []
    full = False
    try:
        with transaction.atomic():
            locked = list(
                TicketEvent.objects.select_related("ticket")
                # NO KEY: a single dispatch of one of these events, claiming its routing run
                # meanwhile, takes a key-share lock on the event row (the run's foreign key):
                # it must wait on the run's unique index, not deadlock with this batch.
                .select_for_update(skip_locked=True, no_key=True, of=("self",))
                .filter(wanted, dispatched_at__isnull=True)
                .order_by(*order)[:size]
            )
            full = len(locked) == size
            tickets = set()
            for candidate in locked:
                if candidate.ticket_id in tickets:
                    after.append(candidate)
                else:
                    batch.append(candidate)
                    tickets.add(candidate.ticket_id)
            if not batch:
                return False, False
            for handler in _subscribers:
                many = _batch_handlers.get(handler)
                if many is not None:
                    many(batch)
                else:
                    for each in batch:
                        handler(each)
            TicketEvent.objects.filter(pk__in=[each.pk for each in batch]).update(
                dispatched_at=timezone.now(), next_dispatch_at=None
            )
    except SoftTimeLimitExceeded:
        raise  # the task's time is up: what it locked waits for the sweep
    except Exception:
        # One event's failure must not hold up the others: each is tried again alone, where
        # its failure is counted and backed off on its own.
        logger.warning("Dispatching %d events together failed", len(batch), exc_info=True)
        ours = bool(batch) and event is not None and batch[0].pk == event.pk
        _dispatch_each((batch[1:] if ours else batch) + after)
        return (None if ours or not batch else False), full
    _dispatch_each(after)
    return event is not None and batch[0].pk == event.pk, full


def _dispatch_each(events: list[TicketEvent]) -> None:
    for each in events:
        try:
            event_dispatch_one(event_id=each.pk)
        except SoftTimeLimitExceeded:
            # The task's time is up: the rest wait for the sweep, not for the hard limit.
            raise
        except Exception:
            logger.warning(
                "Dispatch of event %d failed", each.pk, exc_info=True, extra=log_extra(each)
            )


def event_dispatch_one(*, event_id: int) -> bool:
    """``event_dispatch`` of this event alone, whatever else is waiting."""
    found = _EVENT(event_id)
    event = found[0] if found else None
    if event is None or event.dispatched_at is not None:
        return False
    return _dispatch_one(event)


def _dispatch_one(event: TicketEvent) -> bool:
    try:
        for handler in _subscribers:
            handler(event)
    except Exception:
        failures = event.dispatch_failures + 1
        TicketEvent.objects.filter(pk=event.pk).update(
            dispatch_failures=F("dispatch_failures") + 1,
            next_dispatch_at=timezone.now() + _backoff(failures),
        )
        raise
    TicketEvent.objects.filter(pk=event.pk, dispatched_at__isnull=True).update(
        dispatched_at=timezone.now(), next_dispatch_at=None
    )
    return True


def _backoff(failures: int) -> timedelta:
    # 10 s, 20 s, 40 s ... at the default grace, capped at an hour.
    seconds = settings.OUTBOX_REDISPATCH_AFTER_SECONDS * 2 ** min(failures - 1, 12)
    return timedelta(seconds=min(seconds, 3600))


def events_sweep() -> int:
    """Enqueue again the events still undispatched after the grace period; returns how many.

    Each event enqueued is claimed until a time that grows with its age (at least the grace
    period, at most an hour): an event waiting behind a long queue is not enqueued again on
    every sweep, but one whose message was lost is not left waiting long either.
    """
    now = timezone.now()
    grace = timedelta(seconds=settings.OUTBOX_REDISPATCH_AFTER_SECONDS)
    pending = TicketEvent.objects.filter(dispatched_at__isnull=True, created_at__lte=now - grace)
    stuck = pending.filter(dispatch_failures__gte=MAX_DISPATCH_FAILURES).count()
    if stuck:
        logger.error(
            "%d ticket events failed %d dispatches; see docs/operations.md",
            stuck,
            MAX_DISPATCH_FAILURES,
        )
    due = (
        pending.filter(dispatch_failures__lt=MAX_DISPATCH_FAILURES)
        .filter(Q(next_dispatch_at__isnull=True) | Q(next_dispatch_at__lte=now))
        .order_by("created_at", "id")
    )
    from tickets.tasks import dispatch_event

    with transaction.atomic():
        # SKIP LOCKED: two beat schedulers running by mistake split the work instead of doubling it.
        events = list(
            due.select_for_update(skip_locked=True).only("id", "created_at")[
                : settings.OUTBOX_SWEEP_BATCH
            ]
        )
        for event in events:
            claim = max(grace, min(now - event.created_at, timedelta(hours=1)))
            TicketEvent.objects.filter(pk=event.pk).update(next_dispatch_at=now + claim)
            enqueue_on_commit(dispatch_event, event.pk)
    return len(events)
