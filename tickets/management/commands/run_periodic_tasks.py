"""Run the beat schedule in this process: the embedded default's stand-in for Celery beat.

With no broker, tasks execute in-process, so nothing would run the periodic sweeps (the outbox,
retried deliveries, time-based rules). ``scripts/run`` starts this beside the web server. With a
broker, run ``celery beat`` instead; this command refuses to run there, so the schedule cannot be
doubled by mistake.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from helpdesk.celery import app


class Command(BaseCommand):
    help = "Run the periodic tasks of CELERY_BEAT_SCHEDULE in-process (embedded mode only)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every task once and exit.")

    def handle(self, *args, once: bool, **options):
        if not app.conf.task_always_eager:
            raise CommandError("A broker is configured: run `celery -A helpdesk beat` instead.")
        app.loader.import_default_modules()  # every app's tasks module, as a worker would
        schedule = settings.CELERY_BEAT_SCHEDULE
        next_run = dict.fromkeys(schedule, 0.0)
        while True:
            now = time.monotonic()
            for name, entry in schedule.items():
                if next_run[name] <= now:
                    result = app.tasks[entry["task"]].apply()
                    if result.failed():
                        self.stderr.write(f"{name}: {result.result!r}")
                    next_run[name] = now + float(entry["schedule"])
            if once:
                return
            time.sleep(max(0.5, min(next_run.values()) - time.monotonic()))
