from django.core.management.base import BaseCommand

from routing.starter_rules import starter_rules_install


class Command(BaseCommand):
    help = "Create the starter routing rules that are missing (existing rules are left as edited)."

    def handle(self, *args, **options) -> None:
        created = starter_rules_install()
        for rule in created:
            self.stdout.write(f"Created rule: {rule.name}")
        self.stdout.write(self.style.SUCCESS(f"{len(created)} starter rules created."))
