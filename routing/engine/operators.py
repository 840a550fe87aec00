"""Operators by value type. Each takes (actual, expected) and says whether the condition holds."""

import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache

TEXT = "text"
CHOICE = "choice"
BOOL = "bool"
NUMBER = "number"


@lru_cache(maxsize=4096)
def _phrase_pattern(phrase: str) -> re.Pattern:
    # Whole words, case-insensitive, any run of white space between words: "damaged" matches
    # "Box DAMAGED in transit" but not "undamaged".
    words = [re.escape(word) for word in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def contains_phrase(text: str, phrase: str) -> bool:
    return bool(phrase.strip()) and _phrase_pattern(phrase.strip()).search(text or "") is not None


def _number(value) -> Decimal:
    return Decimal(str(value))


Operator = Callable[[object, object], bool]

OPERATORS: dict[str, dict[str, Operator]] = {
    CHOICE: {
        "is": lambda actual, expected: actual == expected,
        "is_not": lambda actual, expected: actual != expected,
        "in": lambda actual, expected: actual in expected,
        "not_in": lambda actual, expected: actual not in expected,
    },
    TEXT: {
        "is": lambda actual, expected: (actual or "").strip().lower() == expected.strip().lower(),
        "is_not": lambda actual, expected: (
            (actual or "").strip().lower() != expected.strip().lower()
        ),
        "contains": lambda actual, expected: contains_phrase(actual, expected),
        "not_contains": lambda actual, expected: not contains_phrase(actual, expected),
        "contains_any": lambda actual, expected: any(contains_phrase(actual, p) for p in expected),
        "is_set": lambda actual, expected: bool((actual or "").strip()) is bool(expected),
    },
    BOOL: {
        "is": lambda actual, expected: bool(actual) is expected,
    },
    NUMBER: {
        "is": lambda actual, expected: _number(actual) == _number(expected),
        "gt": lambda actual, expected: _number(actual) > _number(expected),
        "gte": lambda actual, expected: _number(actual) >= _number(expected),
        "lt": lambda actual, expected: _number(actual) < _number(expected),
        "lte": lambda actual, expected: _number(actual) <= _number(expected),
    },
}

# What shape each operator's value must have: one item, a list, or a boolean.
LIST_OPERATORS = frozenset({"in", "not_in", "contains_any"})
BOOL_VALUED_OPERATORS = frozenset({"is_set"})
