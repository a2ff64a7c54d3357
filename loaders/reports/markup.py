"""Tiny HTML helpers shared by the chart and page builders.

Every value that reaches the page goes through `esc` (text and attribute values alike):
run ids, error messages and rejected lines come from outside and may hold `<`, `&` or
quotes. Keeping the one escaping function here makes "is this escaped?" easy to audit.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta


def esc(value: object) -> str:
    """Text safe in an HTML text node and in a double-quoted attribute value."""
    return html.escape("" if value is None else str(value), quote=True)


def attrs(**values: object) -> str:
    """` name="value"` pairs, escaped; `data_x` becomes `data-x`; None and False are left out."""
    parts = []
    for name, value in values.items():
        if value is None or value is False:
            continue
        name = name.rstrip("_").replace("_", "-")
        parts.append(f" {name}" if value is True else f' {name}="{esc(value)}"')
    return "".join(parts)


def number(value: int | None) -> str:
    """12345 → '12,345'; None → '—' (figure not available)."""
    return "—" if value is None else f"{value:,}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} %"


def timestamp(value: datetime | None) -> str:
    """A UTC timestamp as the page shows it (the warehouse keeps every time in UTC)."""
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(value: timedelta | None) -> str:
    """A run's length, `1 h 02 min 03 s`, `4 min 05 s` or `7.2 s`."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s"


def table(head: Sequence[tuple[str, bool]], rows: Iterable[str], **table_attrs: object) -> str:
    """A table from a header (label, is_numeric) and already rendered `<tr>` rows."""
    header = "".join(
        f"<th{attrs(class_='num' if numeric else None)}>{esc(label)}</th>"
        for label, numeric in head
    )
    return (
        f"<table{attrs(**table_attrs)}><thead><tr>{header}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def num_cell(value: int | None, **cell_attrs: object) -> str:
    return f"<td{attrs(class_='num', **cell_attrs)}>{esc(number(value))}</td>"
