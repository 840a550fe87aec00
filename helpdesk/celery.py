"""The Celery application; configuration comes from Django settings (``CELERY_*``)."""

import os

from celery import Celery, signals

from helpdesk import log_context

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


@signals.after_setup_task_logger.connect
def _task_logger_like_the_rest(logger=None, **kwargs) -> None:
    """Celery gives the ``celery.task`` logger (get_task_logger's parent) a plain-text handler
    of its own and stops it propagating; its lines go through LOGGING like every other."""
    if logger is not None:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True


@signals.before_task_publish.connect
def _carry_log_context(headers=None, **kwargs) -> None:
    """A task published while handling a request or another task carries their ids."""
    if headers is not None:
        for name, value in log_context.current().items():
            if name != "task_id":
                headers.setdefault(name, value)


@signals.task_prerun.connect
def _adopt_log_context(task_id=None, task=None, **kwargs) -> None:
    """A task's log lines name the request (and event) it came from, and the task itself."""
    request = getattr(task, "request", None)
    if request is None:
        return
    values = {"task_id": task_id or ""}
    for name in ("request_id", "event_id"):
        value = getattr(request, name, None)
        if isinstance(value, str) and value:
            values[name] = value
    context = log_context.bound(**values)
    context.__enter__()
    # Kept on the task's own request, which lives exactly as long as this run of it.
    request.log_context = context


@signals.task_postrun.connect
def _drop_log_context(task=None, **kwargs) -> None:
    context = getattr(getattr(task, "request", None), "log_context", None)
    if context is not None:
        task.request.log_context = None
        context.__exit__(None, None, None)
