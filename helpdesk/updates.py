"""``UPDATE ... RETURNING``: the rows an UPDATE changed, read back by the same statement.

Claiming rows (deliveries due, say) is a conditional UPDATE, and the worker then needs the rows
it won: Django's ``update()`` gives a count only, so the rows took a SELECT after it, one more
statement (and one more query to build) per claim. PostgreSQL and SQLite (3.35 and later)
return them from the UPDATE itself.
"""

from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import NotSupportedError, connections, transaction
from django.db.models import Model, QuerySet
from django.db.models.sql import UpdateQuery

M = TypeVar("M", bound=Model)


def update_returning(queryset: QuerySet[M], **values: Any) -> list[M]:
    """``queryset.update(**values)``, and the rows it changed as they are after it (every
    concrete field, expressions such as ``F("attempts") + 1`` evaluated), in the order of
    their primary keys. Refused where ``update()`` refuses (a slice, a union), and for a model
    with a parent model's table, as on a database that cannot return rows from an UPDATE."""
    queryset._not_support_combined_queries("update")
    if queryset.query.is_sliced:
        raise TypeError("Cannot update a query once a slice has been taken.")
    model = queryset.model
    queryset._for_write = True  # as update() routes itself: the database for writes
    using = queryset.db
    connection = connections[using]
    if connection.vendor not in ("postgresql", "sqlite") or not (
        connection.features.can_return_columns_from_insert  # SQLite 3.35 and later
    ):
        raise NotSupportedError(f"UPDATE ... RETURNING on {connection.vendor}")
    # A proxy's parents name its concrete model: only a concrete parent means two tables.
    if model._meta.concrete_model._meta.parents:
        raise NotSupportedError("UPDATE ... RETURNING of a model with a parent model")
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    query.annotations = {}
    compiler = query.get_compiler(using=using)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # a filter no row can meet (``pk__in=[]``, ``none()``)
        return []
    if not sql:
        return []
    opts = model._meta
    fields = opts.concrete_fields
    qn = connection.ops.quote_name
    table = qn(opts.db_table)
    returning = ", ".join(f"{table}.{qn(field.column)}" for field in fields)
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {returning}", params)
        rows: Any = cursor.fetchall()
    # As a SELECT's rows are turned into values: JSON decoded, times made aware, and so on.
    converters = compiler.get_converters([field.get_col(opts.db_table) for field in fields])
    if converters:
        rows = compiler.apply_converters(rows, converters)
    names = [field.attname for field in fields]
    return sorted((model.from_db(using, names, row) for row in rows), key=lambda obj: obj.pk)
