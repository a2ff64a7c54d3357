"""The historian rows one run reads, as SQL that the source database answers from its
timestamp index.

A run reads the rows of its window and the rows with no timestamp at all (read, then set
aside with their reason, rather than silently skipped). Written as one condition,
`(ts >= low and ts < high) or ts is null`, SQLite uses no index for it when the timestamp
column is declared NOT NULL (as the demo park's and the benchmark's are) and scans the
whole historian on every run: 1.1 s on a year of 100 turbines, on the daily run as on a
backfill, and growing with the historian's age. So each part is a SELECT of its own,
joined by UNION ALL, and each uses the index (or none at all where it cannot match).

A timestamp stored as text is placed by day only if it starts `YYYY-MM-DD` (text sorts
like time only then): a run also reads every row whose text does not (`02/10/2025 10:00`,
`2025/10/02`, a number, a leading space), so that such a row is rejected with its reason
rather than never read (`frames.unplaceable`). That test cannot use the timestamp index:
with a row id column, each run checks only the rows added since the last check (a range of
the primary key; the id checked through is kept in dlt's state); without one, every run
scans the historian for them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

__all__ = ["Parts", "any_row", "parts", "select_rows", "sql_bounds"]

# the conditions of a run's reads, one SELECT each
Parts = tuple[sa.ColumnElement[bool], ...]
# How a timestamp stored as text must start for the day filter to place it.
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DAY_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*"


def _iso_day(column: sa.Column, dialect: str) -> sa.ColumnElement[bool] | None:
    """SQL true when the column's value starts `YYYY-MM-DD` (None: the column is a
    native date or time type, which the filter always places)."""
    if dialect == "sqlite":
        return sa.and_(
            sa.func.typeof(column) == "text", column.op("GLOB")(sa.literal(_ISO_DAY_GLOB))
        )
    if isinstance(column.type, sa.DateTime | sa.Date):
        return None
    if dialect == "postgresql":
        return column.op("~")(sa.literal("^" + ISO_DAY.pattern))
    if dialect in ("mysql", "mariadb"):
        return column.op("REGEXP")(sa.literal("^" + ISO_DAY.pattern))
    return column.like("____-__-__%")


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


def parts(
    timestamp: sa.Column,
    start: datetime,
    end: datetime,
    dialect: str | None = None,
    new_rows: tuple[sa.Column, int, int] | None = None,
) -> Parts:
    """The window's rows (by the timestamp index), then the rows without a timestamp, then
    (when the `dialect` is given) the rows whose timestamp text the day filter cannot
    place. `new_rows` = (row id column, checked through, newest) limits that last part to
    the rows added since an earlier run checked them (a range of the primary key, not a
    scan of the whole historian on every run)."""
    low, high = sql_bounds(timestamp, start, end)
    in_range = sa.and_(timestamp >= low, timestamp < high)
    iso_day = _iso_day(timestamp, dialect) if dialect else None
    if iso_day is None:
        return (in_range, timestamp.is_(None))
    unplaceable = sa.and_(timestamp.is_not(None), sa.not_(iso_day))
    if new_rows is not None:
        row_id, checked_through, newest = new_rows
        unplaceable = sa.and_(row_id > checked_through, row_id <= newest, unplaceable)
    return (sa.and_(in_range, iso_day), timestamp.is_(None), unplaceable)


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
