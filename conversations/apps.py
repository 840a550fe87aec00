from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    """The conversation with the customer: messages in and out, whatever the channel; email is
    its first transport (intake by pipe, IMAP and provider webhooks; replies as deliveries).

    Conversations sit on tickets and deliveries: a message lands on a ticket through the tickets'
    services, and routing hears of it as a ticket event, never by importing this app.
    """

    name = "conversations"
    verbose_name = "Conversations"

    def ready(self) -> None:
        from anymail.signals import inbound
        from django.db.models.signals import post_delete, post_save

        from conversations import timeline, webhooks
        from conversations.models import Mailbox
        from conversations.processing import our_addresses_forget

        timeline.register()
        for signal in (post_save, post_delete):
            signal.connect(
                our_addresses_forget, sender=Mailbox, dispatch_uid=f"addresses-{id(signal)}"
            )
        inbound.connect(webhooks.on_inbound, dispatch_uid="conversations.webhooks.on_inbound")
