"""The baseline Celery app: one task that does nothing but note when its body ran.

Configured like Switchboard's (JSON, late acknowledgement, one message prefetched per process)
and on the same Redis, on a queue of its own. The note is one Redis command: ``RPUSH`` of the
time the body started, and of its delay since ``sent_at`` when the caller gave one.
"""

import os
import time

import redis
from celery import Celery

BROKER = os.environ.get("BASELINE_BROKER_URL", "redis://127.0.0.1:6379/14")
QUEUE = "bench-noop"
DONE_KEY = "bench:noop:done"
DELAY_KEY = "bench:noop:delay"

# Not the current app: the process that sends to it has Switchboard's app too.
app = Celery("baseline", broker=BROKER, set_as_current=False)
app.conf.update(
    task_default_queue=QUEUE,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
)
_redis = None


@app.task(name="baseline.noop")
def noop(sent_at: float | None = None) -> None:
    started = time.time()
    global _redis  # noqa: PLW0603 - one client per worker process
    if _redis is None:
        _redis = redis.Redis.from_url(BROKER)
    if sent_at is None:
        _redis.rpush(DONE_KEY, started)
    else:
        _redis.rpush(DELAY_KEY, started - sent_at)
