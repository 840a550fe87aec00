"""What /metrics tells Prometheus. Two kinds of figures:

- counted in the web processes as requests are answered: their latency by view and status
  class (``REQUEST_SECONDS``). Under gunicorn each process counts its own; with
  PROMETHEUS_MULTIPROC_DIR set they write to files there, and the scrape adds them up
  (prometheus-client's multiprocess mode, docs/operations.md);
- read at each scrape from where the state lives, so any process answers for all: the
  outbox, routing's last minutes, deliveries, mail in, the mailboxes' polls and the Celery
  queues' depths (``StateCollector``). Each is one cheap query or broker call; a part that
  fails is left out of that scrape and logged, the rest still answer.
"""

import logging
import os
from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone
from kombu.exceptions import ChannelError
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from conversations.models import InboundMessage, Mailbox
from deliveries.models import DeliveryStatus, EmailDelivery, WebhookDelivery
from helpdesk.celery import app as celery_app
from helpdesk.celery_queues import QUEUES
from routing.selectors import routing_runs_recent
from tickets.selectors import events_outbox_state

logger = logging.getLogger(__name__)

ROUTING_WINDOW = timedelta(minutes=5)
PENDING = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING, DeliveryStatus.SENDING)

REQUEST_SECONDS = Histogram(
    "switchboard_http_request_duration_seconds",
    "Time to answer a request, by view and status class.",
    ["method", "view", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=None,  # exposed by metrics_registry(), per process or across them
)


def metrics_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_SECONDS)
    registry.register(StateCollector())
    return registry


def metrics_text() -> bytes:
    return generate_latest(metrics_registry())


class StateCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        for part in (_outbox, _routing, _deliveries, _inbound, _mailboxes, _celery_queues):
            try:
                yield from part()
            except Exception as exc:  # noqa: BLE001 - one unreadable part must not blank the rest
                logger.warning("metrics: %s left out: %s", part.__name__, exc)


def _gauge(name: str, documentation: str, value: float, labels=None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value, labels=labels)


def _outbox() -> Iterator[Metric]:
    state = events_outbox_state()
    yield _gauge("switchboard_outbox_backlog", "Ticket events not yet routed.", state["backlog"])
    yield _gauge(
        "switchboard_outbox_given_up",
        "Ticket events the sweep no longer retries after repeated failures.",
        state["given_up"],
    )
    yield _gauge(
        "switchboard_outbox_lag_seconds",
        "Age of the oldest ticket event not yet routed (0 when none waits).",
        state["lag_seconds"],
    )


def _routing() -> Iterator[Metric]:
    recent = routing_runs_recent(window=ROUTING_WINDOW)
    yield _gauge(
        "switchboard_routing_runs_5m", "Events routed in the last five minutes.", recent["runs"]
    )
    delay = GaugeMetricFamily(
        "switchboard_routing_delay_seconds_5m",
        "From an event being written to its routing, over the last five minutes.",
        labels=["stat"],
    )
    for stat in ("avg", "max"):
        value = recent[f"delay_{stat}_seconds"]
        if value is not None:
            delay.add_metric([stat], value)
    yield delay


def _deliveries() -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "switchboard_deliveries",
        "Emails and webhook calls waiting to go (pending) or given up (failed).",
        labels=["kind", "state"],
    )
    for kind, model in (("email", EmailDelivery), ("webhook", WebhookDelivery)):
        # On the status indexes: the rows sent long ago are never read.
        counts = model.objects.filter(status__in=(*PENDING, DeliveryStatus.FAILED)).aggregate(
            pending=Count("id", filter=_status_in(PENDING)),
            failed=Count("id", filter=_status_in((DeliveryStatus.FAILED,))),
        )
        for state in ("pending", "failed"):
            family.add_metric([kind, state], counts[state])
    yield family


def _status_in(statuses) -> Q:
    return Q(status__in=statuses)


def _inbound() -> Iterator[Metric]:
    states = (
        InboundMessage.Status.PENDING,
        InboundMessage.Status.TRIAGE,
        InboundMessage.Status.QUARANTINED,
    )
    # On the waiting mail's partial index: the processed mail is never read.
    waiting = InboundMessage.objects.filter(status__in=states).aggregate(
        quarantined=Count("id", filter=_status_in((InboundMessage.Status.QUARANTINED,))),
        triage=Count("id", filter=_status_in((InboundMessage.Status.TRIAGE,))),
        pending=Count("id", filter=_status_in((InboundMessage.Status.PENDING,))),
    )
    family = GaugeMetricFamily(
        "switchboard_inbound_mail",
        "Mail received and waiting: to be processed, for a rep (triage), or quarantined.",
        labels=["state"],
    )
    for state in ("pending", "triage", "quarantined"):
        family.add_metric([state], waiting[state])
    yield family


def _mailboxes() -> Iterator[Metric]:
    now = timezone.now()
    family = GaugeMetricFamily(
        "switchboard_imap_poll_age_seconds",
        "Time since each IMAP mailbox was last fetched successfully.",
        labels=["mailbox"],
    )
    polled = (
        Mailbox.objects.filter(is_active=True)
        .exclude(imap_host="")
        .values_list("name", "last_success_at", "created_at")
    )
    for name, success, created in polled:
        family.add_metric([name], (now - (success or created)).total_seconds())
    yield family


def _celery_queues() -> Iterator[Metric]:
    if celery_app.conf.task_always_eager:
        return  # the embedded default: tasks run in the process, nothing queues
    family = GaugeMetricFamily(
        "switchboard_celery_queue_depth",
        "Tasks waiting in each Celery queue.",
        labels=["queue"],
    )
    with celery_app.connection_for_read() as broker:
        for name in QUEUES:
            # A channel per queue: RabbitMQ closes the channel a passive declaration fails on.
            try:
                with broker.channel() as channel:
                    depth = channel.queue_declare(queue=name, passive=True).message_count
            except ChannelError:
                depth = 0  # never declared: no worker has run yet, and nothing was sent to it
            family.add_metric([name], depth)
    yield family
