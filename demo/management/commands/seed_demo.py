from django.conf import settings
from django.core.management.base import BaseCommand

from demo.data import DEMO_PASSWORD, demo_seed, demo_surveys_send


class Command(BaseCommand):
    help = "Load demo staff, customers, starter rules and tickets (skips what already exists)."

    def handle(self, *args, **options) -> None:
        result = demo_seed()
        result.portal = demo_surveys_send()
        self.stdout.write(
            f"Demo data ready: {result.customers} customers, {result.rules} new rules, "
            f"{result.tickets} new tickets."
        )
        self.stdout.write(f"\nLogins (password for all: {DEMO_PASSWORD}):")
        for username, role, token in result.users:
            self.stdout.write(f"  {username:<8} {role:<18} API token {token}")
        # The address comes from the settings, as the links in emails do, so both follow BIND.
        self.stdout.write(
            f"\nSwitchboard: {settings.SITE_URL}/  (API docs: /api/docs/, admin: /admin/)"
        )
        self.stdout.write("\nThe customer's side (no login):")
        for what, address in result.portal:
            self.stdout.write(f"  {what}: {address}")
