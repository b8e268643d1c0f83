"""How a credential's use reads on its pages: when it was last used, and a chart of its use per day.

The chart is inline SVG drawn on the server (no JavaScript): every coordinate and every
word is computed here from the selector's `UsageEvidence`, which holds only numbers and
dates, so the template (credentials/includes/usage_chart.html) escapes everything it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timesince

from credentials.selectors import UsageEvidence

register = template.Library()

# How one of a series reads in a sentence: (one, many).
SERIES_NOUNS = {
    "Tokens issued": ("token issued", "tokens issued"),
    "Requests": ("request", "requests"),
}
DAY_FORMAT = "M j, Y"

# The chart's drawing, in SVG user units (the viewBox; CSS scales it to the page's width).
BAR_STEP = 6
BAR_WIDTH = 4
PLOT_LEFT = 34
PLOT_TOP = 10
PLOT_HEIGHT = 100
AXIS_LABELS = 22
# A day with any use shows at least this tall, so that one request is not invisible.
MIN_BAR_HEIGHT = 2


@register.filter
def ago(value: datetime | None) -> str:
    """`value` as time before now: "3 minutes ago", "2 days ago" (one unit, plain spaces)."""
    if value is None:
        return ""
    now = timezone.now()
    if now - value < timedelta(minutes=1):
        return "less than a minute ago"
    # timesince joins number and unit with a no-break space; the sentence reads the same.
    return f"{timesince(value, now, depth=1)} ago".replace("\xa0", " ")


def _nouns(series: str) -> tuple[str, str]:
    return SERIES_NOUNS.get(series, (series.lower(), series.lower()))


def count_of(series: str, count: int) -> str:
    """ "1 token issued", "12 tokens issued", "3 requests"."""
    one, many = _nouns(series)
    return f"{count:,} {one if count == 1 else many}"


def usage_summary(evidence: UsageEvidence) -> str:
    """One sentence of the chart's days: the total, and the busiest day (the latest, if tied)."""
    days = len(evidence.days)
    total = evidence.total
    if not total:
        return f"No {_nouns(evidence.series)[1]} in the last {days} days."
    peak = max(count for _, count in evidence.days)
    peak_day = next(day for day, count in reversed(evidence.days) if count == peak)
    return (
        f"{count_of(evidence.series, total)} in the last {days} days, "
        f"most on {date_format(peak_day, DAY_FORMAT)} ({peak:,})."
    )


@dataclass(frozen=True)
class Bar:
    """One day of the chart: where its bar goes and what its tooltip says."""

    day: date
    count: int
    x: float
    y: float
    height: float
    label: str


@dataclass(frozen=True)
class AxisLabel:
    x: float
    text: str
    anchor: str


@register.inclusion_tag("credentials/includes/usage_chart.html")
def usage_chart(evidence: UsageEvidence, chart_id: str = "usage-chart") -> dict[str, Any]:
    """The `evidence`'s use per day as bars, with a title, a one-sentence description and a
    table of the days that had any use (newest first) for those who cannot see the chart."""
    days = evidence.days
    peak = max((count for _, count in days), default=0)
    scale = PLOT_HEIGHT / peak if peak else 0.0
    baseline = PLOT_TOP + PLOT_HEIGHT
    bars = []
    for index, (day, count) in enumerate(days):
        if not count:
            continue
        height = round(max(count * scale, MIN_BAR_HEIGHT), 1)
        bars.append(
            Bar(
                day=day,
                count=count,
                x=PLOT_LEFT + index * BAR_STEP + (BAR_STEP - BAR_WIDTH) / 2,
                y=round(baseline - height, 1),
                height=height,
                label=f"{date_format(day, DAY_FORMAT)}: {count_of(evidence.series, count)}",
            )
        )
    plot_width = len(days) * BAR_STEP
    axis = []
    if days:
        axis = [
            AxisLabel(PLOT_LEFT, date_format(days[0][0], "M j"), "start"),
            AxisLabel(PLOT_LEFT + plot_width / 2, date_format(days[len(days) // 2][0], "M j"), "middle"),
            AxisLabel(PLOT_LEFT + plot_width, date_format(days[-1][0], "M j"), "end"),
        ]
    return {
        "chart_id": chart_id,
        "series": evidence.series,
        "title": f"{evidence.series} per day, last {len(days)} days",
        "summary": usage_summary(evidence),
        "total": evidence.total,
        "bars": bars,
        "busy_days": [(day, count) for day, count in reversed(days) if count],
        "peak": peak,
        "width": PLOT_LEFT + plot_width + 2,
        "height": baseline + AXIS_LABELS,
        "plot_left": PLOT_LEFT,
        "plot_right": PLOT_LEFT + plot_width,
        "plot_top": PLOT_TOP,
        "baseline": baseline,
        "bar_width": BAR_WIDTH,
        "axis": axis,
        "axis_y": baseline + AXIS_LABELS - 6,
        "value_x": PLOT_LEFT - 6,
    }


@register.inclusion_tag("credentials/includes/usage.html")
def usage_section(evidence: UsageEvidence, what: str) -> dict[str, Any]:
    """A detail page's Usage section: the chart, then the addresses `what` was used from."""
    return {"evidence": evidence, "what": what, "addresses_kept": settings.USAGE_ADDRESSES_KEPT}
