"""``manage.py readyz``: the readiness checks of /readyz from a shell, for health checks of
processes that serve no HTTP (beat); exits 1 when one fails."""

from django.core.management.base import BaseCommand, CommandError

from monitoring.health import CHECKS, check_names, readiness


class Command(BaseCommand):
    help = "Check the database, migrations, broker and outbox lag; exit 1 if one fails."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only",
            help=f"Comma-separated checks to run, of {', '.join(CHECKS)} (default: all).",
        )

    def handle(self, *args, **options):
        try:
            verdicts = readiness(check_names([options["only"] or ""]))
        except ValueError as error:
            raise CommandError(str(error)) from error
        for name, ok in verdicts.items():
            self.stdout.write(f"{name}: {'ok' if ok else 'failing'}")
        if not all(verdicts.values()):
            raise CommandError("not ready")
