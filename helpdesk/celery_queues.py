"""The Celery queues, one per kind of work, and which task goes to which, so that a slow mail
server or a big export never delays routing. Each queue can have workers of its own
(docker-compose runs one per queue; docs/operations.md says how to scale each); a worker given
no queues (-Q) takes from all of them, as the test suite's and the embedded default's do."""

from kombu import Exchange, Queue

ROUTING = "routing"  # the outbox's events, rules, timers, escalations: what must never wait
DELIVERIES = "deliveries"  # emails and webhooks out, and the surveys that write them
INBOUND = "inbound"  # mail in: IMAP polls and the processing of each message
REPORTS = "reports"  # exports, rollups and digests: long, and nobody waits on them per second

QUEUES = (ROUTING, DELIVERIES, INBOUND, REPORTS)

# By pinned task name (the names are stable: messages in flight and beat's schedule use them).
ROUTES = {
    "tickets.tasks.dispatch_event": ROUTING,
    "tickets.tasks.sweep_undispatched_events": ROUTING,
    "routing.tasks.sweep_timers": ROUTING,
    "routing.tasks.sweep_queues": ROUTING,
    "routing.tasks.send_email_delivery": DELIVERIES,
    "routing.tasks.call_webhook_delivery": DELIVERIES,
    "routing.tasks.sweep_deliveries": DELIVERIES,
    "deliveries.tasks.send_email_deliveries": DELIVERIES,
    "surveys.tasks.send_due_surveys": DELIVERIES,
    "conversations.tasks.process_inbound": INBOUND,
    "conversations.tasks.process_inbound_in_order": INBOUND,
    "conversations.tasks.sweep_inbound": INBOUND,
    "conversations.tasks.poll_mailboxes": INBOUND,
    "conversations.tasks.poll_mailbox": INBOUND,
    "insights.tasks.build_export": REPORTS,
    "insights.tasks.delete_old_exports": REPORTS,
    "insights.tasks.refresh_rollups": REPORTS,
    "insights.tasks.send_root_cause_digests": REPORTS,
}


def task_queues() -> list[Queue]:
    return [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES]


def task_routes() -> dict[str, dict[str, str]]:
    return {task: {"queue": queue, "routing_key": queue} for task, queue in ROUTES.items()}
