"""Reads about what was sent out: how deliveries stand."""

from deliveries.models import DeliveryStatus, EmailDelivery, WebhookDelivery


def deliveries_failed_counts() -> dict[str, int]:
    """How many emails and webhook calls failed for good (``failed``: a permanent refusal, or
    every attempt used up), in two queries. Nothing sends them again: they are counted until
    their rows are deleted."""
    return {
        "emails": EmailDelivery.objects.filter(status=DeliveryStatus.FAILED).count(),
        "webhooks": WebhookDelivery.objects.filter(status=DeliveryStatus.FAILED).count(),
    }
