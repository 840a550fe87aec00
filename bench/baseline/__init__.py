"""A bare Django + DRF project, the baseline of ``bench/pipeline.py``: one model of 11 fields,
a ``ModelViewSet`` that creates it behind token authentication, and a Celery app with one no-op
task. Run with ``bench/`` on ``sys.path`` and ``DJANGO_SETTINGS_MODULE=baseline.settings``."""
