"""Charts as inline SVG strings, computed in Python.

The page must open from disk with no network, so there is no charting library to fetch:
a histogram is a few dozen rectangles and lines, simple enough to write out directly and
to test as text. The SVG is written for inline use in HTML5 (no XML namespace needed),
sized by its viewBox so it scales with the page, and each bar carries its figures as
`data-*` attributes so tests read the numbers back from the rendered page. Every text
that reaches the SVG (titles, labels, tooltips: chart titles come from the language
catalogue, bin labels from the warehouse) is escaped by markupsafe, and the SVG is
returned as `Markup`, which the page's templates insert as it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

EMPTY = "no values to show"


def english_number(value: float) -> str:
    """Tick labels as English writes them; the page passes its language's own writer."""
    return f"{value:,.10g}"


def esc(value: object) -> str:
    """Text safe in an SVG text node and in a double-quoted attribute value."""
    return str(escape("" if value is None else value))


def attrs(**values: object) -> str:
    """` name="value"` pairs, escaped; `data_x` becomes `data-x`; None and False are left out."""
    parts = []
    for name, value in values.items():
        if value is None or value is False:
            continue
        name = name.rstrip("_").replace("_", "-")
        parts.append(f" {name}" if value is True else f' {name}="{esc(value)}"')
    return "".join(parts)


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
    empty_text: str = EMPTY,
    number: Callable[[float], str] = english_number,
) -> Markup:
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
            f"{esc(number(tick))}</text>"
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
            f"{esc(empty_text)}</text>"
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
    return Markup("".join(parts))  # noqa: S704 - every text in parts went through esc()


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


@dataclass(frozen=True)
class Point:
    """One scatter point in data units; `flagged` points are drawn in the warning colour."""

    x: float
    y: float
    flagged: bool = False


def _axis_ticks(low: float, high: float, target_ticks: int = 6) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2 or 5 × 10^k)."""
    span = high - low
    if span <= 0:
        return [low]
    raw = span / target_ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def scatter_svg(
    points: Sequence[Point],
    *,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    title: str,
    x_label: str,
    y_label: str,
    lines: Sequence[tuple[str, Sequence[tuple[float, float]]]] = (),
    chart_id: str = "scatter",
    frame: Frame | None = None,
    empty_text: str = EMPTY,
    number: Callable[[float], str] = english_number,
) -> Markup:
    """A scatter plot with grid, labelled axes, optional reference lines (name, points).

    Points outside the ranges are pinned to the nearest edge and get the class `clipped`,
    so that an absurd value still shows where it is, without squashing the others. Flagged
    points are drawn last, on top, in their own colour; every circle's class says which it
    is, so a test counts them in the rendered page.
    """
    frame = frame or Frame(height=420)
    (x_low, x_high), (y_low, y_high) = x_range, y_range

    def sx(value: float) -> float:
        return frame.left + frame.plot_width * (value - x_low) / (x_high - x_low)

    def sy(value: float) -> float:
        return frame.baseline - frame.plot_height * (value - y_low) / (y_high - y_low)

    title_id = f"{chart_id}-title"
    view_box = f"0 0 {frame.width} {frame.height}"
    parts = [
        f"<svg{attrs(id=chart_id, class_='chart scatter', viewBox=view_box)}"
        f"{attrs(role='img', aria_labelledby=title_id, preserveAspectRatio='xMidYMid meet')}>",
        f"<title{attrs(id=title_id)}>{esc(title)}</title>",
        '<g class="grid">',
    ]
    x_ticks, y_ticks_ = _axis_ticks(x_low, x_high), _axis_ticks(y_low, y_high)
    for tick in y_ticks_:
        ty = _fmt(sy(tick))
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{ty}" y2="{ty}"/>'
        )
    for tick in x_ticks:
        tx = _fmt(sx(tick))
        parts.append(f'<line x1="{tx}" x2="{tx}" y1="{frame.top}" y2="{_fmt(frame.baseline)}"/>')
    parts.append('</g><g class="y-ticks">')
    for tick in y_ticks_:
        parts.append(
            f'<text x="{frame.left - 8}" y="{_fmt(sy(tick) + 4)}" text-anchor="end">'
            f"{esc(number(tick))}</text>"
        )
    parts.append('</g><g class="x-ticks">')
    for tick in x_ticks:
        parts.append(
            f'<text x="{_fmt(sx(tick))}" y="{_fmt(frame.baseline + 18)}" '
            f'text-anchor="middle">{esc(f"{tick:.10g}")}</text>'
        )
    parts.append("</g>")
    for name, line in lines:
        inside = [(x, y) for x, y in line if x_low <= x <= x_high and y_low <= y <= y_high]
        if len(inside) < 2:
            continue
        path = " ".join(f"{_fmt(sx(x))},{_fmt(sy(y))}" for x, y in inside)
        parts.append(
            f"<polyline{attrs(class_='reference', points=path, data_line=name)}>"
            f"<title>{esc(name)}</title></polyline>"
        )
    parts.append('<g class="points">')
    for point in sorted(points, key=lambda p: p.flagged):
        x = min(max(point.x, x_low), x_high)
        y = min(max(point.y, y_low), y_high)
        css = "pt flagged" if point.flagged else "pt"
        if (x, y) != (point.x, point.y):
            css += " clipped"
        parts.append(f'<circle class="{css}" cx="{_fmt(sx(x))}" cy="{_fmt(sy(y))}" r="1.6"/>')
    parts.append("</g>")
    parts.append(
        f'<g class="axis"><line x1="{frame.left}" x2="{frame.width - frame.right}" '
        f'y1="{_fmt(frame.baseline)}" y2="{_fmt(frame.baseline)}"/>'
        f'<line x1="{frame.left}" x2="{frame.left}" y1="{frame.top}" '
        f'y2="{_fmt(frame.baseline)}"/></g>'
    )
    if not points:
        parts.append(
            f'<text class="empty" x="{_fmt(frame.left + frame.plot_width / 2)}" '
            f'y="{_fmt(frame.top + frame.plot_height / 2)}" text-anchor="middle">'
            f"{esc(empty_text)}</text>"
        )
    parts.append(
        f'<text class="axis-label" x="{_fmt(frame.left + frame.plot_width / 2)}" '
        f'y="{frame.height - 8}" text-anchor="middle">{esc(x_label)}</text>'
    )
    middle = _fmt(frame.top + frame.plot_height / 2)
    parts.append(
        f'<text class="axis-label" x="16" y="{middle}" text-anchor="middle" '
        f'transform="rotate(-90 16 {middle})">{esc(y_label)}</text></svg>'
    )
    return Markup("".join(parts))  # noqa: S704 - every text in parts went through esc()


def sparkline_svg(
    values: Sequence[float | None], *, label: str, width: int = 160, height: int = 32
) -> Markup:
    """A small line of a figure over the runs (oldest left), the last run marked by a dot.

    Runs without the figure leave a break in the line. The values are on the element as
    `data-values` (comma-separated, empty for unknown) for tests and other readers.
    """
    known = [v for v in values if v is not None]
    pad = 3.0
    data = ",".join("" if v is None else f"{v:g}" for v in values)
    parts = [
        f"<svg{attrs(class_='sparkline', viewBox=f'0 0 {width} {height}', role='img')}"
        f"{attrs(data_values=data, width=width, height=height)}><title>{esc(label)}</title>"
    ]
    if known:
        low, high = min(known), max(known)
        spread = (high - low) or 1.0
        count = len(values)

        def sx(index: int) -> float:
            return pad + (width - 2 * pad) * (index / (count - 1) if count > 1 else 0.5)

        def sy(value: float) -> float:
            if high == low:
                return height / 2
            return height - pad - (height - 2 * pad) * (value - low) / spread

        segment: list[str] = []
        segments: list[list[str]] = []
        for index, value in enumerate(values):
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{_fmt(sx(index))},{_fmt(sy(value))}")
        if segment:
            segments.append(segment)
        for points in segments:
            if len(points) > 1:
                parts.append(f'<polyline points="{" ".join(points)}"/>')
        last = len(values) - 1
        if values[last] is not None:
            parts.append(f'<circle cx="{_fmt(sx(last))}" cy="{_fmt(sy(values[last]))}" r="2.5"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in parts went through esc()
