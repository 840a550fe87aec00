"""Search text gains what else a person reads on a ticket: its product, RMA, serial and order
numbers and return reason, and the answers of departments, follow-up notes and shipping's
notes and tracking numbers (tickets.services.search_text_for). On PostgreSQL the trigger of
0009 refreshes search_vector from it."""

from django.db import migrations

FIELDS = (
    "subject",
    "description",
    "product",
    "rma_number",
    "rma_serial_number",
    "rma_order_number",
    "rma_reason",
    "resolution",
)
ENTRY_KINDS = ("note", "call", "response", "followup", "rma")
# What 0007 and the services wrote before: subject, description, resolution, notes and calls.
OLD_FIELDS = ("subject", "description", "resolution")
OLD_ENTRY_KINDS = ("note", "call")


def _refill(fields, kinds):
    def refill(apps, schema_editor):
        Ticket = apps.get_model("tickets", "Ticket")
        TimelineEntry = apps.get_model("tickets", "TimelineEntry")
        for ticket in Ticket.objects.iterator(chunk_size=500):
            parts = [getattr(ticket, name) or "" for name in fields]
            entries = TimelineEntry.objects.filter(ticket_id=ticket.pk, kind__in=kinds)
            for kind, body, changes in entries.order_by("created_at", "id").values_list(
                "kind", "body", "changes"
            ):
                parts.append(body)
                tracking = (changes or {}).get("tracking number") if kind == "rma" else None
                if tracking:
                    parts.append(str(tracking[-1] or ""))
            text = "\n".join(part for part in parts if part)
            if text != ticket.search_text:
                Ticket.objects.filter(pk=ticket.pk).update(search_text=text)

    return refill


class Migration(migrations.Migration):
    dependencies = [("tickets", "0010_ticket_rma_status_timeline_kinds")]

    operations = [
        migrations.RunPython(
            _refill(FIELDS, ENTRY_KINDS), _refill(OLD_FIELDS, OLD_ENTRY_KINDS), elidable=True
        )
    ]
