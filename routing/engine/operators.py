"""Operators by value type. Each takes (actual, expected) and says whether the condition holds.

Change operators (``changed``, ``changed_to``, ``changed_from``) take the field's change in the
event instead of its value: a pair ``[old, new]``, or None when the event did not change it.
"""

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import lru_cache

TEXT = "text"
CHOICE = "choice"
BOOL = "bool"
NUMBER = "number"
USER = "user"
DEPARTMENT = "department"
TAGS = "tags"  # a list of names


@lru_cache(maxsize=4096)
def _phrase_pattern(phrase: str) -> re.Pattern:
    # Whole words, case-insensitive, any run of white space between words: "damaged" matches
    # "Box DAMAGED in transit" but not "undamaged".
    words = [re.escape(word) for word in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def contains_phrase(text: str, phrase: str) -> bool:
    return bool(phrase.strip()) and _phrase_pattern(phrase.strip()).search(text or "") is not None


def as_number(value) -> int | float | Decimal | None:
    """A comparable number, or None. Decimals, ints and floats compare exactly with each other,
    so they are left as they are; only text is converted."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _compare(test: Callable[[object, object], bool]) -> Callable[[object, object], bool]:
    def operator(actual, expected) -> bool:
        number = as_number(actual)
        # A missing number (no contract, say) satisfies no comparison.
        return number is not None and test(number, as_number(expected))

    return operator


def _same_text(actual, expected) -> bool:
    return (actual or "").strip().lower() == str(expected).strip().lower()


def _is_set(actual, expected=None) -> bool:
    if isinstance(actual, str):
        return bool(actual.strip())
    if isinstance(actual, list | tuple | set):
        return bool(actual)
    return actual is not None


def _is_not_set(actual, expected=None) -> bool:
    return not _is_set(actual)


def _tags(actual) -> set[str]:
    return {str(tag).lower() for tag in actual or ()}


Operator = Callable[[object, object], bool]

_EQUALITY: dict[str, Operator] = {
    "is": lambda actual, expected: actual == expected,
    "is_not": lambda actual, expected: actual != expected,
    "in": lambda actual, expected: actual in expected,
    "not_in": lambda actual, expected: actual not in expected,
}
_PRESENCE: dict[str, Operator] = {"is_set": _is_set, "is_not_set": _is_not_set}

OPERATORS: dict[str, dict[str, Operator]] = {
    CHOICE: dict(_EQUALITY),
    USER: {**_EQUALITY, **_PRESENCE},
    DEPARTMENT: {**_EQUALITY, **_PRESENCE},
    TEXT: {
        "is": _same_text,
        "is_not": lambda actual, expected: not _same_text(actual, expected),
        "contains": lambda actual, expected: contains_phrase(actual, expected),
        "not_contains": lambda actual, expected: not contains_phrase(actual, expected),
        "contains_any": lambda actual, expected: any(contains_phrase(actual, p) for p in expected),
        **_PRESENCE,
    },
    BOOL: {"is": lambda actual, expected: bool(actual) is expected},
    NUMBER: {
        "is": _compare(lambda a, b: a == b),
        "gt": _compare(lambda a, b: a > b),
        "gte": _compare(lambda a, b: a >= b),
        "lt": _compare(lambda a, b: a < b),
        "lte": _compare(lambda a, b: a <= b),
        **_PRESENCE,
    },
    TAGS: {
        "contains": lambda actual, expected: expected.lower() in _tags(actual),
        "not_contains": lambda actual, expected: expected.lower() not in _tags(actual),
        "contains_any": lambda actual, expected: bool(_tags(actual) & _tags(expected)),
        **_PRESENCE,
    },
}


def _changed_to(change, expected) -> bool:
    if change is None:
        return False
    old, new = change
    if isinstance(new, list):  # tags: the tag was added
        return expected.lower() in _tags(new) - _tags(old or [])
    return new == expected


def _changed_from(change, expected) -> bool:
    if change is None:
        return False
    old, new = change
    if isinstance(old, list):  # tags: the tag was removed
        return expected.lower() in _tags(old) - _tags(new or [])
    return old == expected


CHANGE_OPERATORS: dict[str, Operator] = {
    "changed": lambda change, expected: change is not None,
    "changed_to": _changed_to,
    "changed_from": _changed_from,
}

# What shape each operator's value must have.
LIST_OPERATORS = frozenset({"in", "not_in", "contains_any"})
NO_VALUE_OPERATORS = frozenset({"is_set", "is_not_set", "changed"})

LABELS = {
    "is": "is",
    "is_not": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "not_contains": "does not contain",
    "contains_any": "contains any of",
    "is_set": "is set",
    "is_not_set": "is not set",
    "gt": "is greater than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "changed": "changed",
    "changed_to": "changed to",
    "changed_from": "changed from",
}
