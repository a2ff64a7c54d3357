"""`inspect --source sensor_db`: the configured historian table profiled, a mapping
proposed, and a dry run of the sensor loader over a window.

The dry run is the loader itself (the dlt source of loaders/sources/sensor_db) iterated
without a pipeline: the same reading, parsing, unit conversion and rejection, but no dlt
state, no package and no connection to the warehouse. Its counts are therefore the ones a
load of the same window would land and reject.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from loaders import park_config
from loaders.onboarding import proposal
from loaders.onboarding.profile import column_profile
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import PROJECT_ROOT, Settings
from loaders.sources.sensor_db import SensorDbStats, reflect, sensor_db_source, source_engine
from loaders.sources.sensor_db.load import sensor_mapping_file
from loaders.sources.sensor_db.mapping import load_mapping

SAMPLE_ROWS = 2_000
WHOLE_HISTORY = (datetime(1900, 1, 1), datetime(2200, 1, 1))
REASON_EXAMPLES = 3


class InspectError(ValueError):
    """The source cannot be inspected at all (no table, no file, no answer)."""


def dry_run_key(settings: Settings) -> str:
    """The pseudonymisation key, or a throwaway one: a dry run writes no token anywhere,
    and a new park may not have its key yet."""
    import secrets

    return settings.pseudonym_key or secrets.token_hex(32)


def profile_table(engine: sa.Engine, table: sa.Table) -> tuple[int, list[dict[str, object]]]:
    """(row count, column profiles): counts and bounds over the whole table in one query,
    kinds and examples from the first SAMPLE_ROWS rows."""
    counts = [sa.func.count(column) for column in table.c]
    with engine.connect() as connection:
        total, *present = connection.execute(sa.select(sa.func.count(), *counts)).one()
        sample = pd.read_sql(sa.select(table).limit(SAMPLE_ROWS), connection)
    profiles = []
    for column, values in zip(table.c, present, strict=True):
        shown = column_profile(column.name, sample[column.name], total)
        shown["declared_type"] = str(column.type)
        shown["values"] = int(values)
        shown["empty"] = values == 0
        if "min" in shown and shown["kind"] in ("integer", "number"):
            with engine.connect() as connection:
                low, high = connection.execute(
                    sa.select(sa.func.min(column), sa.func.max(column))
                ).one()
            shown["min"], shown["max"] = float(low), float(high)
        profiles.append(shown)
    return int(total), profiles


def propose_mapping(profiles: list[dict[str, object]], park: park_config.Park) -> dict[str, object]:
    """A historian.csv (and the park.yaml `historian` keys) proposed from the columns."""
    rows: list[tuple[str, str, str]] = []
    notes: dict[str, list[str]] = {}
    unmapped: list[str] = []
    taken: dict[str, str] = {}
    historian: dict[str, str] = {}
    turbine = next((p for p in profiles if proposal.is_turbine_column(str(p["name"]))), None)
    stamp = next(
        (
            p
            for p in profiles
            if p["kind"] == "timestamp" and proposal.is_time_column(str(p["name"]))
        ),
        None,
    )
    row_id = next(
        (
            p
            for p in profiles
            if proposal.is_row_id_column(str(p["name"])) and p["kind"] == "integer"
        ),
        None,
    )
    if row_id is not None:
        rows.append((str(row_id["name"]), "source_row_id", ""))
    if turbine is not None:
        rows.append((str(turbine["name"]), "turbine_id", ""))
    else:
        historian["turbine_id"] = "<the turbine's id: no turbine column found>"
    if stamp is not None:
        name = str(stamp["name"])
        zone = "UTC" if "utc" in proposal.compact(name) else park.time_zone
        rows.append((name, "measured_at", zone))
        if stamp.get("has_offset"):
            notes[name] = [f"times carry their UTC offset; {zone} is for those without one"]
        if stamp.get("timestamp_format"):
            historian["timestamp_format"] = str(stamp["timestamp_format"])
    keys = {p["name"] for p in (turbine, stamp, row_id) if p is not None}
    for shown in profiles:
        name = str(shown["name"])
        if name in keys:
            continue
        low, high = shown.get("min"), shown.get("max")
        found = proposal.propose_signal(
            name,
            float(low) if isinstance(low, float) else None,
            float(high) if isinstance(high, float) else None,
        )
        if found is None or not str(shown["kind"]).startswith(("number", "integer", "empty")):
            unmapped.append(name)
            continue
        if found.canonical_name in taken:
            unmapped.append(name)
            notes[name] = [
                f"also reads as {found.canonical_name}, proposed for {taken[found.canonical_name]}"
            ]
            continue
        taken[found.canonical_name] = name
        rows.append((name, found.canonical_name, found.source_unit))
        if found.notes:
            notes[name] = list(found.notes)
        if shown["empty"]:
            notes.setdefault(name, []).append("empty in the source: nothing to load")
    text = "source_name,canonical_name,source_unit\n" + "".join(
        f"{_csv_field(s)},{c},{u}\n" for s, c, u in rows
    )
    return {
        "historian_csv": text,
        "rows": [{"source_name": s, "canonical_name": c, "source_unit": u} for s, c, u in rows],
        "park_yaml_historian": historian,
        "unmapped_columns": unmapped,
        "notes": notes,
    }


def _csv_field(text: str) -> str:
    return f'"{text}"' if any(c in text for c in ',"') else text


def _window(date_from: date | None, date_to: date | None) -> tuple[datetime, datetime]:
    if date_from is None and date_to is None:
        return WHOLE_HISTORY
    first = date_from or date_to
    last = date_to or date_from
    assert first is not None and last is not None
    return datetime.combine(first, time.min), datetime.combine(last + timedelta(days=1), time.min)


def _reasons(tables: list[pa.Table]) -> list[dict[str, object]]:
    """The reasons of rejected rows, most frequent first, with examples of the rows."""
    counts: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for table in tables:
        for reason, record in zip(
            table.column("reason").to_pylist(), table.column("raw_record").to_pylist(), strict=True
        ):
            counts[reason] += 1
            shown = examples.setdefault(reason, [])
            if len(shown) < REASON_EXAMPLES:
                shown.append(str(record)[:200])
    return [{"reason": r, "rows": n, "examples": examples[r]} for r, n in counts.most_common()]


def dry_run(
    settings: Settings,
    mapping_file: str,
    park: park_config.Park,
    start: datetime,
    end: datetime,
) -> dict[str, object]:
    """Per table, what a load of [start, end) would land and reject, and why."""
    stats = SensorDbStats()
    configured = park_config.load_turbines(park.turbines) if park.turbines else None
    source = sensor_db_source(
        url=settings.sensor_db_url,
        mapping_file=mapping_file,
        measurements_table=settings.sensor_table,
        start=start,
        end=end,
        pseudonymiser=Pseudonymiser(dry_run_key(settings)),
        stats=stats,
        turbine_table=settings.sensor_turbine_table,
        alarm_table=settings.sensor_alarm_table,
        timestamp_format=park.timestamp_format,
        turbine_id=park.turbine_id,
        configured_turbines=configured,
        turbines_file=str(park.turbines.relative_to(park.folder)) if park.turbines else "",
    )
    tables: dict[str, dict[str, object]] = {}
    measured: list[pa.Table] = []
    rejected: dict[str, list[pa.Table]] = {}
    for name, resource in source.resources.items():
        landed = 0
        for item in resource:
            if isinstance(item, list):  # the alarms, as rows
                landed += len(item)
            elif "reason" in item.column_names and "raw_record" in item.column_names:
                rejected.setdefault(name, []).append(item)
            else:
                landed += item.num_rows
                if name == "scada_measurements":
                    measured.append(item)
        refused = sum(t.num_rows for t in rejected.get(name, []))
        tables[name] = {
            "would_land": landed,
            "would_reject": refused,
            "reasons": _reasons(rejected.get(name, [])),
        }
    mapping = load_mapping(Path(mapping_file), park.timestamp_format, park.turbine_id)
    result: dict[str, object] = {
        "window": [start.isoformat(), end.isoformat()],
        "tables": tables,
        "rows_read": stats.rows_read,
        "unmapped_columns": stats.unmapped_columns,
        "tables_skipped": stats.tables_skipped,
    }
    if measured:
        frame = pa.concat_tables(measured, promote_options="default").select(
            ["turbine_id", "measured_at", *mapping.canonical_signals]
        )
        data = frame.to_pandas()
        result["time_range"] = [str(data["measured_at"].min()), str(data["measured_at"].max())]
        result["turbines"] = {str(k): int(v) for k, v in data["turbine_id"].value_counts().items()}
        result["empty_signals"] = [
            name for name in mapping.canonical_signals if data[name].notna().sum() == 0
        ]
        result["signal_ranges"] = {
            name: [float(data[name].min()), float(data[name].max())]
            for name in mapping.canonical_signals
            if data[name].notna().any()
        }
    return result


def inspect_sensor_db(
    settings: Settings, date_from: date | None = None, date_to: date | None = None
) -> dict[str, object]:
    """Profile, proposed mapping and dry run of the configured historian table."""
    park = park_config.park_of(settings)
    url = sa.make_url(settings.sensor_db_url)
    try:
        engine = source_engine(settings.sensor_db_url)
    except FileNotFoundError as error:
        raise InspectError(str(error)) from None
    try:
        table = reflect(engine, settings.sensor_table)
        if table is None:
            raise InspectError(
                f"{url.render_as_string(hide_password=True)} has no table {settings.sensor_table!r}"
            )
        total, profiles = profile_table(engine, table)
    except sa.exc.SQLAlchemyError as error:
        shown = url.render_as_string(hide_password=True)
        raise InspectError(f"{shown}: {' '.join(str(error.orig or error).split())}") from None
    finally:
        engine.dispose()
    report: dict[str, object] = {
        "source": "sensor_db",
        "park": park.name,
        "url": url.render_as_string(hide_password=True),
        "table": settings.sensor_table,
        "rows": total,
        "columns": profiles,
        "empty_columns": [p["name"] for p in profiles if p["empty"]],
        "proposed_mapping": propose_mapping(profiles, park),
    }
    mapping_file = sensor_mapping_file(settings)
    start, end = _window(date_from, date_to)
    with contextlib.redirect_stdout(sys.stderr):  # the loader's progress lines
        try:
            load_mapping(Path(mapping_file), park.timestamp_format, park.turbine_id)
            shown = Path(mapping_file)
            report["mapping"] = str(
                shown.relative_to(PROJECT_ROOT) if shown.is_relative_to(PROJECT_ROOT) else shown
            )
        except (ValueError, FileNotFoundError) as error:
            report["mapping_error"] = str(error)
        if "mapping" in report:
            try:
                report["dry_run"] = dry_run(settings, mapping_file, park, start, end)
            except ValueError as error:
                report["dry_run_error"] = str(error)
        else:  # no usable mapping yet: the dry run of the proposed one
            with tempfile.TemporaryDirectory() as folder:
                proposed = Path(folder) / "historian.csv"
                text = report["proposed_mapping"]["historian_csv"]  # type: ignore[index]
                proposed.write_text(str(text), encoding="utf-8")
                report["mapping"] = "(the proposed mapping)"
                try:
                    report["dry_run"] = dry_run(settings, str(proposed), park, start, end)
                except ValueError as error:
                    report["dry_run_error"] = str(error)
    return report
