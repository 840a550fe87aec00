"""Log lines name the request, task and ticket event they belong to, so one ticket's path is
followed from the web process through the worker that routed it; JSON or text."""

import io
import json
import logging
from contextlib import contextmanager
from datetime import date

import pytest
from rest_framework.test import APIClient

from helpdesk.log_context import ContextFilter, JsonFormatter, bound
from tests.conftest import purge_tasks, wait_for, worker_process
from tickets.models import TicketEvent


class Captured(logging.Handler):
    """Records as the console handler sees them: through the context filter."""

    def __init__(self):
        super().__init__()
        self.addFilter(ContextFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@contextmanager
def captured_at_info():
    """The root logger's records at INFO and above while the block runs, as the console
    handler sees them."""
    captured = Captured()
    root = logging.getLogger()
    root.addHandler(captured)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        yield captured
    finally:
        root.removeHandler(captured)
        root.setLevel(previous)


def _bug_reported(rep, customer, *, request_id: str) -> TicketEvent:
    """A bug reported through the API under ``request_id``: the event it wrote."""
    api = APIClient()
    api.force_authenticate(rep)
    response = api.post(
        "/api/v1/tickets/",
        {"kind": "bug", "channel": "web", "customer": customer.pk, "subject": "Crash"},
        HTTP_X_REQUEST_ID=request_id,
    )
    assert response.status_code == 201, response.content
    return TicketEvent.objects.get(ticket_id=response.json()["id"])


@pytest.mark.django_db
def test_a_request_is_given_an_id_or_keeps_a_plain_one(client):
    answered = client.get("/healthz")
    assert len(answered["X-Request-ID"]) == 32
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.42")
    assert kept["X-Request-ID"] == "lb-7f3a.42"
    # Not a plain short token (it would go into every log line): replaced.
    refused = client.get("/healthz", HTTP_X_REQUEST_ID="x" * 65)
    assert refused["X-Request-ID"] != "x" * 65
    assert client.get("/healthz", HTTP_X_REQUEST_ID="a b\n")["X-Request-ID"] != "a b\n"


def test_json_lines_carry_the_context_and_the_traceback():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.log_context")
    logger.addHandler(handler)
    try:
        with bound(request_id="req-1", event_id="42"):
            logger.warning("Routed %s", "T-1")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
        logger.warning("Polled", extra={"mailbox": 3, "since": date(2026, 1, 2)}, stack_info=True)
    finally:
        logger.removeHandler(handler)
    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "Routed T-1"
    assert first["request_id"] == "req-1"
    assert first["event_id"] == "42"
    assert first["level"] == "WARNING"
    assert first["time"].endswith("+00:00")
    assert "request_id" not in second  # outside the block
    assert "ValueError: boom" in second["exception"]
    # A call's extras are fields; one JSON has no type for is written as text.
    assert (third["mailbox"], third["since"]) == (3, "2026-01-02")
    assert third["stack"].startswith("Stack (most recent call last)")
    assert "lineno" not in third  # the record's own attributes are not repeated


def test_a_request_extra_is_its_method_and_path_and_a_bad_extra_loses_only_itself(rf):
    class Unprintable:
        def __str__(self):
            raise RuntimeError("no")

    formatter = JsonFormatter()
    request = rf.get("/tickets/7/?secret=1")
    record = logging.LogRecord("django.request", logging.WARNING, "", 0, "Not Found", (), None)
    record.request, record.status_code, record.data = request, 404, {"args": "[1]"}
    line = json.loads(formatter.format(record))
    assert line["request"] == "GET /tickets/7/"
    assert line["status_code"] == 404
    assert "data" not in line  # Celery's copy of a task's arguments
    record.odd = Unprintable()
    line = json.loads(formatter.format(record))
    assert line["message"] == "Not Found"
    assert "odd" not in line
    assert "RuntimeError" in line["extras_dropped"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_routes_an_event_under_the_request_id_that_wrote_it(
    rep, customer, starter_rules, live_worker
):
    with captured_at_info() as captured:
        event = _bug_reported(rep, customer, request_id="req-trace-1")

        def routed():
            return [r for r in captured.records if r.getMessage().startswith("Routed ")]

        (line,) = wait_for(routed)
    assert line.request_id == "req-trace-1"
    assert line.event_id == str(event.pk)
    assert line.task_id  # the routing task's own id


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_writes_json_lines_naming_the_request(
    rep, customer, starter_rules, tmp_path
):
    """A real ``celery worker`` keeps the project's logging: Celery would otherwise replace the
    root logger's handlers with its own plain lines."""

    purge_tasks()
    log = tmp_path / "worker.log"
    with log.open("wb") as stderr:
        worker = worker_process(stderr=stderr, loglevel="INFO", LOG_FORMAT="json")
        try:
            event = _bug_reported(rep, customer, request_id="req-trace-2")
            wait_for(lambda: "Routed " in log.read_text(), timeout=30)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    (routed,) = [line for line in lines if line["message"].startswith("Routed ")]
    assert routed["request_id"] == "req-trace-2"
    assert routed["event_id"] == str(event.pk)
    assert routed["task_id"]
    assert routed["logger"] == "routing.services"
    # Celery's own lines about the task are JSON with the same ids.
    (succeeded,) = [
        line
        for line in lines
        if line["message"].startswith("Task tickets.tasks.dispatch_event")
        and "succeeded" in line["message"]
    ]
    assert succeeded["task_id"] == routed["task_id"]
    assert succeeded["request_id"] == "req-trace-2"


def test_the_task_logger_goes_through_the_projects_handlers():
    from helpdesk.celery import app as celery_app

    task_logger = logging.getLogger("celery.task")
    celery_app.log.setup_task_loggers()  # as a worker does at start-up
    assert task_logger.propagate is True
    assert task_logger.handlers == []


@pytest.mark.django_db(transaction=True)
def test_events_routed_together_each_name_the_request_that_wrote_them(
    rep, customer, starter_rules, settings
):
    """One dispatch task routes a batch of events written by several requests: each event's
    line names its own request, not the one that sent the task."""
    from django.utils import timezone

    from tickets import outbox

    settings.OUTBOX_DISPATCH_BATCH = 10
    first = _bug_reported(rep, customer, request_id="req-batch-1")
    second = _bug_reported(rep, customer, request_id="req-batch-2")
    assert (first.request_id, second.request_id) == ("req-batch-1", "req-batch-2")
    with captured_at_info() as captured, bound(request_id="req-of-the-task"):
        outbox._dispatch_batch(None, timezone.now())
    routed = {
        r.event_id: r.request_id for r in captured.records if r.getMessage().startswith("Routed ")
    }
    assert routed == {str(first.pk): "req-batch-1", str(second.pk): "req-batch-2"}


@pytest.mark.django_db(transaction=True)
def test_a_change_routing_made_belongs_to_the_request_that_wrote_its_cause(rep, customer):
    """Routing an event can write another (a rule raised the priority): that one's lines name
    the request of the event it came from, not the task's."""
    from routing.services import rule_create
    from tickets import outbox

    rule_create(
        name="Bugs are urgent",
        order=1,
        trigger="ticket.created",
        conditions={"all": [{"field": "kind", "operator": "is", "value": "bug"}]},
        actions=[{"type": "set_priority", "priority": "urgent"}],
    )
    cause = _bug_reported(rep, customer, request_id="req-cause")
    with bound(request_id="req-of-the-task"):
        outbox.event_dispatch_one(event_id=cause.pk)
    consequence = TicketEvent.objects.get(caused_by=cause)
    assert consequence.request_id == "req-cause"
