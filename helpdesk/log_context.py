"""Which request, task and ticket event a log line belongs to, so one ticket's path can be
followed across processes: the web request that wrote an event, the routing task that routed
it, the deliveries routing enqueued.

- A request takes the caller's ``X-Request-ID`` (a load balancer's) when it is a plain token,
  else a new one, and answers with it (``RequestIdMiddleware``).
- Tasks published while handling it carry it, and the event id, in their message headers;
  the worker adopts them for the task's run (helpdesk.celery's signal handlers).
- The routing task names its event (``bound(event_id=...)``).
- Every log record gets ``request_id``, ``event_id`` and ``task_id`` (``ContextFilter``), and
  LOG_FORMAT=json writes one JSON object per line with them (``JsonFormatter``).
"""

import json
import logging
import logging.config
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str] = ContextVar("request_id", default="")
event_id: ContextVar[str] = ContextVar("event_id", default="")
task_id: ContextVar[str] = ContextVar("task_id", default="")

_VARIABLES = {"request_id": request_id, "event_id": event_id, "task_id": task_id}
# A caller's id is taken only if it is a short plain token: it ends up in every log line.
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@contextmanager
def bound(**values: str) -> Iterator[None]:
    """Set context values (``request_id``, ``event_id``, ``task_id``) for a block."""
    tokens = [
        (_VARIABLES[name], _VARIABLES[name].set(str(value))) for name, value in values.items()
    ]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


def current() -> dict[str, str]:
    """The context's values that are set, for a task's message headers."""
    return {name: variable.get() for name, variable in _VARIABLES.items() if variable.get()}


def configure(logging_settings: dict) -> None:
    """Django's LOGGING_CONFIG: LOGGING, and Python's warnings sent through it (as log records
    of the ``py.warnings`` logger) instead of printed as loose lines among the JSON ones."""
    logging.config.dictConfig(logging_settings)
    logging.captureWarnings(True)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        rid = given if _ACCEPTED.match(given) else uuid.uuid4().hex
        request.request_id = rid
        with bound(request_id=rid):
            response = self.get_response(request)
        response["X-Request-ID"] = rid
        return response


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, variable in _VARIABLES.items():
            if not hasattr(record, name):
                setattr(record, name, variable.get())
        return True


# The attributes every record has (and the ones formatting adds), so that the rest are known
# to be a caller's extras.
_RECORD_ATTRIBUTES = frozenset(
    set(vars(logging.LogRecord("", 0, "", 0, "", (), None)))
    | {"message", "asctime"}
    | set(_VARIABLES)
)


# Celery's own extra on its task lines: the task's arguments and, on failure, a second copy of
# the traceback; the message already names the task.
_DROPPED = frozenset({"data"})
_ALWAYS = frozenset({"time", "level", "logger", "message", "exception", "stack", *_VARIABLES})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the context's
    ids when set, a call's extra fields, and the traceback (or stack) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _VARIABLES:
            value = getattr(record, name, "")
            if value:
                line[name] = value
        # What a call passed as ``extra={...}`` (a ticket number, a mailbox), as fields; a
        # request (Django's django.request lines) as its method and path only.
        for name, value in record.__dict__.items():
            if name in _RECORD_ATTRIBUTES or name in _DROPPED or name in line:
                continue
            if name == "request" and hasattr(value, "method"):
                value = f"{value.method} {getattr(value, 'path', '')}"
            line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # default=str: an extra value no JSON type fits (a date, a model) is written as its
        # text. Should even that fail (a __str__ that raises, keys JSON cannot have), the
        # extras give way rather than the line.
        try:
            return json.dumps(line, ensure_ascii=False, default=str)
        except Exception as exc:  # noqa: BLE001 - whatever an extra's __str__ raises
            kept = {key: value for key, value in line.items() if key in _ALWAYS}
            kept["extras_dropped"] = f"{type(exc).__name__}: {exc}"[:200]
            return json.dumps(kept, ensure_ascii=False, default=repr)
