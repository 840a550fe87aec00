"""gunicorn's settings for the web tier (``gunicorn -c python:helpdesk.gunicorn_conf``).

With PROMETHEUS_MULTIPROC_DIR set, each worker process counts its requests into files there
and /metrics adds them up; the directory is emptied when the server starts (stale files of a
previous run would be added too), and a worker's gauges are dropped when it exits.

With LOG_FORMAT=json (the default unless DJANGO_DEBUG) gunicorn's own lines are JSON too, an
access line with its method, path, status, duration and the request's id as fields.
"""

import logging
import os
import shutil

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
accesslog = "-"
# The combined log format, and the request's id (helpdesk.log_context) at the end.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'
)


class AccessFields(logging.Filter):
    """An access line's parts as fields of its JSON line: gunicorn logs it with the request's
    atoms as the record's arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args
        if hasattr(atoms, "get"):  # gunicorn's atoms: a dict
            record.request_id = atoms.get("{x-request-id}o") or ""
            record.method = atoms.get("m")
            record.path = atoms.get("U")
            record.status = int(atoms.get("s") or 0)
            record.bytes = atoms.get("B")
            record.duration_ms = atoms.get("M")
            record.remote_addr = atoms.get("h")
        return True


# Django's settings are not loaded in gunicorn's own process; LOG_FORMAT defaults as there.
_debug = os.environ.get("DJANGO_DEBUG", "").lower() in ("1", "true", "yes", "on")
if os.environ.get("LOG_FORMAT", "text" if _debug else "json") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "access": {"()": AccessFields},
            "context": {"()": "helpdesk.log_context.ContextFilter"},
        },
        "formatters": {"json": {"()": "helpdesk.log_context.JsonFormatter"}},
        "handlers": {
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["access", "context"],
                "stream": "ext://sys.stdout",
            },
            "error": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["context"],
                "stream": "ext://sys.stderr",
            },
        },
        "root": {"handlers": ["error"], "level": "INFO"},
        "loggers": {
            "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "gunicorn.error": {"handlers": ["error"], "level": "INFO", "propagate": False},
        },
    }


def on_starting(server) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
