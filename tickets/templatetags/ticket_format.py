"""How tickets' values read on pages: durations, field names, amounts, timeline changes."""

import re
from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils.timesince import timesince, timeuntil

from accounts.selectors import contacts_list, departments_list
from tickets.models import Ticket, TimelineEntry
from tickets.services import TRACKING_KEY
from tickets.timeline_labels import is_hidden, registered_labels

register = template.Library()

FIELD_LABELS = {
    "root_cause": "root cause",
    "rma_serial_number": "serial number",
    "rma_order_number": "order number",
    "rma_reason": "return reason",
    "rma_status": "return status",
    "related": "linked to",
}

# Codes of the ticket's own fields stored on the timeline. Other apps register theirs
# (tickets.timeline_labels); an unknown code reads as its words anyway.
CHOICE_LABELS = {
    "kind": dict(Ticket.Kind.choices),
    "channel": dict(Ticket.Channel.choices),
    "priority": dict(Ticket.Priority.choices),
    "status": dict(Ticket.Status.choices),
    "root_cause": dict(Ticket.RootCause.choices),
    "rma_status": dict(Ticket.RmaStatus.choices),
    "return status": dict(Ticket.RmaStatus.choices),
}
# Keys whose "old" value is always empty: something was added, not changed.
ADDED_KEYS = frozenset({"related", TRACKING_KEY})


@register.filter
def duration_text(seconds: int | None) -> str:
    """``754`` as ``12m 34s``; an hour or more as ``1h 02m``."""
    if seconds is None:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


# The kinds as the mission names them, for narrow columns (the full name is the title).
KIND_SHORT = {"call": "Call", "bug": "Bug", "rfe": "RFE", "rma": "RMA"}


@register.filter
def kind_short(kind: str) -> str:
    return KIND_SHORT.get(kind, kind)


@register.filter
def since_short(moment, now=None) -> str:
    """How long ago ``moment`` was, in its largest unit only ("3 hours"): a list's age column
    reads at a glance, where Django's ``timesince`` says "3 hours, 12 minutes"."""
    if not moment:
        return ""
    text = timesince(moment, now, depth=1)
    return "under a minute" if text.startswith("0\xa0") else text


@register.filter
def until_short(moment, now=None) -> str:
    """How long until ``moment``, in its largest unit only ("2 hours"); "under a minute" when
    it is that close or past."""
    if not moment:
        return ""
    text = timeuntil(moment, now, depth=1)
    return "under a minute" if text.startswith("0\xa0") else text


@register.filter
def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " "))


@register.filter
def get_item(mapping, key: str):
    """``mapping[key]`` in a template (a QueryDict gives its last value)."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""


@register.filter
def money(amount) -> str:
    """``Decimal("2300")`` as ``USD 2,300.00``: invoices are in ``settings.CURRENCY``."""
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return ""
    return f"{settings.CURRENCY} {value:,.2f}"


class _Names:
    """Department and contact names for one rendering of a timeline, read once when needed."""

    def __init__(self):
        self._departments = None
        self._contacts = {}

    def department(self, slug) -> str:
        if self._departments is None:
            self._departments = dict(departments_list().values_list("slug", "name"))
        return self._departments.get(slug, str(slug))

    def contact(self, pk) -> str:
        if pk not in self._contacts:
            found = contacts_list().filter(pk=pk).values_list("name", flat=True).first()
            self._contacts[pk] = found or "a removed contact"
        return self._contacts[pk]


def _value_text(key: str, value, names: _Names) -> str:
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, list):
        return ", ".join(_value_text(key, item, names) for item in value)
    if key == "department":
        return names.department(value)
    if key == "contact":
        return names.contact(value)
    labels = CHOICE_LABELS.get(key) or registered_labels(key)
    if labels is not None:
        return labels.get(value, str(value).replace("_", " ").capitalize())
    return str(value)


def entry_changes(entry: TimelineEntry, names: _Names) -> list[dict]:
    """The entry's changes as a person reads them: ``{"label", "old", "new"}`` for a change
    (stored as ``[old, new]``), ``{"label", "value"}`` for a single fact (a department, an
    outcome, a linked ticket). Ids are left out, and so is what the entry's body already says:
    the resolution a ticket was resolved with, the department that "took it on"."""
    if entry.kind == TimelineEntry.Kind.ROUTING or not isinstance(entry.changes, dict):
        return []
    body = entry.body.strip()
    lines = []
    for key, change in entry.changes.items():
        if is_hidden(key):
            continue
        label = field_label(key).capitalize()
        is_pair = isinstance(change, list) and len(change) == 2 and key != "tags"
        if key == "tags" and isinstance(change, list) and len(change) == 2:
            is_pair = all(isinstance(side, list) for side in change)
        if is_pair and key not in ADDED_KEYS:
            old, new = (_value_text(key, side, names) for side in change)
            if key == "resolution" and new and new.strip() == body:
                continue
            lines.append({"label": label, "old": old or "—", "new": new or "—"})
            continue
        value = _value_text(key, change[-1] if is_pair else change, names)
        if not value or _says(body, value):
            continue
        lines.append({"label": label, "value": value})
    return lines


def _says(body: str, value: str) -> bool:
    """Whether ``body`` already says ``value`` in so many words ("Shipping took it on." says
    "Shipping"; "highly" does not say "High")."""
    return bool(body) and re.search(rf"(?<!\w){re.escape(value)}(?!\w)", body, re.I) is not None


@register.simple_tag(takes_context=True)
def timeline_changes(context, entry: TimelineEntry) -> list[dict]:
    """``{% timeline_changes entry as changes %}``: see ``entry_changes``."""
    names = context.render_context.get(_Names)
    if names is None:
        names = context.render_context[_Names] = _Names()
    return entry_changes(entry, names)
