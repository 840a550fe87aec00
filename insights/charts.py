"""Geometry for the reports' charts, drawn as inline SVG by the templates (no script, no
build step). Each chart sits beside a table of the same numbers, which is what screen readers
and copying use; the chart itself is hidden from assistive technology."""

from dataclasses import dataclass

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
