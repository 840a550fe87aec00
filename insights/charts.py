"""Geometry for the reports' charts, drawn as inline SVG by the templates (no script, no
build step). Each chart sits beside a table of the same numbers, which is what screen readers
and copying use; the chart itself is hidden from assistive technology."""

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

SLOT = 10  # SVG units per day
HEIGHT = 100


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass
class FlowChart:
    width: int
    height: int
    created: list[Bar]
    resolved: list[Bar]
    open_points: str  # the backlog line, as SVG polyline points
    most: int  # the value at the top of the chart

    def bars(self) -> SafeString:
        """The bars as SVG, written here rather than by a template loop or format_html: a year
        split by kind is some 3,000 of them, which those take a few hundred milliseconds to
        write. Every value is a number or a title made of a date and a number."""
        return mark_safe(  # noqa: S308 (numbers and ISO dates only)
            "".join(
                f'<rect class="{kind}" x="{bar.x}" y="{bar.y}" width="{bar.width}" '
                f'height="{bar.height}"><title>{bar.title}</title></rect>'
                for kind, bars in (("created", self.created), ("resolved", self.resolved))
                for bar in bars
            )
        )


def flow_chart(days) -> FlowChart:
    """Per day two bars side by side (created, resolved) and a line for the tickets open at
    the end of the day, on one scale from 0 to the largest of them."""
    most = max((max(d.created, d.resolved, d.open) for d in days), default=0) or 1

    def height(value: int) -> float:
        return round(HEIGHT * value / most, 2)

    created, resolved, points = [], [], []
    for index, day in enumerate(days):
        left = index * SLOT
        label = day.day.isoformat()
        created.append(
            Bar(
                left + 1,
                HEIGHT - height(day.created),
                4,
                height(day.created),
                f"{label}: {day.created} created",
            )
        )
        resolved.append(
            Bar(
                left + 5,
                HEIGHT - height(day.resolved),
                4,
                height(day.resolved),
                f"{label}: {day.resolved} resolved",
            )
        )
        points.append(f"{left + SLOT / 2:g},{HEIGHT - height(day.open):g}")
    return FlowChart(len(days) * SLOT, HEIGHT, created, resolved, " ".join(points), most)


@lru_cache(maxsize=4096)
def _day_label(day: date, language: str | None) -> str:
    # Keyed by the language too: the names of days and months are translated.
    return escape(date_format(day, "D j M Y"))


def day_rows(days) -> SafeString:
    """The rows of the table beside a flow chart (day, created, resolved, open at the end),
    for the same reason as FlowChart.bars."""
    language = get_language()
    return mark_safe(  # noqa: S308 (numbers and escaped day names only)
        "".join(
            f'<tr><td>{_day_label(d.day, language)}</td><td class="number">{d.created:d}</td>'
            f'<td class="number">{d.resolved:d}</td><td class="number">{d.open:d}</td></tr>'
            for d in days
        )
    )
