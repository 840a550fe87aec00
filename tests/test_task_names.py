"""Celery task names are part of the wire format: a message already queued names its task, and a
worker that no longer knows that name drops it. Moving a task's code to another module must not
change its name, so every name is pinned and checked here."""

from helpdesk.celery import app

PINNED_TASK_NAMES = {
    "tickets.tasks.dispatch_event",
    "tickets.tasks.sweep_undispatched_events",
    "routing.tasks.send_email_delivery",
    "deliveries.tasks.send_email_deliveries",
    "routing.tasks.call_webhook_delivery",
    "routing.tasks.sweep_deliveries",
    "routing.tasks.sweep_timers",
    "routing.tasks.sweep_queues",
    "conversations.tasks.process_inbound",
    "conversations.tasks.process_inbound_in_order",
    "conversations.tasks.sweep_inbound",
    "conversations.tasks.poll_mailboxes",
    "conversations.tasks.poll_mailbox",
    "surveys.tasks.send_due_surveys",
    "insights.tasks.send_root_cause_digests",
    "insights.tasks.build_export",
    "insights.tasks.delete_old_exports",
    "insights.tasks.refresh_rollups",
}


def test_every_project_task_keeps_its_pinned_name():
    app.loader.import_default_modules()
    project_tasks = {name for name in app.tasks if not name.startswith("celery.")}
    assert project_tasks == PINNED_TASK_NAMES


def test_the_beat_schedule_names_only_known_tasks():
    from django.conf import settings

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= PINNED_TASK_NAMES
