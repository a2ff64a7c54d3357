"""Rows held aside because the configuration does not know one of their values.

A turbine, site, alarm code, intervention type or component the park's configuration
(its turbine registry and reference seeds) does not know keeps its rows in raw and
staging but out of core and ml; `quality.quality_held_aside` lists them (docs/sources.md,
"Ids the configuration does not know"). While that mart has rows, every run that built
it is `partial` and says which values to add; the first build after they are added
publishes the rows and lists nothing.
"""

from __future__ import annotations

from loaders.settings import Settings
from loaders.warehouse import connect

MART = "quality.quality_held_aside"
# values named per column in the run's message; the mart has them all
SHOWN_PER_COLUMN = 10


def message(settings: Settings) -> str | None:
    """The run's error message naming the held-aside values per column, e.g.
    "held aside until the configuration knows them: turbine_id MTC-T99 (144 rows)";
    None when nothing is held aside (or the mart is not built)."""
    connection = connect(settings, "transformer")
    try:
        connection.set_session(readonly=True)
        with connection.cursor() as cursor:
            cursor.execute("select to_regclass(%s) is not null", (MART,))
            row = cursor.fetchone()
            if not (row and row[0]):
                return None
            cursor.execute(
                f"""
                select column_name, coalesce(unknown_value, '(empty)'),
                       sum(held_row_count)::bigint
                  from {MART}
                 group by 1, 2
                 order by 1, 2
                """  # noqa: S608 - MART is a constant
            )
            found = cursor.fetchall()
    finally:
        connection.close()
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
