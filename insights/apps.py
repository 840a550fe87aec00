from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """What the company learns from support: reports that only read what the other apps
    recorded. It depends on them all; nothing depends on it."""

    name = "insights"
    verbose_name = "Insights"
