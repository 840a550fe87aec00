"""Message templates in rules: placeholders with a few filters, and nothing else.

Admins write ``{{ ticket.reference }} for {{ customer.name|upper }}``. A template is text with
placeholders from ``PLACEHOLDERS``, each optionally passed through filters from ``FILTERS``
(``{{ contact.name|default:"the customer" }}``, ``{{ ticket.description|truncatechars:200 }}``).
There are no tags, loops or conditions and no attribute access beyond the listed placeholders,
so rendering is one pass over the template, its work bounded by the template's length and
``MESSAGE_MAX_LENGTH``, whatever a ticket's text holds: the worker renders on every event and
the web process on every save and preview. (Rules used to be Django templates; a nested
``{% for %}`` over the description or ``center:100000000`` could take seconds or 100 MB.
Migration 0009 converted the stored ones.)

Literal text: ``{{ "{{" }}`` writes ``{{`` and ``{{ "{%" }}`` writes ``{%`` (a quoted string in
braces is written as it is); ``}}``, ``%}`` and single braces need nothing. The syntax is a subset
of Django's, so a converted template reads the same to anyone who knew the old one.
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

logger = logging.getLogger(__name__)

# The most a rendered message holds (an email body is the longest); more is cut with an
# ellipsis. Where it lands may cut further (an email subject 250, a follow-up reason 200).
MESSAGE_MAX_LENGTH = 10_000
# The most a template may hold: a message, not a document.
TEMPLATE_MAX_LENGTH = 10_000
# Bounds of filter arguments, so that no argument makes a message grow.
TRUNCATE_MAX = 1_000
DEFAULT_MAX_LENGTH = 200

PLACEHOLDERS = [
    "ticket.reference",
    "ticket.subject",
    "ticket.description",
    "ticket.kind",
    "ticket.status",
    "ticket.priority",
    "ticket.product",
    "ticket.rma_number",
    "customer.name",
    "contact.name",
    "contact.email",
    "salesperson.name",
    "rule.name",
    "event.type",
    "survey.score",
    "survey.category",
    "survey.reason",
]
_PLACEHOLDER_SET = frozenset(PLACEHOLDERS)


class TemplateInvalid(ValueError):
    """A template that cannot be rendered, with where (line and column) and why."""


# --- filters ------------------------------------------------------------------------------------


def _title(value: str, _arg) -> str:
    # As Django's ``title``: no capital after an apostrophe or a digit ("O'neil's 3rd").
    value = re.sub(r"([a-z])'([A-Z])", lambda m: m[0].lower(), value.title())
    return re.sub(r"\d([A-Z])", lambda m: m[0].lower(), value)


def _truncatechars(value: str, length: int) -> str:
    return value if len(value) <= length else value[: length - 1] + "…"


def _truncatewords(value: str, length: int) -> str:
    words = value.split(maxsplit=length)
    return value if len(words) <= length else " ".join(words[:length]) + " …"


@dataclass(frozen=True)
class Filter:
    apply: Callable[[str, object], str]
    argument: str | None = None  # None, "number" (1 to TRUNCATE_MAX) or "text"
    help: str = ""


FILTERS: dict[str, Filter] = {
    "upper": Filter(lambda v, _: v.upper(), help="CAPITALS"),
    "lower": Filter(lambda v, _: v.lower(), help="lower case"),
    "title": Filter(_title, help="Each Word Capitalised"),
    "capfirst": Filter(lambda v, _: v[:1].upper() + v[1:], help="First letter capitalised"),
    "truncatechars": Filter(_truncatechars, "number", "at most N characters, with …"),
    "truncatewords": Filter(_truncatewords, "number", "at most N words, with …"),
    "default": Filter(lambda v, arg: v or arg, "text", 'this text when empty: default:"…"'),
}


# --- parsing ------------------------------------------------------------------------------------

_OPENING = re.compile(r"\{\{|\{%")
_HEAD = re.compile(r'\s*(?:([A-Za-z_][\w.]*)|"([^"]*)"|\'([^\']*)\')\s*')
_FILTER = re.compile(r'\|\s*(\w+)(?:\s*:\s*(?:"([^"]*)"|\'([^\']*)\'|(-?\d+)))?\s*')


@dataclass(frozen=True)
class _Placeholder:
    name: str | None  # a placeholder, or None for a quoted literal
    literal: str
    filters: tuple[tuple[Filter, object], ...]


def _where(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def _parse_expression(text: str, start: int, end: int) -> _Placeholder:
    def fail(message: str) -> NoReturn:
        raise TemplateInvalid(f"{message} (at {_where(text, start)}).")

    source = text[start + 2 : end]
    head = _HEAD.match(source)
    if not head or not source.strip():
        fail(
            "Expected a placeholder such as {{ ticket.subject }}"
            ' or a quoted text such as {{ "{{" }}'
        )
    name, literal = head[1], head[2] if head[2] is not None else head[3] or ""
    if name is not None and name not in _PLACEHOLDER_SET:
        fail(f"Unknown placeholder {name!r}; use one of {', '.join(PLACEHOLDERS)}")
    filters = []
    position = head.end()
    while position < len(source):
        found = _FILTER.match(source, position)
        if not found:
            fail(
                f"Cannot read {source[position:].strip()[:40]!r}; filters are written"
                " |name or |name:argument"
            )
        filter_name, quoted, number = (
            found[1],
            found[2] if found[2] is not None else found[3],
            found[4],
        )
        spec = FILTERS.get(filter_name)
        if spec is None:
            fail(f"Unknown filter {filter_name!r}; use one of {', '.join(FILTERS)}")
        given = number if number is not None else quoted
        if spec.argument is None and given is not None:
            fail(f"The filter {filter_name!r} takes no argument")
        if spec.argument == "number":
            if number is None or len(number) > 6 or not 1 <= int(number) <= TRUNCATE_MAX:
                fail(f"The filter {filter_name!r} takes a whole number from 1 to {TRUNCATE_MAX:,}")
            argument: object = int(number)
        elif spec.argument == "text":
            if quoted is None or len(quoted) > DEFAULT_MAX_LENGTH:
                fail(
                    f"The filter {filter_name!r} takes a quoted text of at most"
                    f' {DEFAULT_MAX_LENGTH} characters, such as {filter_name}:"none"'
                )
            argument = quoted
        else:
            argument = None
        filters.append((spec, argument))
        position = found.end()
    return _Placeholder(name, literal, tuple(filters))


def parse(text: str) -> list[str | _Placeholder]:
    """The template as literal texts and placeholders; ``TemplateInvalid`` at the first error.
    One pass: each character is looked at a bounded number of times."""
    parts: list[str | _Placeholder] = []
    position = 0
    while (found := _OPENING.search(text, position)) is not None:
        start = found.start()
        if start > position:
            parts.append(text[position:start])
        if found[0] == "{%":
            raise TemplateInvalid(
                f"Tags such as {{% if %}} or {{% for %}} are not supported, only placeholders "
                f'such as {{{{ ticket.subject }}}}; write {{{{ "{{%" }}}} for the text {{% '
                f"(at {_where(text, start)})."
            )
        end = text.find("}}", start + 2)
        if end == -1:
            raise TemplateInvalid(
                f'{{{{ is never closed with }}}}; write {{{{ "{{{{" }}}} for the text {{{{ '
                f"(at {_where(text, start)})."
            )
        parts.append(_parse_expression(text, start, end))
        position = end + 2
    if position < len(text):
        parts.append(text[position:])
    return parts


# --- validating and rendering -------------------------------------------------------------------


def template_error(text) -> str | None:
    """Why ``text`` is not a valid template, or None."""
    if not isinstance(text, str):
        return "Must be text."
    if len(text) > TEMPLATE_MAX_LENGTH:
        return f"Must be at most {TEMPLATE_MAX_LENGTH:,} characters."
    try:
        parse(text)
    except TemplateInvalid as exc:
        return f"Template error: {exc}"
    return None


def _value(part: _Placeholder, context: dict, budget: int) -> str:
    if part.name is None:
        value = part.literal
    else:
        group, key = part.name.split(".", 1)
        values = context.get(group, {})
        # A group may be given as a function, called only by a template that names it.
        value = (values() if callable(values) else values).get(key)
        value = "" if value is None else str(value)
    # Only as much as can still be shown is filtered: every filter keeps the beginning of its
    # text as it would be for the whole, so a 100,000-character description costs no more than
    # the message it ends in.
    value = value[: budget + 1]
    for spec, argument in part.filters:
        value = spec.apply(value, argument)[: budget + 1]
    return value


def _cap(text: str, cut: bool) -> str:
    if cut or len(text) > MESSAGE_MAX_LENGTH:
        return text[: MESSAGE_MAX_LENGTH - 1].rstrip() + "…"
    return text


def render(text: str, context: dict) -> str:
    """The rendered text, at most ``MESSAGE_MAX_LENGTH`` characters. A template that is not
    valid (saved before it was checked) is sent as written, never blocking the rule's other
    actions or the other rules of the event."""
    try:
        parts = parse(text)
    except TemplateInvalid:
        logger.warning("Rule message template is not valid, sent as written: %r", text[:200])
        return _cap(text.strip(), False)
    out: list[str] = []
    budget = MESSAGE_MAX_LENGTH
    for part in parts:
        value = part if isinstance(part, str) else _value(part, context, budget)
        out.append(value[: budget + 1])
        budget -= len(value)
        if budget < 0:
            break
    return _cap("".join(out).strip(), budget < 0)


def template_context(
    *, ticket, rule_name: str, event_type: str, survey: dict | None = None
) -> dict:
    """What placeholders say of a ticket. The contact is read only by a template that names
    it (most messages do not): a query saved on every routed event."""
    customer = ticket.customer
    salesperson = customer.salesperson

    def contact() -> dict:
        contact = ticket.contact
        return {"name": contact.name, "email": contact.email} if contact else {}

    return {
        "ticket": {
            "reference": ticket.reference,
            "subject": ticket.subject,
            "description": ticket.description,
            "kind": ticket.get_kind_display(),
            "status": ticket.get_status_display(),
            "priority": ticket.get_priority_display(),
            "product": ticket.product,
            "rma_number": ticket.rma_number or "",
        },
        "customer": {"name": customer.name},
        "contact": contact,
        "salesperson": {"name": str(salesperson)} if salesperson else {},
        "rule": {"name": rule_name},
        "event": {"type": event_type},
        # Set on a "survey answered" event only.
        "survey": {
            "score": str(survey["score"]),
            "category": survey.get("category", ""),
            "reason": survey.get("reason", ""),
        }
        if survey
        else {},
    }
