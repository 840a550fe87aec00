from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Whether the service is alive and ready, and what Prometheus scrapes: it reads every
    app's state (the outbox, routing, deliveries, mail in, the Celery queues) and nothing
    depends on it."""

    name = "monitoring"
    verbose_name = "Monitoring"
