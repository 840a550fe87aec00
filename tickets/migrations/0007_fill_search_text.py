from django.db import migrations


def fill(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    TimelineEntry = apps.get_model("tickets", "TimelineEntry")
    for ticket in Ticket.objects.iterator(chunk_size=500):
        notes = TimelineEntry.objects.filter(
            ticket_id=ticket.pk, kind__in=["note", "call"]
        ).values_list("body", flat=True)
        ticket.search_text = "\n".join(
            part for part in [ticket.subject, ticket.description, *notes] if part
        )
        ticket.save(update_fields=["search_text"])


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_ticket_search_index")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
