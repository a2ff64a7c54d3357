"""How far back a `dbt build` rewrites the incremental models, when it must go further
than the daily reprocess window.

The incremental models rewrite the `reprocess_days` days before the newest loaded SCADA
day (macros/reprocess_window.sql). Two things need an older day rewritten: an operator's
`rebuild --from D` (loaders/run/scheduling.py), and a run that publishes a value the
configuration has just learnt, held aside until then (loaders/run/pipeline.py): both
widen `reprocess_days` to reach back to that day, one way for both.
"""

from __future__ import annotations

import json
from datetime import date

from loaders.settings import Settings
from loaders.warehouse import connect


def loaded_span(settings: Settings) -> tuple[date | None, date | None]:
    """The first and last measurement days in raw (None, None when nothing is loaded)."""
    connection = connect(settings, "transformer")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("select to_regclass('raw.scada_measurements') is not null")
            if not cursor.fetchone()[0]:
                return None, None
            cursor.execute(
                "select min(measured_date), max(measured_date) from raw.scada_measurements"
            )
            first, last = cursor.fetchone()
            return first, last
    finally:
        connection.close()


def from_day(newest: date | None, day: date) -> tuple[tuple[str, ...], int]:
    """The `dbt build` arguments that rewrite the incremental models from `day` to the
    newest loaded day `newest`, and the `reprocess_days` they set."""
    reprocess = max(0, (newest - day).days) if newest else 0
    return ("--vars", json.dumps({"reprocess_days": reprocess})), reprocess
