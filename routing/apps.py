from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        # Routing listens to the ticket outbox; tickets never imports routing.
        from routing.services import route_event, route_events
        from tickets import outbox

        outbox.subscribe(route_event, many=route_events)
