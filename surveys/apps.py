from django.apps import AppConfig


class SurveysConfig(AppConfig):
    """Satisfaction surveys after resolution, and the closed loop: an answer is a ticket event
    (``survey.answered``) that rules turn into the salesperson's follow-up.

    Surveys hear of resolutions and reopenings from the ticket outbox; routing and the queues
    never import this app.
    """

    name = "surveys"
    verbose_name = "Satisfaction surveys"

    def ready(self) -> None:
        from surveys import services
        from surveys.page_section import survey_section
        from tickets.outbox import subscribe
        from tickets.page_sections import ticket_page_section_register
        from tickets.timeline_labels import timeline_keys_hide

        subscribe(services.surveys_on_event)
        timeline_keys_hide("survey")
        ticket_page_section_register(
            name="satisfaction", template="surveys/ticket_section.html", context=survey_section
        )
