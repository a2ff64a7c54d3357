"""Rejected rows follow their source: after a load, the rejected rows it supersedes go, and
the windows (for the alarms, the read) it could not land a single row of are named.

The count invariant (source rows = rows landed + rows rejected) must hold after a
correction too, not only after the first read. A row landed is replaced when its day is
read again (delete-insert on the day and source table); a rejected row is upserted by the
hash of its content, so a corrected row (another hash) would leave the earlier one behind
for good. The same rule as the CSV exports' (a new version of a file replaces its rows,
clean and rejected alike) therefore applies, with the sensor loader's units: a rejected
row of an earlier load goes when this load read

- its day again (`measured_date` / `started_date`: the day of a timestamp the day filter
  places in the window, null otherwise): every source row of that day was read, and each
  is now landed or rejected again; a row deleted from the source goes too;
- its source row again (same `_source_table` and `source_row_id`), landed or rejected:
  this covers the rows without a day (a missing or unplaceable timestamp, now corrected)
  and a row whose timestamp moved to a day outside this window.

A table without a row id column gives its dayless rejected rows nothing to be matched by:
they stay until removed by hand (docs/sources.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from psycopg2 import sql

from loaders.sources.landing import RAW_DATASET

# (turbine, UTC day) windows named in the run's error; the audit row's details have all
SHOWN_WINDOWS = 10


@dataclass(frozen=True)
class RejectedTable:
    """A raw table of rejected rows, the clean table of the same source rows, and the
    reload-day column they share."""

    rejected: str
    clean: str
    day: str


MEASUREMENTS = RejectedTable("scada_measurements__rejected", "scada_measurements", "measured_date")
ALARMS = RejectedTable("scada_alarms__rejected", "scada_alarms", "started_date")


def _columns(cursor, table: str) -> set[str]:  # noqa: ANN001
    """The columns of raw.<table> (empty when dlt has not created it)."""
    cursor.execute(
        "select column_name from information_schema.columns "
        "where table_schema = %s and table_name = %s",
        (RAW_DATASET, table),
    )
    return {name for (name,) in cursor.fetchall()}


def purge_superseded(
    connection,  # noqa: ANN001
    table: RejectedTable,
    source_table: str,
    days: tuple[date, date],
    load_ids: list[str],
) -> int:
    """Delete the rejected rows of earlier loads that the loads `load_ids` read again:
    those of the days [days[0], days[1]) and those of a source row these loads landed or
    rejected again. Returns the number of rows deleted."""
    deleted = 0
    with connection.cursor() as cursor:
        rejected_columns = _columns(cursor, table.rejected)
        if not rejected_columns:
            return 0
        rejected = sql.Identifier(RAW_DATASET, table.rejected)
        params = {
            "table": source_table,
            "loads": load_ids,
            "first": days[0],
            "end": days[1],
        }
        if table.day in rejected_columns:  # absent until a row with a day was rejected
            cursor.execute(
                sql.SQL(
                    "delete from {rejected} where _source_table = %(table)s "
                    "and {day} >= %(first)s and {day} < %(end)s "
                    "and not _dlt_load_id = any(%(loads)s)"
                ).format(rejected=rejected, day=sql.Identifier(table.day)),
                params,
            )
            deleted += cursor.rowcount
        # the source rows these loads read: rejected again, or landed (reading what a
        # backfill landed costs seconds: not when no earlier rejected row is left)
        cursor.execute(
            sql.SQL(
                "select exists (select from {rejected} where _source_table = %(table)s "
                "and not _dlt_load_id = any(%(loads)s))"
            ).format(rejected=rejected),
            params,
        )
        if not cursor.fetchone()[0]:
            connection.commit()
            return deleted
        read_in = [rejected]
        if "source_row_id" in _columns(cursor, table.clean):
            read_in.append(sql.Identifier(RAW_DATASET, table.clean))
        read = sql.SQL(" union all ").join(
            sql.SQL(
                "select source_row_id from {} where _source_table = %(table)s "
                "and _dlt_load_id = any(%(loads)s)"
            ).format(relation)
            for relation in read_in
        )
        cursor.execute(
            sql.SQL(
                "delete from {rejected} where _source_table = %(table)s "
                "and not _dlt_load_id = any(%(loads)s) and source_row_id in ({read})"
            ).format(rejected=rejected, read=read),
            params,
        )
        deleted += cursor.rowcount
    connection.commit()
    return deleted


def fully_rejected_windows(
    connection,  # noqa: ANN001
    source_table: str,
    windows: dict[tuple[str, str], int],
) -> list[tuple[str, str, int]]:
    """The (turbine, UTC day, rows rejected) windows with rejected rows and not a single
    row in raw.scada_measurements from `source_table`: the day was read whole (the
    reload unit), so nothing of it landed."""
    if not windows:
        return []
    keys = sorted(windows, key=lambda key: (key[1], key[0]))
    turbines, days = [turbine for turbine, _ in keys], [day for _, day in keys]
    counts = [windows[key] for key in keys]
    with connection.cursor() as cursor:
        if not _columns(cursor, MEASUREMENTS.clean):
            return [(t, d, n) for t, d, n in zip(turbines, days, counts, strict=True)]
        cursor.execute(
            sql.SQL(
                "select w.turbine, w.day::text, w.row_count "
                "from unnest(%s::text[], %s::date[], %s::bigint[]) "
                "as w(turbine, day, row_count) "
                "where not exists (select from {} as m where m.measured_date = w.day "
                "and m._source_table = %s and m.turbine_id = w.turbine) "
                "order by w.day, w.turbine"
            ).format(sql.Identifier(RAW_DATASET, MEASUREMENTS.clean)),
            (turbines, days, counts, source_table),
        )
        found = [(str(t), str(d), int(n)) for t, d, n in cursor.fetchall()]
    connection.rollback()
    return found


def windows_message(windows: list[tuple[str, str, int]], rejected_table: str) -> str:
    """The run's error naming the windows none of whose rows landed."""
    shown = [f"{turbine} {day} ({rows:,} rows)" for turbine, day, rows in windows]
    more = len(shown) - SHOWN_WINDOWS
    listed = ", ".join(shown[:SHOWN_WINDOWS]) + (f" and {more} more" if more > 0 else "")
    return (
        f"every row rejected for {len(windows)} turbine-day(s) (turbine, UTC day): {listed}; "
        f"the reasons are in raw.{rejected_table}"
    )


def alarms_message(source_table: str, rows: int, days: tuple[date, date]) -> str:
    """The run's error naming the alarm table whose read of the UTC days [days[0], days[1])
    had rejected rows and landed none (alarms are too few a day to name windows)."""
    last = days[1] - timedelta(days=1)
    return (
        f"{source_table}: every alarm row read for {days[0]} to {last} (UTC days) rejected "
        f"({rows:,} rows); the reasons are in raw.{ALARMS.rejected}"
    )
