from django.apps import AppConfig


class DeliveriesConfig(AppConfig):
    """Outgoing deliveries: emails (rules' and staff's) and webhook calls, each a row sent by its
    own task after commit, with its attempts.

    Deliveries react to routing: they register the actions rules take to email and call out, and
    routing imports nothing from here.
    """

    name = "deliveries"
    verbose_name = "Deliveries"

    def ready(self) -> None:
        from deliveries import actions

        actions.register()
