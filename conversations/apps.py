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

        from conversations import timeline, webhooks

        timeline.register()
        inbound.connect(webhooks.on_inbound, dispatch_uid="conversations.webhooks.on_inbound")
