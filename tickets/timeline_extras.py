"""What other apps show under a timeline entry of theirs (a message's attachments, its quoted
text, its original), without tickets importing them.

An app registers, in its ``AppConfig.ready()``, the entry kinds it adds to, a template, and a
function that loads what that template needs for many entries at once (one or two queries
however long the timeline). ``timeline_with_extras`` then sets ``entry.extra`` on each entry
it has something for, and ``components/timeline_entries.html`` includes the template.
"""

from collections.abc import Callable
from dataclasses import dataclass

from tickets.models import TimelineEntry

Loader = Callable[[list[TimelineEntry]], dict[int, dict]]


@dataclass(frozen=True)
class _Extra:
    kinds: tuple[str, ...]
    template: str
    load: Loader


_extras: list[_Extra] = []


def timeline_extras_register(*, kinds, template: str, load: Loader) -> None:
    extra = _Extra(tuple(kinds), template, load)
    if extra not in _extras:
        _extras.append(extra)


def timeline_with_extras(entries) -> list[TimelineEntry]:
    """The entries, each with ``extra`` (``{"template": ..., **context}``) where an app has
    something to show under it."""
    entries = list(entries)
    for extra in _extras:
        concerned = [entry for entry in entries if entry.kind in extra.kinds]
        if not concerned:
            continue
        loaded = extra.load(concerned)
        for entry in concerned:
            if entry.pk in loaded:
                entry.extra = {"template": extra.template, **loaded[entry.pk]}
    return entries
