"""gunicorn's settings for the web tier (``gunicorn -c python:helpdesk.gunicorn_conf``).

With PROMETHEUS_MULTIPROC_DIR set, each worker process counts its requests into files there
and /metrics adds them up; the directory is emptied when the server starts (stale files of a
previous run would be added too), and a worker's gauges are dropped when it exits.
"""

import os
import shutil

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
accesslog = "-"


def on_starting(server) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
