"""How tickets' values read on pages: durations, field names."""

from django import template

register = template.Library()

FIELD_LABELS = {
    "root_cause": "root cause",
    "rma_serial_number": "serial number",
    "rma_order_number": "order number",
    "rma_reason": "return reason",
    "related": "linked to",
}


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


@register.filter
def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " "))


@register.filter
def get_item(mapping, key: str):
    """``mapping[key]`` in a template (a QueryDict gives its last value)."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
