"""SELECTs whose SQL Django builds once per process, for the few reads on the hottest paths.

Compiling a queryset to SQL is most of what an ORM read costs: for an event with its ticket
(two tables, forty columns) Django spends about 1.2 ms building the SQL that PostgreSQL answers
in 0.2 ms, on every event routed and every message received. A ``PreparedQuery`` builds its
queryset once per database and shape of arguments (how many ids a list holds), twice, with two
sets of stand-in values; where the two SQLs' parameters differ is where the arguments go. From
then on it runs that SQL with the caller's values, turning its rows into what the queryset
would have given: model instances (with their ``select_related`` relations and annotations) or
``values_list`` rows.

Only for querysets whose SQL depends on nothing but the arguments' values: no ``now()``
evaluated while building, no setting read then, no filter chosen by a value (pass what varies
as an argument, not as a closure). Arguments: ints, strings, dates, aware datetimes, and lists,
tuples or sets of ints or strings. Only a query whose every argument reaches its SQL as given,
and nowhere else, is prepared (``pk=``, ``__in``, ``__iexact`` on PostgreSQL, a ``RawSQL``
parameter); anything else runs the queryset as built: an empty or long list, a value of
another type, a naive datetime, a lookup that transforms its value (``icontains``, ``iexact``
on SQLite), a stand-in the field refuses. tests/test_prepared.py compares both.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connections, transaction
from django.db.models import QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)

# Stand-ins, in two variants: a parameter equal to one by chance cannot equal both. Strings
# with what escaping, case folding or trimming would change.
_INT = 7_340_032_000_000_000_000

_SCALARS = (int, str, date)
# A longer list runs as built: each length is SQL of its own, kept for the process's life.
MAX_ITEMS = 64
# An int past a 64-bit column's range runs as built too: Django answers it with no rows, where
# the database driver would refuse it.
_INT_RANGE = range(-(2**63), 2**63)


def _stand_in(value: Any, number: int, variant: int) -> Any:
    if isinstance(value, int):
        return _INT + variant * 1_000_000 + number
    if isinstance(value, str):
        return f" \x02Prepared-{variant}-{number}%_\\\x03 "
    if isinstance(value, datetime):
        return datetime(2000 + variant, 1, 1, tzinfo=UTC) + timedelta(seconds=number + 1)
    if isinstance(value, date):
        return date(2000 + variant, 1, 1) + timedelta(days=number + 1)
    raise TypeError(type(value).__name__)


def _adapted(connection, value: Any) -> Any:
    """A value as Django hands it to the database driver in a query's parameters."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _shape(args: tuple) -> tuple | None:
    """What the SQL depends on: each argument's kind, and a list's length; None if an argument
    cannot be prepared (then the queryset runs as built)."""
    shape = []
    for value in args:
        if isinstance(value, bool):
            return None
        if isinstance(value, int) and value not in _INT_RANGE:
            return None
        if isinstance(value, datetime) and value.tzinfo is None:
            return None  # Django makes it aware, with a warning: left to Django
        if isinstance(value, _SCALARS):
            shape.append((type(value), None))
        elif isinstance(value, list | tuple | set | frozenset):
            items = list(value)
            kinds = {type(item) for item in items}
            if not 0 < len(items) <= MAX_ITEMS or len(kinds) != 1:
                return None
            kind = kinds.pop()
            if kind is bool or not issubclass(kind, int | str):
                return None
            if kind is int and not all(item in _INT_RANGE for item in items):
                return None
            shape.append((type(items[0]), len(items)))
        else:
            return None
    return tuple(shape)


@dataclass
class _Compiled:
    sql: str
    params: list
    # (position in the parameters, argument, item of a list argument or None)
    slots: list[tuple[int, int, int | None]]
    compiler: Any
    iterable: type
    converters: dict
    for_update: bool

    def run(self, connection, args: tuple) -> list:
        # As Django refuses it (where the database can lock rows at all).
        locking = self.for_update and connection.features.has_select_for_update
        if locking and connection.get_autocommit():
            raise transaction.TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = list(self.params)
        values = [list(value) if isinstance(value, set | frozenset) else value for value in args]
        for position, argument, item in self.slots:
            value = values[argument] if item is None else values[argument][item]
            params[position] = _adapted(connection, value)
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows: Iterable = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        if self.iterable is ModelIterable:
            return self._instances(connection.alias, rows)
        if self.iterable is FlatValuesListIterable:
            return [row[0] for row in rows]
        return [tuple(row) for row in rows]

    def _instances(self, db: str, rows: Iterable) -> list:
        # What django.db.models.query.ModelIterable does with the rows of a compiled query.
        compiler = self.compiler
        select, klass_info = compiler.select, compiler.klass_info
        model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        names = [column[0].target.attname for column in select[start:end]]
        populators = get_related_populators(klass_info, select, db)
        annotations = compiler.annotation_col_map.items()
        objs = []
        for row in rows:
            obj = model.from_db(db, names, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in annotations:
                setattr(obj, name, row[position])
            objs.append(obj)
        return objs


class PreparedQuery:
    """``build(*args)``'s results, its SQL built once per database and shape of ``args``."""

    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self._build = build
        # By shape: the queryset built with each variant of stand-ins (None: it cannot be).
        self._templates: dict[tuple, list[tuple[QuerySet, tuple]] | None] = {}
        self._compiled: dict[tuple, _Compiled | None] = {}

    def __call__(self, *args: Any) -> list:
        shape = _shape(args)
        if shape is None:
            return list(self._build(*args))
        if shape not in self._templates:
            self._templates[shape] = self._template(args)
        templates = self._templates[shape]
        if templates is None:
            return list(self._build(*args))
        alias = templates[0][0].db  # as the queryset routes itself (a write if it locks)
        connection = connections[alias]
        key = (alias, shape)
        if key not in self._compiled:
            self._compiled[key] = _compile(templates, connection)
        compiled = self._compiled[key]
        if compiled is None:
            return list(self._build(*args))
        return compiled.run(connection, args)

    def __deepcopy__(self, memo: dict) -> "PreparedQuery":
        # One per process, shared: a serializer field holding it is copied for every request.
        return self

    def is_prepared(self, *args: Any) -> bool:
        """Whether a call with these arguments runs SQL built before (after a first call)."""
        shape = _shape(args)
        return any(key[1] == shape and c is not None for key, c in list(self._compiled.items()))

    def _template(self, args: tuple) -> list[tuple[QuerySet, tuple]] | None:
        templates = []
        for variant in (1, 2):
            number = 0
            stand_ins: list = []
            for value in args:
                if isinstance(value, _SCALARS):
                    stand_ins.append(_stand_in(value, number, variant))
                    number += 1
                else:
                    stand_ins.append(
                        [_stand_in(item, number + n, variant) for n, item in enumerate(value)]
                    )
                    number += len(stand_ins[-1])
            try:
                queryset = self._build(*stand_ins)
            except Exception:  # a stand-in the field refuses: the queryset as built decides
                return None
            templates.append((queryset, tuple(stand_ins)))
        return templates


def _slots_wanted(connection, stand_ins: tuple) -> dict[Any, tuple[int, int | None]]:
    """Each stand-in as it appears among a query's parameters: (argument, item of a list)."""
    wanted: dict[Any, tuple[int, int | None]] = {}
    for argument, value in enumerate(stand_ins):
        if isinstance(value, list):
            for item, each in enumerate(value):
                wanted[_adapted(connection, each)] = (argument, item)
        else:
            wanted[_adapted(connection, value)] = (argument, None)
    return wanted


def _slot(wanted: dict, param: Any) -> tuple[int, int | None] | None:
    try:
        return wanted.get(param)
    except TypeError:  # an unhashable parameter (a list for an array): not a stand-in
        return None


def _compile(templates: list[tuple[QuerySet, tuple]], connection) -> _Compiled | None:
    """The SQL of the first template and where its arguments go, if the two templates' SQL and
    parameters differ only there, each stand-in found as given; else None."""
    queryset = templates[0][0]
    iterable = queryset._iterable_class
    if iterable not in (ModelIterable, ValuesListIterable, FlatValuesListIterable):
        raise TypeError(f"a prepared query gives models or values_list rows, not {iterable}")
    if queryset._prefetch_related_lookups or queryset._known_related_objects:
        raise TypeError("a prepared query cannot prefetch")
    built = []
    for each, stand_ins in templates:
        compiler = each.query.get_compiler(connection=connection)
        try:
            sql, params = compiler.as_sql()
        except Exception:  # a stand-in a lookup refuses (EmptyResultSet, say): as built
            return None
        built.append((compiler, sql, list(params), _slots_wanted(connection, stand_ins)))
    (compiler, sql, params, wanted), (_, other_sql, other_params, other_wanted) = built
    if compiler.col_count != len(compiler.select) or compiler.has_extra_select:
        raise TypeError("a prepared query cannot select columns only to order by")
    if sql != other_sql or len(params) != len(other_params):
        return None
    slots = []
    for position, (param, other) in enumerate(zip(params, other_params, strict=True)):
        slot = _slot(wanted, param)
        if slot is not None and _slot(other_wanted, other) == slot:
            slots.append((position, *slot))
        elif param != other:  # made from an argument, but not as given: as built
            return None
    if {slot[1:] for slot in slots} != set(wanted.values()):
        return None  # an argument that does not reach the SQL as given
    fields = [column[0] for column in compiler.select[: compiler.col_count]]
    return _Compiled(
        sql=sql,
        params=params,
        slots=slots,
        compiler=compiler,
        iterable=iterable,
        converters=compiler.get_converters(fields),
        for_update=bool(queryset.query.select_for_update),
    )
