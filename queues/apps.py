from django.apps import AppConfig


class QueuesConfig(AppConfig):
    """Department queues (notifications, responses, escalation) and salespeople's follow-ups.

    Queues react to routing: they register the actions rules take on them and the facts rules
    may test about them, and routing imports nothing from here.
    """

    name = "queues"
    verbose_name = "Queues and follow-ups"

    def ready(self) -> None:
        from queues import actions, facts
        from queues.followups import followups_on_event
        from queues.models import FollowUpTask, Notification
        from queues.ticket_facts import response_targets
        from tickets.outbox import subscribe
        from tickets.page_sections import ticket_page_facts_register
        from tickets.timeline_labels import timeline_keys_hide, timeline_labels_register

        actions.register()
        facts.register()
        # A ticket reopened cancels the follow-ups that were to confirm its resolution.
        subscribe(followups_on_event)
        # What queues write on tickets' timelines (services.py, followups.py), in words.
        timeline_labels_register(key="queue status", labels=dict(Notification.Status.choices))
        timeline_labels_register(key="outcome", labels=dict(FollowUpTask.Outcome.choices))
        timeline_labels_register(key="follow-up status", labels=dict(FollowUpTask.Status.choices))
        timeline_keys_hide("queue item", "follow-up")
        ticket_page_facts_register(
            name="response targets",
            template="queues/_ticket_facts.html",
            context=response_targets,
        )
