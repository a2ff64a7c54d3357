"""The historian rows one run reads, as SQL that the source database answers from its
timestamp index.

A run reads the rows of its window and the rows with no timestamp at all (read, then set
aside with their reason, rather than silently skipped). Written as one condition,
`(ts >= low and ts < high) or ts is null`, SQLite uses no index for it when the timestamp
column is declared NOT NULL (as the demo park's and the benchmark's are) and scans the
whole historian on every run: 1.1 s on a year of 100 turbines, on the daily run as on a
backfill, and growing with the historian's age. So each part is a SELECT of its own,
joined by UNION ALL, and each uses the index (or none at all where it cannot match).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

__all__ = ["Parts", "any_row", "parts", "select_rows", "sql_bounds"]

# the conditions of a run's reads, one SELECT each
Parts = tuple[sa.ColumnElement[bool], ...]


def sql_bounds(column: sa.Column, start: datetime, end: datetime) -> tuple[object, object]:
    """Bounds for the SQL filter, a day wider than the window on each side: the stored
    values may be local times or text. The exact filter is applied after parsing, in UTC."""
    low, high = start - timedelta(days=1), end + timedelta(days=1)
    if isinstance(column.type, sa.DateTime):
        if column.type.timezone:
            return low.replace(tzinfo=UTC), high.replace(tzinfo=UTC)
        return low, high
    if isinstance(column.type, sa.Date):
        return low.date(), high.date()
    return low.strftime("%Y-%m-%d"), high.strftime("%Y-%m-%d")


def parts(timestamp: sa.Column, start: datetime, end: datetime) -> Parts:
    """The window's rows (by the timestamp index), then the rows without a timestamp."""
    low, high = sql_bounds(timestamp, start, end)
    return (sa.and_(timestamp >= low, timestamp < high), timestamp.is_(None))


def select_rows(
    columns: Sequence[sa.ColumnElement], window: Parts, order: Sequence[str]
) -> sa.Select | sa.CompoundSelect:
    """`columns` of every part's rows, ordered by the result columns named in `order`
    (none: in the order the database finds them)."""
    selects = [sa.select(*columns).where(part) for part in window]
    query: sa.Select | sa.CompoundSelect = (
        selects[0] if len(selects) == 1 else sa.union_all(*selects)
    )
    return query.order_by(*[query.selected_columns[name] for name in order])


def any_row(window: Parts, condition: sa.ColumnElement[bool]) -> sa.Select:
    """True when a row of the window meets `condition`."""
    return sa.select(sa.or_(*[sa.exists().where(part, condition) for part in window]))
