from django.db import migrations

# PostgreSQL only, like 0009. A tsvector holds at most 1 MB of lexemes and positions, so a
# ticket whose words (its fields, then every note and answer appended) pass that made the trigger
# raise "string is too long for tsvector": the write failed with a 500, and so did every later
# note on the ticket. The index is now built from the longest prefix of the search text that fits
# (halving until it does), so a write never fails for its words; a ticket that talkative is still
# found by its subject, description and earlier notes. The first try is bounded too, so the cost
# of a huge ticket's update stays bounded whatever is stored.
FORWARD = [
    "DROP TRIGGER IF EXISTS ticket_search_vector_update ON tickets_ticket",
    """
    CREATE FUNCTION ticket_search_vector_fill() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        size integer := least(length(coalesce(NEW.search_text, '')), 1000000);
    BEGIN
        LOOP
            BEGIN
                NEW.search_vector := to_tsvector(
                    'pg_catalog.english', left(coalesce(NEW.search_text, ''), size)
                );
                RETURN NEW;
            EXCEPTION WHEN program_limit_exceeded THEN
                size := size / 2;
            END;
        END LOOP;
    END
    $$
    """,
    """
    CREATE TRIGGER ticket_search_vector_update
    BEFORE INSERT OR UPDATE OF search_text ON tickets_ticket
    FOR EACH ROW EXECUTE FUNCTION ticket_search_vector_fill()
    """,
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS ticket_search_vector_update ON tickets_ticket",
    "DROP FUNCTION IF EXISTS ticket_search_vector_fill()",
    """
    CREATE TRIGGER ticket_search_vector_update
    BEFORE INSERT OR UPDATE OF search_text ON tickets_ticket
    FOR EACH ROW EXECUTE FUNCTION
    tsvector_update_trigger(search_vector, 'pg_catalog.english', search_text)
    """,
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("tickets", "0012_search_text_help")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
