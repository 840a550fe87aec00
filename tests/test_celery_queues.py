"""The Celery queues: every task has its queue by name, so routing never waits behind mail or
exports, and a worker given no queue list takes from all of them."""

from helpdesk.celery import app as celery_app
from helpdesk.celery_queues import QUEUES, ROUTES


def test_every_task_of_ours_is_routed_to_one_of_the_queues():
    celery_app.loader.import_default_modules()
    ours = {name for name in celery_app.tasks if not name.startswith(("celery.", "baseline."))}
    assert ours == set(ROUTES), "a task without a queue of its own, or a route to no task"
    for name, queue in ROUTES.items():
        assert queue in QUEUES
        assert celery_app.amqp.router.route({}, name)["queue"].name == queue


def test_routing_mail_and_reports_each_have_their_queue():
    route = {name: celery_app.amqp.router.route({}, name)["queue"].name for name in ROUTES}
    assert route["tickets.tasks.dispatch_event"] == "routing"
    assert route["routing.tasks.send_email_delivery"] == "deliveries"
    assert route["conversations.tasks.process_inbound"] == "inbound"
    assert route["insights.tasks.build_export"] == "reports"
    # A worker started without -Q consumes every queue (the tests' and a single-box setup's).
    assert sorted(celery_app.amqp.queues) == sorted(QUEUES)
