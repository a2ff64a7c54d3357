"""Rows held aside because the configuration does not know one of their values.

A turbine, site, alarm code, intervention type or component the park's configuration
(its turbine registry and reference seeds) does not know keeps its rows in raw and
staging but out of core and ml; `quality.quality_held_aside` lists them (docs/sources.md,
"Ids the configuration does not know"). While that mart has rows, every run that built
it is `partial` and says which values to add; the first build after they are added
publishes the rows and lists nothing.

A value learnt late changes more than its own rows: an alarm code's meaning, an
intervention's type or component decide the operating states and failure labels of the
periods they cover, which the incremental models rewrite only within their reprocess
window. So a run remembers what was held aside before its build (`first_days`), and what
the build published (`published_since`) has its older periods built again (pipeline.py).
A turbine learnt late needs none of that: its incremental tables reach back to its first
day by themselves (macro reprocess_from_date).
"""

from __future__ import annotations

from datetime import date

from loaders.settings import Settings
from loaders.warehouse import connect

MART = "quality.quality_held_aside"
# values named per column in the run's message; the mart has them all
SHOWN_PER_COLUMN = 10
# the columns whose values decide the operating states and failure labels of past periods
STATE_COLUMNS = ("alarm_code", "intervention_type", "component")


def _read_mart(settings: Settings, query: str, parameters: tuple = ()) -> list[tuple] | None:
    """The rows of `query` on the mart, read only; None when the mart is not built."""
    connection = connect(settings, "transformer")
    try:
        connection.set_session(readonly=True)
        with connection.cursor() as cursor:
            cursor.execute("select to_regclass(%s) is not null", (MART,))
            row = cursor.fetchone()
            if not (row and row[0]):
                return None
            cursor.execute(query, parameters)
            return cursor.fetchall()
    finally:
        connection.close()


def message(settings: Settings) -> str | None:
    """The run's error message naming the held-aside values per column, e.g.
    "held aside until the configuration knows them: turbine_id MTC-T99 (144 rows)";
    None when nothing is held aside (or the mart is not built)."""
    found = _read_mart(
        settings,
        f"""
        select column_name, coalesce(unknown_value, '(empty)'), sum(held_row_count)::bigint
          from {MART}
         group by 1, 2
         order by 1, 2
        """,  # noqa: S608 - MART is a constant
    )
    if not found:
        return None
    by_column: dict[str, list[str]] = {}
    for column, value, rows in found:
        by_column.setdefault(str(column), []).append(f"{value} ({int(rows)} rows)")
    parts = []
    for column, values in by_column.items():
        shown = values[:SHOWN_PER_COLUMN]
        more = len(values) - len(shown)
        parts.append(f"{column} {', '.join(shown)}" + (f" and {more} more" if more else ""))
    return "held aside until the configuration knows them: " + "; ".join(parts)


def first_days(settings: Settings) -> dict[tuple[str, str], date]:
    """(column, value) -> the first day of its rows, for every value of STATE_COLUMNS the
    mart holds aside now; empty when nothing is held aside or the mart is not built."""
    found = _read_mart(
        settings,
        f"""
        select column_name, unknown_value, min(first_seen_date)
          from {MART}
         where column_name = any(%s) and unknown_value is not null
           and first_seen_date is not null
         group by 1, 2
        """,  # noqa: S608 - MART is a constant
        (list(STATE_COLUMNS),),
    )
    return {(str(c), str(v)): first for c, v, first in found or []}


def published_since(
    settings: Settings, before: dict[tuple[str, str], date]
) -> dict[tuple[str, str], date]:
    """The values of `before` (first_days before a build) that the mart no longer holds
    aside after it: the configuration learnt them (or the source corrected them)."""
    if not before:
        return {}
    still_held = first_days(settings)
    return {key: day for key, day in before.items() if key not in still_held}
