"""How the codes other apps write on a ticket's timeline read to a person.

``tickets`` never imports the apps that react to tickets, so they tell it at start-up, in their
``AppConfig.ready()`` (as routing subscribes to the outbox there): the labels of the codes they
store under a key (``"outcome": {"satisfied": "Reached and satisfied"}``), and the keys that
only trace an entry back to its source (an id) and are not for reading.
"""

_labels: dict[str, dict[str, str]] = {}
_hidden: set[str] = set()


def timeline_labels_register(*, key: str, labels: dict[str, str]) -> None:
    """Codes stored under ``key`` in timeline entries' changes read as these labels."""
    _labels[key] = dict(labels)


def timeline_keys_hide(*keys: str) -> None:
    """Values stored under these keys are for tracing, not for people: they are not shown."""
    _hidden.update(keys)


def registered_labels(key: str) -> dict[str, str] | None:
    return _labels.get(key)


def is_hidden(key: str) -> bool:
    return key in _hidden
