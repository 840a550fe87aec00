from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        # Routing listens to the ticket outbox; tickets never imports routing.
        from routing.models import FollowUpTask, Notification
        from routing.services import route_event
        from tickets import outbox
        from tickets.timeline_labels import timeline_keys_hide, timeline_labels_register

        outbox.subscribe(route_event)
        # What routing writes on tickets' timelines (routing/queues.py, followups.py), in words.
        timeline_labels_register(key="queue status", labels=dict(Notification.Status.choices))
        timeline_labels_register(key="outcome", labels=dict(FollowUpTask.Outcome.choices))
        timeline_keys_hide("queue item", "follow-up")
