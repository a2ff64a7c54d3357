"""Volume change against the usual: is a day's row count outside its recent range?

A daily feed that suddenly delivers a third of its rows, or twice as many, is the first
sign of a broken export or a duplicated load, long before a model fails. The usual range
of a day is read from the days just before it, robustly: the median of the last
`HISTORY_DAYS` days ± `MADS` median absolute deviations, so that one bad day in the
history does not widen the range for the next ones. When the history is flat (MAD 0,
e.g. always 144 periods a day) a tolerance of `TOLERANCE_PCT` % of the median keeps a
single missing period from being called an anomaly.

Pure functions on {day: rows}: `figures` reads the counts, this module judges them, and a
test recomputes the same median and MAD with PostgreSQL's `percentile_cont`.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

HISTORY_DAYS = 14
MIN_HISTORY_DAYS = 7
MADS = 3.0
TOLERANCE_PCT = 2.0


@dataclass(frozen=True)
class VolumeDay:
    """One day of one series: its rows and, when there is enough history, the usual range."""

    day: date
    rows: int
    history_days: int
    median: float | None = None
    mad: float | None = None

    @property
    def judged(self) -> bool:
        return self.median is not None

    @property
    def half_width(self) -> float | None:
        if self.median is None or self.mad is None:
            return None
        return max(MADS * self.mad, TOLERANCE_PCT / 100 * abs(self.median))

    @property
    def lower(self) -> float | None:
        width = self.half_width
        return None if width is None or self.median is None else self.median - width

    @property
    def upper(self) -> float | None:
        width = self.half_width
        return None if width is None or self.median is None else self.median + width

    @property
    def is_outside(self) -> bool:
        width = self.half_width
        if width is None or self.median is None:
            return False
        return abs(self.rows - self.median) > width


@dataclass(frozen=True)
class VolumeSeries:
    """Daily rows of one turbine or one raw table over the run's days, each day judged."""

    series: str  # what is counted: a turbine id or a raw table name
    kind: str  # "turbine" or "source"
    origin: str  # the table counted
    days: tuple[VolumeDay, ...]

    @property
    def judged_days(self) -> tuple[VolumeDay, ...]:
        return tuple(day for day in self.days if day.judged)

    @property
    def outside_days(self) -> tuple[VolumeDay, ...]:
        return tuple(day for day in self.days if day.is_outside)


def daily_counts(counts: Mapping[date, int], first: date, last: date) -> dict[date, int]:
    """Every day from `first` to `last`, zero where nothing was counted."""
    days = {}
    day = first
    while day <= last:
        days[day] = int(counts.get(day, 0))
        day += timedelta(days=1)
    return days


def judge(counts: Mapping[date, int], window: tuple[date, date]) -> tuple[VolumeDay, ...]:
    """Each day of `window` (inclusive) against the `HISTORY_DAYS` days before it.

    `counts` must hold every day of the series' span (zeros included, see `daily_counts`):
    a day absent from it is before the series began and is neither judged nor history.
    """
    start, end = window
    judged = []
    day = start
    while day <= end:
        if day in counts:
            history = [
                counts[day - timedelta(days=back)]
                for back in range(1, HISTORY_DAYS + 1)
                if day - timedelta(days=back) in counts
            ]
            if len(history) >= MIN_HISTORY_DAYS:
                median = float(statistics.median(history))
                mad = float(statistics.median(abs(value - median) for value in history))
                judged.append(VolumeDay(day, counts[day], len(history), median, mad))
            else:
                judged.append(VolumeDay(day, counts[day], len(history)))
        day += timedelta(days=1)
    return tuple(judged)
