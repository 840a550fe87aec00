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
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any, TypeVar

from django.db import connections, router
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Field, Model, Q
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
    using = router.db_for_write(model)
    connection = connections[using]
    fields = _insert_fields(model)
    key = (model, using, len(objs), returning, extra_returning)
    shape = _SHAPES.get(key, _UNSEEN)
    params = _params(shape, fields, objs, connection) if isinstance(shape, _Shape) else None
    if params is not None:
        sql = shape.sql
    else:
        sql, params = _compiled(model, using, fields, objs, returning)
        if shape is _UNSEEN and len(objs) <= MAX_ROWS_KEPT:
            seen = _shape_of(sql, params, fields, objs, connection)
            if seen is not _UNSEEN:
                _SHAPES[key] = seen
    if extra_returning:
        sql = f"{sql}, {extra_returning}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


# The SQL of an INSERT depends on the model, the database, how many rows and what it returns,
# not on the values (but for expressions, which go the compiler's way): Django builds it again
# for every statement, which on routing's path cost three times what preparing the values
# does. Each shape is compiled once per process, then the values are prepared as the compiler
# prepares them (``pre_save``, ``get_db_prep_save``) and laid out as its SQL expects them (a
# row after another, or a column per field for PostgreSQL's ``UNNEST``). Which layout, and
# whether the values come out as the compiler's, is read off the first statement of each shape:
# a shape whose parameters are not what this module would have made is never kept.
MAX_ROWS_KEPT = 64
_UNSEEN = object()


@dataclass(frozen=True)
class _Shape:
    sql: str
    by_column: bool


_SHAPES: dict[tuple, _Shape | None] = {}
_FIELDS: dict[type[Model], list[Field]] = {}


def _insert_fields(model: type[Model]) -> list[Field]:
    fields = _FIELDS.get(model)
    if fields is None:
        opts = model._meta
        fields = [f for f in opts.concrete_fields if not f.generated and f is not opts.pk]
        _FIELDS[model] = fields
    return fields


def _compiled(model, using, fields, objs, returning) -> tuple[str, tuple]:
    opts = model._meta
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, objs)
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = [opts.pk, *(opts.get_field(name) for name in returning)]
    [(sql, params)] = compiler.as_sql()
    return sql, tuple(params)


def _params(shape: "_Shape", fields, objs, connection) -> tuple | None:
    """The statement's parameters for ``objs``, or None where a value is an expression (its
    SQL is not the shape's)."""
    rows = []
    for obj in objs:
        row = []
        for field in fields:
            value = field.pre_save(obj, add=True)
            if hasattr(value, "resolve_expression"):
                return None
            value = field.get_db_prep_save(value, connection=connection)
            if hasattr(value, "as_sql"):
                return None  # a field that made it an expression: compiled, not a parameter
            row.append(value)
        rows.append(row)
    return _laid_out(rows, shape.by_column)


def _laid_out(rows: list[list], by_column: bool) -> tuple:
    if by_column:
        return tuple(list(column) for column in zip(*rows, strict=True))
    return tuple(value for row in rows for value in row)


def _shape_of(sql: str, params: tuple, fields, objs, connection) -> Any:
    """The shape of the statement the compiler made for ``objs``, if this module's parameters
    for them are the compiler's, in one of the two layouts; None if they are not, ``_UNSEEN``
    if a value is an expression. The values are read as the compiler left them (``pre_save``
    has run: an ``auto_now`` field holds the time it stored)."""
    if type(connection.ops).modify_insert_params is not BaseDatabaseOperations.modify_insert_params:
        return None  # a backend that rewrites parameters per placeholder (Oracle's)
    if any(hasattr(field, "get_placeholder") for field in fields):
        return None  # a field whose placeholder depends on its value (binary, arrays, ranges)
    rows = []
    for obj in objs:
        row = []
        for field in fields:
            value = getattr(obj, field.attname)
            if hasattr(value, "resolve_expression"):
                return _UNSEEN  # this statement's SQL is not the shape's: wait for the next
            row.append(field.get_db_prep_save(value, connection=connection))
        rows.append(row)
    for by_column in (False, True):
        if _same(params, _laid_out(rows, by_column)):
            return _Shape(sql, by_column)
    return None


def _same(theirs: Sequence, mine: Sequence) -> bool:
    return len(theirs) == len(mine) and all(map(_equal, theirs, mine))


def _equal(theirs: Any, mine: Any) -> bool:
    if type(theirs) is not type(mine):
        return False
    if isinstance(theirs, list):
        return _same(theirs, mine)
    if theirs == mine:
        return True
    # A driver's adapter (psycopg2's ``Json``) compares by identity: compare what it holds.
    return hasattr(theirs, "__dict__") and vars(theirs) == vars(mine)


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
