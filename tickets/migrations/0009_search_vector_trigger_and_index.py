from django.db import migrations

# PostgreSQL only: the embedded SQLite default has no full-text search and searches with LIKE.
FORWARD = [
    "DROP INDEX IF EXISTS ticket_search_idx",
    """
    CREATE TRIGGER ticket_search_vector_update
    BEFORE INSERT OR UPDATE OF search_text ON tickets_ticket
    FOR EACH ROW EXECUTE FUNCTION
    tsvector_update_trigger(search_vector, 'pg_catalog.english', search_text)
    """,
    "UPDATE tickets_ticket SET search_text = search_text",
    "CREATE INDEX ticket_search_vector_idx ON tickets_ticket USING gin (search_vector)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS ticket_search_vector_idx",
    "DROP TRIGGER IF EXISTS ticket_search_vector_update ON tickets_ticket",
    "CREATE INDEX ticket_search_idx ON tickets_ticket "
    "USING gin (to_tsvector('english'::regconfig, COALESCE(search_text, '')))",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("tickets", "0008_ticket_search_vector")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
