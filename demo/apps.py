from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for a first look: ``manage.py seed_demo``. Nothing depends on it."""

    name = "demo"
    verbose_name = "Demo data"
