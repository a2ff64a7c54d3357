"""Historian rows to canonical frames, chunk by chunk: timestamps to UTC, units converted,
narrow (tag, value) rows pivoted to the wide shape, unreadable rows set aside with why.

Every function here works on one pandas chunk, so memory is bounded by the chunk size
whatever the table's size. A chunk gives a `clean` frame (one row per turbine and period,
every canonical average present) and a `rejected` frame (one row per source row that could
not be read, with the source row as JSON and the reason).

Local time, deterministically (the rule of the CSV exports, docs/sources.md): a naive
timestamp in a zone with daylight saving time is read in that zone; the repeated autumn
hour is summer time for the first row of a turbine at that wall-clock time and winter time
for the next one (source order); a wall-clock time in the missing spring hour is read with
the offset in force before the change (02:30 → 01:30 UTC).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from loaders.signals import canonical_columns
from loaders.sources.sensor_db.mapping import HistorianMapping
from loaders.sources.sensor_db.window import ISO_DAY
from loaders.sources.untrusted import CONTROL_PATTERN, printable

# A time, then an offset: an aware ISO timestamp (a bare date's "-01" is not an offset).
_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
# What historians write for "no value": read as null, not as an unreadable value.
_NULL_TEXTS = frozenset({"", "nan", "null", "none", "na", "-nan"})


@dataclass
class SensorDbStats:
    """What the source saw, for the run's audit row and the count invariant.

    Wide layout: rows_read = rows_loaded + rows_rejected. Narrow layout (one source row per
    tag value): rows_read = values_loaded + rows_rejected + rows_unmapped, and rows_loaded
    counts the pivoted rows written.
    """

    layout: str = "wide"
    reader: str = "pandas"  # "arrow" when the fast path (arrow_reader) read the window
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    values_loaded: int = 0
    rows_unmapped: int = 0
    unmapped_columns: list[str] = field(default_factory=list)
    unmapped_tags: dict[str, int] = field(default_factory=dict)
    tables_skipped: dict[str, str] = field(default_factory=dict)
    # (turbine, UTC day) -> rows rejected there whose turbine and time were readable: a
    # window none of whose rows landed makes the run partial (load.fully_rejected_windows)
    rejected_windows: dict[tuple[str, str], int] = field(default_factory=dict)
    # the alarm rows of the run's read that landed, and those rejected whose start lies in
    # the window: too few a day for per-day windows, so a read that rejected such rows and
    # landed none makes the run partial as a whole
    alarms_loaded: int = 0
    alarms_rejected: int = 0

    def count_rejected_windows(self, turbines: pd.Series, days: pd.Series) -> None:
        """Add rejected rows to `rejected_windows` (rows with a null turbine or day are
        not in a window: a single unreadable row is not a day without data)."""
        placed = pd.DataFrame({"turbine": turbines, "day": days}).dropna()
        for (turbine, day), count in placed.value_counts().items():
            key = (str(turbine), f"{day}")
            self.rejected_windows[key] = self.rejected_windows.get(key, 0) + int(count)


def _parse(text: pd.Series, *, utc: bool) -> pd.Series:
    """ISO 8601 fast, then whatever pandas recognises for the values ISO could not read."""
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=utc)
    retry = parsed.isna() & text.notna()
    if retry.any():
        again = pd.to_datetime(text[retry], format="mixed", errors="coerce", utc=utc)
        parsed = pd.concat([parsed[~retry], again]).reindex(text.index)
    return parsed


def _localise(naive: pd.Series, zone: str, series_keys: pd.DataFrame) -> pd.Series:
    """Naive wall-clock times of `zone` in UTC. In the repeated autumn hour the first row of
    a series (turbine, and tag for a narrow historian) at a wall-clock time is summer time,
    the next one winter time."""
    if zone.upper() == "UTC":
        return naive.dt.tz_localize("UTC")
    keys = series_keys.reset_index(drop=True).assign(_at=naive.to_numpy())
    first = ~keys.duplicated()
    return naive.dt.tz_localize(
        zone, ambiguous=first.to_numpy(), nonexistent=pd.Timedelta(hours=1)
    ).dt.tz_convert("UTC")


def to_utc(
    values: pd.Series, zone: str, series_keys: pd.DataFrame, text_format: str = ""
) -> pd.Series:
    """Timestamps as UTC: aware values (offset in the text, or a timestamptz column) are
    converted; naive ones are read in `zone` (the mapping's unit of `measured_at`). Text
    in `text_format` (strptime, park.yaml's timestamp_format) is read in that format only.
    `series_keys` (same index) names each row's series, for the repeated autumn hour.
    Unparseable values become NaT, for the caller to reject."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return _localise(values, zone, series_keys)
    text = values.astype("string").str.strip()
    if text_format:
        parsed = pd.to_datetime(text, format=text_format, errors="coerce")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            return parsed.dt.tz_convert("UTC")
        return _localise(parsed, zone, series_keys)
    aware = text.str.contains(_OFFSET, regex=True, na=False)
    parts = []
    if aware.any():
        parts.append(_parse(text[aware], utc=True))
    if (~aware).any():
        naive = _parse(text[~aware], utc=False)
        if isinstance(naive.dtype, pd.DatetimeTZDtype):  # mixed content pandas made aware
            parts.append(naive.dt.tz_convert("UTC"))
        else:
            parts.append(_localise(naive, zone, series_keys[~aware]))
    if not parts:
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    return pd.concat(parts).reindex(values.index)


def unplaceable(values: pd.Series) -> pd.Series:
    """Timestamps stored as text (or numbers) that do not start `YYYY-MM-DD`: the run's day
    filter cannot place them (window.parts reads them apart), so they are rejected
    whatever they would parse to: never loaded under a day that was not asked for."""
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
        values.dtype
    ):
        return pd.Series(False, index=values.index)
    iso = values.astype("string").str.match(ISO_DAY.pattern, na=True).astype(bool)
    return values.notna() & ~iso


UNPLACEABLE = (
    "timestamp not written YYYY-MM-DD hh:mm (the form the historian is read by day in): "
    "fix the row in the source"
)


def has_control_character(texts: pd.Series) -> pd.Series:
    """Mask of the texts holding a control character (untrusted.CONTROL): PostgreSQL
    refuses NUL, and one such value would fail the whole load."""
    return texts.astype("string").str.contains(CONTROL_PATTERN, regex=True, na=False)


def to_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(float values, mask of values that are present but not numbers)."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64"), pd.Series(False, index=values.index)
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    text = values.astype("string").str.strip().str.lower()
    unreadable = numbers.isna() & text.notna() & ~text.isin(_NULL_TEXTS)
    return numbers, unreadable


def reasons_for(index: pd.Index, problems: list[tuple[pd.Series, str]]) -> pd.Series:
    """One text per row joining the messages whose mask is true; empty when none is."""
    reasons = pd.Series("", index=index, dtype="object")
    for mask, message in problems:
        if mask.any():
            reasons = reasons.where(~mask, reasons + "; " + message)
    return reasons.str.removeprefix("; ")


def reload_days(times: pd.Series, placed: pd.Series) -> pd.Series:
    """The UTC day of each time where `placed` (the row is read again by every run of that
    day), else null: the day a rejected row is replaced by (sensor_db.rejected)."""
    days = pd.Series(times.dt.date, index=times.index, dtype="object").where(placed)
    return pd.Series(pd.array(days, dtype=pd.ArrowDtype(pa.date32())), index=times.index)


def rejected_rows(
    source: pd.DataFrame,
    reasons: pd.Series,
    table: str,
    row_ids: pd.Series | None = None,
    days: tuple[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """Source rows set aside: each as JSON with the reason. The key hashes the table, the row
    and its occurrence number among identical rows, so that exact duplicates are all kept
    and a re-run upserts the same keys. `days`: (column, the reload day of each row, null
    where the day filter cannot place it), so that a later read of that day replaces it
    as it replaces the day's clean rows."""
    records = [
        json.dumps(record, default=str, sort_keys=True)
        for record in source.to_dict(orient="records")
    ]
    occurrence = pd.Series(records, dtype="object").groupby(records).cumcount().tolist()
    hashes = [
        hashlib.sha256(f"{table}\n{record}\n{n}".encode()).hexdigest()
        for record, n in zip(records, occurrence, strict=True)
    ]
    if row_ids is None:
        ids = pd.to_numeric(source.get("id", pd.Series(index=source.index)), errors="coerce")
        row_ids = ids.astype("Int64")
    frame = pd.DataFrame(
        {
            "source_row_id": pd.array(row_ids, dtype="Int64"),
            "raw_record": records,
            "reason": reasons.to_numpy(),
            "_record_hash": hashes,
            "_source_table": table,
        }
    )
    if days is not None:
        column, values = days
        frame[column] = pd.array(values, dtype=pd.ArrowDtype(pa.date32()))
    return frame


def _with_every_signal(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """The canonical shape: keys, every statistic of every canonical signal (null where not
    mapped), then the reload key and the origin."""
    missing = [column for column in canonical_columns() if column not in frame]
    nulls = pd.DataFrame(np.nan, index=frame.index, columns=missing, dtype="float64")
    frame = pd.concat([frame, nulls], axis=1)
    frame = frame[["source_row_id", "turbine_id", "measured_at", *canonical_columns()]]
    frame = frame.copy()
    frame["measured_date"] = frame["measured_at"].dt.date
    frame["_source_table"] = table
    return frame


def _row_ids(chunk: pd.DataFrame, mapping: HistorianMapping) -> pd.Series:
    if mapping.row_id_column:
        return pd.to_numeric(chunk[mapping.row_id_column], errors="coerce").astype("Int64")
    return pd.Series(pd.array([None] * len(chunk), dtype="Int64"), index=chunk.index)


def _keys(
    chunk: pd.DataFrame, mapping: HistorianMapping
) -> tuple[pd.Series, pd.Series, pd.Series, list[tuple[pd.Series, str]]]:
    """(turbine ids, UTC times, mask of the timestamps the day filter cannot place, the
    problems of the keys)."""
    turbines = chunk[mapping.turbine_column].astype("string").str.strip()
    series = pd.DataFrame({"turbine": turbines})
    if mapping.tag_column:
        series["tag"] = chunk[mapping.tag_column].astype("string").str.strip()
    stamps = chunk[mapping.timestamp_column]
    measured_at = to_utc(stamps, mapping.timestamp_zone, series, mapping.timestamp_format)
    # a park that names its own timestamp format is read whole and placed once parsed
    misplaced = (
        pd.Series(False, index=stamps.index) if mapping.timestamp_format else unplaceable(stamps)
    )
    problems = [
        (measured_at.isna(), "timestamp missing or not parseable"),
        (misplaced & measured_at.notna(), UNPLACEABLE),
        (turbines.isna() | (turbines == ""), "turbine id missing"),
        (has_control_character(turbines), "turbine id holds a control character"),
    ]
    return turbines, measured_at, misplaced, problems


def _rejected_days(
    stats: SensorDbStats,
    turbines: pd.Series,
    measured_at: pd.Series,
    placed: pd.Series,
    rejected: pd.Series,
) -> tuple[str, pd.Series]:
    """The rejected rows' reload days (`placed`: in the window, by a timestamp the day
    filter reads), counted per turbine and day where the turbine id is readable. Only the
    rejected rows are looked at: the chunk's other rows are the loader's hot path."""
    days = reload_days(measured_at[rejected], placed[rejected])
    turbines = turbines[rejected]
    readable = ~(turbines.isna() | (turbines == "") | has_control_character(turbines))
    stats.count_rejected_windows(turbines.where(readable), days)
    return "measured_date", days


def wide_chunk(
    chunk: pd.DataFrame,
    mapping: HistorianMapping,
    table: str,
    window: tuple[pd.Timestamp, pd.Timestamp],
    stats: SensorDbStats,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(clean, rejected) for a chunk of a wide historian (one column per signal)."""
    turbines, measured_at, misplaced, problems = _keys(chunk, mapping)
    row_ids = _row_ids(chunk, mapping)
    frame = pd.DataFrame(
        {"source_row_id": row_ids, "turbine_id": turbines, "measured_at": measured_at}
    )
    for signal in mapping.signals:
        values, unreadable = to_numbers(chunk[signal.source_name])
        frame[signal.canonical_name] = signal.convert(values) if signal.convert else values
        problems.append((unreadable, f"{signal.source_name}: not a number"))
    reasons = reasons_for(chunk.index, problems)
    in_window = (measured_at >= window[0]) & (measured_at < window[1])
    # a row of another day (the SQL filter is a day wider) is that day's business
    rejected = (reasons != "") & (in_window | measured_at.isna() | misplaced)
    keep = (reasons == "") & in_window
    stats.rows_read += int((rejected | keep).sum())
    stats.rows_rejected += int(rejected.sum())
    stats.rows_loaded += int(keep.sum())
    clean = _with_every_signal(frame.loc[keep], table)
    days = _rejected_days(stats, turbines, measured_at, in_window & ~misplaced, rejected)
    return clean, rejected_rows(
        chunk.loc[rejected], reasons[rejected], table, row_ids[rejected], days
    )


def narrow_chunk(
    chunk: pd.DataFrame,
    mapping: HistorianMapping,
    table: str,
    window: tuple[pd.Timestamp, pd.Timestamp],
    stats: SensorDbStats,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(clean, rejected) for a chunk of a narrow historian (turbine, tag, timestamp, value),
    pivoted to one row per turbine and period. Tags the mapping does not know are counted
    in `stats.unmapped_tags` (reported, not loaded); a second value of the same tag for the
    same turbine and period is rejected (the first one, in source order, is kept)."""
    assert mapping.tag_column and mapping.value_column
    turbines, measured_at, misplaced, problems = _keys(chunk, mapping)
    row_ids = _row_ids(chunk, mapping)
    tags = chunk[mapping.tag_column].astype("string").str.strip()
    by_tag = {signal.source_name: signal for signal in mapping.signals}
    mapped = tags.isin(list(by_tag))
    values, unreadable = to_numbers(chunk[mapping.value_column])
    problems.append((unreadable & mapped, "value is not a number"))
    reasons = reasons_for(chunk.index, problems)
    in_window = (measured_at >= window[0]) & (measured_at < window[1])
    unmapped = ~mapped & (in_window | measured_at.isna() | misplaced)
    candidate = mapped & in_window & (reasons == "")
    duplicate = pd.Series(False, index=chunk.index)
    duplicate[candidate] = pd.DataFrame(
        {"turbine": turbines[candidate], "at": measured_at[candidate], "tag": tags[candidate]}
    ).duplicated()
    reasons = reasons.where(
        ~duplicate, "another value of this tag for this turbine and period came first"
    )
    rejected = mapped & (reasons != "") & (in_window | measured_at.isna() | misplaced)
    keep = candidate & ~duplicate
    for tag, count in tags[unmapped].value_counts().items():
        shown = printable(str(tag))
        stats.unmapped_tags[shown] = stats.unmapped_tags.get(shown, 0) + int(count)
    stats.rows_read += int((rejected | keep | unmapped).sum())
    stats.rows_rejected += int(rejected.sum())
    stats.rows_unmapped += int(unmapped.sum())
    stats.values_loaded += int(keep.sum())

    converted = values.copy()
    for tag, signal in by_tag.items():
        selected = keep & (tags == tag)
        if signal.convert and selected.any():
            converted[selected] = signal.convert(values[selected])
    long = pd.DataFrame(
        {
            "turbine_id": turbines[keep],
            "measured_at": measured_at[keep],
            "signal": tags[keep].map(lambda tag: by_tag[tag].canonical_name),
            "value": converted[keep],
        }
    )
    wide = long.pivot(index=["turbine_id", "measured_at"], columns="signal", values="value")
    wide = wide.reset_index()
    wide.columns.name = None
    wide.insert(0, "source_row_id", pd.array([None] * len(wide), dtype="Int64"))
    stats.rows_loaded += len(wide)
    clean = _with_every_signal(wide, table)
    days = _rejected_days(stats, turbines, measured_at, in_window & ~misplaced, rejected)
    return clean, rejected_rows(
        chunk.loc[rejected], reasons[rejected], table, row_ids[rejected], days
    )


def regroup_by_timestamp(chunks: Iterator[pd.DataFrame], column: str) -> Iterator[pd.DataFrame]:
    """Chunks (ordered by `column`) whose last timestamp is held back for the next chunk, so
    that every value of a turbine's period is pivoted together."""
    pending: pd.DataFrame | None = None
    for chunk in chunks:
        if pending is not None and len(pending):
            chunk = pd.concat([pending, chunk], ignore_index=True)
        if not len(chunk):
            continue
        last = chunk[column].iloc[-1]
        held = (chunk[column] == last) | (chunk[column].isna() & pd.isna(last))
        pending = chunk[held]
        if (~held).any():
            yield chunk[~held]
    if pending is not None and len(pending):
        yield pending
