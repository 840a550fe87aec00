from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

# The same expression tickets.selectors searches with, so PostgreSQL can use the index. SQLite
# (the embedded default) has no full-text index; the search falls back to LIKE there.
INDEX = GinIndex(SearchVector("search_text", config="english"), name="ticket_search_idx")


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("tickets", "Ticket"), INDEX)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("tickets", "Ticket"), INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0005_ticket_resolution_rma_details_links_version_search"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
