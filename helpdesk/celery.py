"""The Celery application; configuration comes from Django settings (``CELERY_*``)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(task=None, **kwargs) -> None:
    """Around each task what Django does around each request: drop the database connections
    past CONN_MAX_AGE, or broken, and keep the others (settings.CELERY_DB_REUSE_MAX says why).
    Not for a task run eagerly: that runs in its caller's connection, perhaps in a transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
