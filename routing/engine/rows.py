"""Inserting what routing an event creates: one statement per table, and no savepoints.

A row routing creates is unique per (event, rule, ...), and routing an event is serialised by
its ``RoutingRun`` row, claimed first: normally none of these rows exists yet. They are still
inserted with ``ON CONFLICT DO NOTHING`` (``INSERT OR IGNORE`` on SQLite), so a row that does
exist (the run's record was lost, a rule names a department twice) is found and kept rather
than failing the event, as ``get_or_create`` did with a savepoint per row.

``bulk_create(ignore_conflicts=True)`` cannot say which rows were new, nor give their ids on
PostgreSQL; the same INSERT with ``RETURNING`` the id and the unique key can.
"""

from collections.abc import Sequence
from functools import reduce
from operator import or_
from typing import TypeVar

from django.db import connections, router
from django.db.models import Model, Q
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery

M = TypeVar("M", bound=Model)


def insert_ignoring_conflicts(
    objs: Sequence[Model], *, returning: tuple[str, ...] = (), extra_returning: str = ""
) -> list[tuple]:
    """INSERT ``objs`` (of one model) in one statement, skipping those that conflict; the rows
    inserted, as (pk, *``returning`` fields' values[, *``extra_returning``'s]).
    ``extra_returning`` is SQL appended to the RETURNING list (a scalar subquery, say)."""
    model = type(objs[0])
    opts = model._meta
    using = router.db_for_write(model)
    fields = [f for f in opts.concrete_fields if not f.generated and f is not opts.pk]
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, objs)
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = [opts.pk, *(opts.get_field(name) for name in returning)]
    [(sql, params)] = compiler.as_sql()
    if extra_returning:
        sql = f"{sql}, {extra_returning}"
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def insert_or_get(objs: Sequence[Model], *, unique: tuple[str, ...]) -> list[tuple[Model, bool]]:
    """Each of ``objs`` (of one model) inserted, or the row already there with the same
    ``unique`` fields: ``(row, created)``, in the order given, from one INSERT (and, only when
    some existed, one SELECT). A row that conflicts on another constraint and cannot be found
    by ``unique`` comes back unsaved, with ``created`` False."""
    if not objs:
        return []
    model = type(objs[0])
    opts = model._meta
    using = router.db_for_write(model)
    key_fields = [opts.get_field(name) for name in unique]

    def key_of(obj) -> tuple:
        return tuple(getattr(obj, f.attname) for f in key_fields)

    rows = insert_ignoring_conflicts(objs, returning=tuple(f.name for f in key_fields))
    inserted = {tuple(row[1:]): row[0] for row in rows}
    results: list[tuple[M, bool]] = []
    missing = []
    for obj in objs:
        pk = inserted.pop(key_of(obj), None)
        if pk is None:
            missing.append(obj)
            results.append((obj, False))
            continue
        obj.pk = pk
        obj._state.adding, obj._state.db = False, using
        results.append((obj, True))
    if missing:
        wanted = [
            Q(**{f.attname: value for f, value in zip(key_fields, key_of(obj), strict=True)})
            for obj in missing
        ]
        existing = {key_of(row): row for row in model._default_manager.filter(reduce(or_, wanted))}
        results = [
            (existing.get(key_of(obj), obj), False) if not created else (obj, created)
            for obj, created in results
        ]
    return results
