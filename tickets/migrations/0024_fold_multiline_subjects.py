"""Subjects written on several lines before they had to be one (0023): folded onto one, as the
email subjects made from them always were, so that editing such a ticket is not refused on a
field nobody touched."""

from django.db import migrations
from django.db.models import Q


def fold(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    broken = Ticket.objects.filter(Q(subject__contains="\n") | Q(subject__contains="\r"))
    for ticket in broken.only("pk", "subject").iterator():
        ticket.subject = " ".join(ticket.subject.split())[:200]
        ticket.save(update_fields=["subject"])


class Migration(migrations.Migration):
    dependencies = [("tickets", "0023_ticket_subject_one_line")]

    operations = [migrations.RunPython(fold, migrations.RunPython.noop)]
