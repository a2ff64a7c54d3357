"""Charts as inline SVG strings, computed in Python.

The page must open from disk with no network, so there is no charting library to fetch:
a histogram is a few dozen rectangles and lines, simple enough to write out directly and
to test as text. The SVG is written for inline use in HTML5 (no XML namespace needed),
sized by its viewBox so it scales with the page, and each bar carries its figures as
`data-*` attributes so tests read the numbers back from the rendered page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from loaders.quality_report.markup import attrs, esc


@dataclass(frozen=True)
class Bar:
    """One histogram bar: its label, its count, and its numeric edges when it has them."""

    label: str
    value: int
    lower: float | None = None
    upper: float | None = None


@dataclass(frozen=True)
class Frame:
    """The plot area inside the SVG, in SVG user units."""

    width: int = 760
    height: int = 320
    left: int = 72
    right: int = 16
    top: int = 16
    bottom: int = 64

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom

    @property
    def baseline(self) -> float:
        return self.height - self.bottom


def nice_step(maximum: float, target_ticks: int = 5) -> int:
    """A tick step of 1, 2 or 5 × 10^k giving about `target_ticks` ticks up to `maximum`."""
    if maximum <= 0:
        return 1
    raw = maximum / target_ticks
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for multiple in (1, 2, 5, 10):
        if multiple * magnitude >= raw:
            return max(1, int(multiple * magnitude))
    return max(1, int(10 * magnitude))  # pragma: no cover - the loop always returns


def y_ticks(maximum: int, target_ticks: int = 5) -> list[int]:
    """Tick values from 0 to the first multiple of the step at or above `maximum`."""
    step = nice_step(maximum, target_ticks)
    top = max(step, math.ceil(maximum / step) * step)
    return list(range(0, top + 1, step))


def _edge(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _fmt(value: float) -> str:
    """SVG coordinates with at most 2 decimals: shorter markup, stable tests."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def histogram_svg(
    bars: Sequence[Bar],
    *,
    title: str,
    x_label: str,
    y_label: str,
    unit: str = "",
    value_noun: str = "",
    chart_id: str = "histogram",
    frame: Frame | None = None,
) -> str:
    """A bar histogram with y grid lines, labelled axes and a tooltip on each bar.

    X ticks sit on the bin edges when bars have numeric edges (a histogram's natural
    axis); open bins ('< 0', '>= 30') get their label under the bar instead.
    """
    frame = frame or Frame()
    maximum = max((bar.value for bar in bars), default=0)
    ticks = y_ticks(maximum)
    top_value = ticks[-1]

    def y(value: float) -> float:
        return frame.baseline - frame.plot_height * value / top_value

    title_id = f"{chart_id}-title"
    parts = [
        f"<svg{attrs(id=chart_id, class_='chart', viewBox=f'0 0 {frame.width} {frame.height}')}"
        f"{attrs(role='img', aria_labelledby=title_id, preserveAspectRatio='xMidYMid meet')}>",
        f"<title{attrs(id=title_id)}>{esc(title)}</title>",
    ]
    # Horizontal grid and y tick labels.
    parts.append('<g class="grid">')
    for tick in ticks:
        ty = _fmt(y(tick))
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{ty}" y2="{ty}"/>'
        )
    parts.append("</g>")
    parts.append('<g class="y-ticks">')
    for tick in ticks:
        parts.append(
            f'<text x="{frame.left - 8}" y="{_fmt(y(tick) + 4)}" text-anchor="end">'
            f"{esc(f'{tick:,}')}</text>"
        )
    parts.append("</g>")
    # Bars.
    count = max(1, len(bars))
    slot = frame.plot_width / count
    gap = min(2.0, slot * 0.15)
    parts.append('<g class="bars">')
    for position, bar in enumerate(bars):
        x = frame.left + position * slot
        height = frame.baseline - y(bar.value)
        tooltip = f"{bar.label} {unit}: {bar.value:,} {value_noun}".replace("  ", " ").strip()
        parts.append(
            f"<rect{attrs(class_='bar', x=_fmt(x + gap / 2), y=_fmt(y(bar.value)))}"
            f"{attrs(width=_fmt(slot - gap), height=_fmt(height))}"
            f"{attrs(data_bin=bar.label, data_count=bar.value)}>"
            f"<title>{esc(tooltip)}</title></rect>"
        )
    parts.append("</g>")
    # Axes.
    parts.append(
        f'<g class="axis"><line x1="{frame.left}" x2="{frame.width - frame.right}" '
        f'y1="{_fmt(frame.baseline)}" y2="{_fmt(frame.baseline)}"/>'
        f'<line x1="{frame.left}" x2="{frame.left}" y1="{frame.top}" '
        f'y2="{_fmt(frame.baseline)}"/></g>'
    )
    parts.append(_x_ticks(bars, frame, slot))
    if maximum == 0:
        parts.append(
            f'<text class="empty" x="{_fmt(frame.left + frame.plot_width / 2)}" '
            f'y="{_fmt(frame.top + frame.plot_height / 2)}" text-anchor="middle">'
            "no values to show</text>"
        )
    # Axis titles.
    parts.append(
        f'<text class="axis-label" x="{_fmt(frame.left + frame.plot_width / 2)}" '
        f'y="{frame.height - 8}" text-anchor="middle">{esc(x_label)}</text>'
    )
    middle = _fmt(frame.top + frame.plot_height / 2)
    parts.append(
        f'<text class="axis-label" x="16" y="{middle}" text-anchor="middle" '
        f'transform="rotate(-90 16 {middle})">{esc(y_label)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _x_ticks(bars: Sequence[Bar], frame: Frame, slot: float) -> str:
    """Edge ticks for bins with numeric edges; open bins are labelled under their bar, one
    line lower so that their label never collides with the neighbouring edge's number."""
    every = max(1, math.ceil(len(bars) / 32))
    label_y = _fmt(frame.baseline + 18)
    open_label_y = _fmt(frame.baseline + 33)
    tick_top, tick_bottom = _fmt(frame.baseline), _fmt(frame.baseline + 5)
    parts = ['<g class="x-ticks">']
    for position, bar in enumerate(bars):
        left = frame.left + position * slot
        if bar.lower is None or bar.upper is None:
            parts.append(
                f'<text class="open-bin" x="{_fmt(left + slot / 2)}" y="{open_label_y}" '
                f'text-anchor="middle">{esc(bar.label)}</text>'
            )
            continue
        edges = [(left, bar.lower)]
        following = bars[position + 1] if position + 1 < len(bars) else None
        if (
            following is None
            or following.lower is None
            or following.upper is None
            or following.lower != bar.upper
        ):
            edges.append((left + slot, bar.upper))
        for edge_x, value in edges:
            if (position % every) and (edge_x, value) == edges[0]:
                continue
            ex = _fmt(edge_x)
            parts.append(
                f'<line x1="{ex}" x2="{ex}" y1="{tick_top}" y2="{tick_bottom}"/>'
                f'<text x="{ex}" y="{label_y}" text-anchor="middle">{esc(_edge(value))}</text>'
            )
    parts.append("</g>")
    return "".join(parts)
