"""Migration operations the apps share."""

from django.db import migrations


def postgres_brin_index(
    app_label: str, model_name: str, index
) -> migrations.SeparateDatabaseAndState:
    """A BRIN index on PostgreSQL. SQLite (the embedded default) has no BRIN: there only the
    model state records the index, so makemigrations stays quiet on both."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.add_index(apps.get_model(app_label, model_name), index)

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.remove_index(apps.get_model(app_label, model_name), index)

    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AddIndex(model_name=model_name, index=index)],
        database_operations=[migrations.RunPython(create, drop)],
    )
