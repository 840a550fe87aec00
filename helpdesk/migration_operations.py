"""Migration operations the apps share."""

from collections.abc import Callable

from django.db import migrations


def _index_by_vendor(
    app_label: str, model_name: str, index, options: Callable[[str], dict | None]
) -> migrations.SeparateDatabaseAndState:
    """``index`` in the model state; in the database as ``options(vendor)`` says: the keyword
    arguments of the schema editor's add_index and remove_index, or None for no index."""

    def run(apps, schema_editor, method: str):
        kwargs = options(schema_editor.connection.vendor)
        if kwargs is not None:
            getattr(schema_editor, method)(apps.get_model(app_label, model_name), index, **kwargs)

    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AddIndex(model_name=model_name, index=index)],
        database_operations=[
            migrations.RunPython(
                lambda apps, editor: run(apps, editor, "add_index"),
                lambda apps, editor: run(apps, editor, "remove_index"),
            )
        ],
    )


def postgres_brin_index(
    app_label: str, model_name: str, index
) -> migrations.SeparateDatabaseAndState:
    """A BRIN index on PostgreSQL. SQLite (the embedded default) has no BRIN: there only the
    model state records the index, so makemigrations stays quiet on both."""
    return _index_by_vendor(
        app_label, model_name, index, lambda vendor: {} if vendor == "postgresql" else None
    )


def index_concurrently(
    app_label: str, model_name: str, index
) -> migrations.SeparateDatabaseAndState:
    """An index built without blocking writes to its table on PostgreSQL (``CONCURRENTLY``: the
    migration must say ``atomic = False``), as usual elsewhere. For a table that is large and
    written all day (the emails sent, say)."""
    return _index_by_vendor(
        app_label,
        model_name,
        index,
        lambda vendor: {"concurrently": True} if vendor == "postgresql" else {},
    )
