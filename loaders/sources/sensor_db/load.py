"""Load the sensor database into `raw`: the run's window of measurements (with the
lookback that brings late rows), the turbine registry and the alarms; then the earlier
rejected rows the load read again are removed (sensor_db/rejected.py), and raw's indexes
and statistics, which dlt does not keep, are brought up to date."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from pathlib import Path

import dlt
import psycopg2
import sqlalchemy as sa
from psycopg2 import sql

from loaders import logs, park_config, warehouse
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import Settings
from loaders.sources.landing import SourceOutcome, dlt_pipeline, land, row_counts
from loaders.sources.sensor_db import SensorDbStats, rejected, sensor_db_source
from loaders.sources.sensor_db.mapping import load_mapping

# What the warehouse looks up in raw.scada_measurements: the days a load replaces (dlt's
# delete-insert, the backfill check) and the loads dbt has not seen yet (its reprocess
# window). dlt creates no index of its own on PostgreSQL.
RAW_MEASUREMENT_INDEXES = {
    "scada_measurements__measured_date__idx": "measured_date, _source_table",
    "scada_measurements__dlt_load_id__idx": "_dlt_load_id",
}
# The columns those look-ups and dbt's reads of the window filter or group on: the only
# ones whose statistics change a plan (the signals are read, never searched).
SCHEMA_NAME = "sensor_db"  # dlt's schema: the source's name
RAW_MEASUREMENT_STATISTICS = "measured_date, _source_table, _dlt_load_id, turbine_id, measured_at"


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min)


def load_sensor_db(
    settings: Settings, date_from: date, date_to: date, pseudonymiser: Pseudonymiser
) -> SourceOutcome:
    """Measurements of [date_from - lookback, date_to], so late rows of past days land too."""
    stats = SensorDbStats()
    start = _utc_midnight(date_from - timedelta(days=settings.sensor_lookback_days))
    end = _utc_midnight(date_to + timedelta(days=1))
    mapping_file = sensor_mapping_file(settings)
    park = park_config.park_of(settings)
    pipeline, notes = dlt_pipeline(settings, "sensor_db")  # finishes a pending package first
    alarm_codes_as_text(settings, pipeline)
    window_is_new = _window_is_new(settings, start, end)
    source = sensor_db_source(
        url=settings.sensor_db_url,
        mapping_file=mapping_file,
        measurements_table=settings.sensor_table,
        start=start,
        end=end,
        pseudonymiser=pseudonymiser,
        stats=stats,
        turbine_table=settings.sensor_turbine_table,
        alarm_table=settings.sensor_alarm_table,
        window_is_new=window_is_new,
        timestamp_format=park.timestamp_format,
        turbine_id=park.turbine_id,
        configured_turbines=park_config.load_turbines(park.turbines) if park.turbines else None,
        turbines_file=str(park.turbines.relative_to(park.folder)) if park.turbines else "",
    )
    info = land(pipeline, source, "sensor_db", loader_file_format=sensor_file_format())
    superseded, fully_rejected = _follow_source(settings, stats, start, end, info.loads_ids)
    _index_raw_measurements(settings)
    mapped = load_mapping(Path(mapping_file), park.timestamp_format, park.turbine_id)
    empty = empty_signals(settings, mapped.canonical_signals, start, end)
    if empty:
        logs.event(
            "sensor_db",
            f"mapped but empty over the whole window: {', '.join(empty)}",
            level="warning",
        )
    details: dict[str, object] = {
        "layout": stats.layout,
        "reader": stats.reader,
        "mode": "append" if window_is_new else "merge",
        "rows_read": stats.rows_read,
        "rows_loaded": stats.rows_loaded,
        "rows_rejected": stats.rows_rejected,
        "unmapped_columns": stats.unmapped_columns,
        "empty_signals": empty,
        "window": [start.isoformat(), end.isoformat()],
        "source": {  # where the rows come from; the URL's password is masked
            "url": sa.make_url(settings.sensor_db_url).render_as_string(hide_password=True),
            "table": settings.sensor_table,
            "mapping": mapping_file,
        },
    }
    if stats.layout == "narrow":
        details |= {
            "values_loaded": stats.values_loaded,
            "rows_unmapped": stats.rows_unmapped,
            "unmapped_tags": stats.unmapped_tags,
        }
    if stats.tables_skipped:
        details["tables_skipped"] = stats.tables_skipped
    details["rejected_rows_superseded"] = superseded
    problems = []
    if fully_rejected:
        details["fully_rejected_windows"] = [list(window) for window in fully_rejected]
        problems.append(rejected.windows_message(fully_rejected, rejected.MEASUREMENTS.rejected))
    if stats.alarms_rejected and not stats.alarms_loaded:
        table = settings.sensor_alarm_table
        details["fully_rejected_alarms"] = {"table": table, "rows_rejected": stats.alarms_rejected}
        days = (start.date(), end.date())
        problems.append(rejected.alarms_message(table, stats.alarms_rejected, days))
    for problem in problems:
        logs.event("sensor_db", problem, level="error")
    error = "; ".join(problems) or None
    outcome = SourceOutcome(
        "sensor_db", ok=error is None, rows=row_counts(pipeline), details=details, error=error
    )
    return outcome.add_pending_notes(notes)


def _follow_source(
    settings: Settings,
    stats: SensorDbStats,
    start: datetime,
    end: datetime,
    load_ids: list[str],
) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
    """After the load: the earlier rejected rows it supersedes removed, per rejected table
    (sensor_db/rejected.py), and the (turbine, day) windows none of whose rows landed."""
    tables = [(rejected.MEASUREMENTS, settings.sensor_table)]
    if "alarms" not in stats.tables_skipped:
        tables.append((rejected.ALARMS, settings.sensor_alarm_table))
    superseded: dict[str, int] = {}
    connection = warehouse.connect(settings, "loader")
    try:
        for table, source_table in tables:
            removed = rejected.purge_superseded(
                connection, table, source_table, (start.date(), end.date()), load_ids
            )
            if removed:
                superseded[table.rejected] = removed
                logs.event(
                    "sensor_db",
                    f"{removed:,} rejected rows of {source_table} read again: removed from "
                    f"raw.{table.rejected}",
                )
        fully_rejected = rejected.fully_rejected_windows(
            connection, settings.sensor_table, stats.rejected_windows
        )
    finally:
        connection.close()
    return superseded, fully_rejected


class AlarmCodesNotMigrated(RuntimeError):
    """raw.scada_alarms still holds alarm codes as integers: bootstrap migrates it."""


def alarm_codes_as_text(settings: Settings, pipeline: dlt.Pipeline) -> None:
    """dlt's schema of a warehouse loaded before alarm codes were text says bigint, and dlt
    refuses to change a column's type (it would stop every later load of the alarms).
    Once bootstrap has made the column text (scripts/bootstrap/05_migrations.sql), dlt's
    schema is told so here; before, the load stops with what to run."""
    schema = pipeline.schemas[SCHEMA_NAME] if SCHEMA_NAME in pipeline.schemas else None
    column = (
        schema.tables.get("scada_alarms", {}).get("columns", {}).get("alarm_code")
        if schema is not None
        else None
    )
    if schema is None or column is None or column.get("data_type") == "text":
        return
    connection = warehouse.connect(settings, "loader")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select data_type from information_schema.columns where table_schema = 'raw'"
                " and table_name = 'scada_alarms' and column_name = 'alarm_code'"
            )
            found = cursor.fetchone()
    finally:
        connection.close()
    if found is not None and found[0] not in ("text", "character varying"):  # dlt's varchar
        raise AlarmCodesNotMigrated(
            f"raw.scada_alarms.alarm_code is {found[0]}, alarm codes are text now: run "
            "`python -m loaders bootstrap` once (it migrates the column), then "
            "`python -m loaders rebuild --full` (docs/operations.md)"
        )
    column["data_type"] = "text"
    pipeline.schemas.save_schema(schema)
    logs.event("sensor_db", "dlt's schema of raw.scada_alarms: alarm_code is text now")


def empty_signals(
    settings: Settings, signals: list[str], start: datetime, end: datetime
) -> list[str]:
    """The mapped signals without a single value in raw over the run's window (from the
    configured table): a column the historian has but never fills, or a wrong mapping."""
    if not signals:
        return []
    counts = sql.SQL(", ").join(
        sql.SQL("count({})").format(sql.Identifier(name)) for name in signals
    )
    query = sql.SQL(
        "select count(*), {} from raw.scada_measurements where measured_date >= %s "
        "and measured_date < %s and _source_table = %s"
    ).format(counts)
    connection = warehouse.connect(settings, "loader")
    try:
        with connection.cursor() as cursor:
            cursor.execute("select to_regclass('raw.scada_measurements') is not null")
            if not cursor.fetchone()[0]:
                return []
            cursor.execute(query, (start.date(), end.date(), settings.sensor_table))
            rows, *found = cursor.fetchone()
    finally:
        connection.close()
    if not rows:  # nothing landed in the window: nothing to say about single signals
        return []
    return [name for name, count in zip(signals, found, strict=True) if not count]


def sensor_mapping_file(settings: Settings) -> str:
    """The historian mapping: the `sensor_mapping` setting when set, else the park's."""
    if settings.sensor_mapping:
        return settings.sensor_mapping
    return str(park_config.park_of(settings).historian_mapping)


def sensor_file_format() -> str | None:
    """Parquet through ADBC when its PostgreSQL driver is installed: dlt's fastest path into
    PostgreSQL, measured at about twice the rate of its CSV path (docs/performance.md);
    otherwise dlt's default for Arrow tables (CSV through COPY)."""
    try:
        import adbc_driver_postgresql  # noqa: F401
    except ImportError:
        return None
    return "parquet"


def _window_is_new(settings: Settings, start: datetime, end: datetime) -> bool:
    """True when raw holds no measurement of [start, end) from the configured table.

    Appending is only a shortcut: when the question cannot be answered quickly (the table
    is locked, the connection drops), the answer is no and the load merges, which is
    always right."""
    try:
        connection = warehouse.connect(settings, "loader")
        try:
            with connection.cursor() as cursor:
                cursor.execute("set lock_timeout = '2s'")
                cursor.execute("select to_regclass('raw.scada_measurements') is not null")
                if not cursor.fetchone()[0]:
                    return True
                cursor.execute(
                    "select not exists (select 1 from raw.scada_measurements where "
                    "measured_date >= %s and measured_date < %s and _source_table = %s)",
                    (start.date(), end.date(), settings.sensor_table),
                )
                return bool(cursor.fetchone()[0])
        finally:
            connection.close()
    except psycopg2.Error as error:
        message = " ".join(str(error).split())
        logs.event("sensor_db", f"merging: could not check raw for the window ({message})")
        return False


def _index_raw_measurements(settings: Settings) -> None:
    """The indexes of RAW_MEASUREMENT_INDEXES (built once, after the first load), then fresh
    statistics: dlt never analyzes, and without statistics PostgreSQL plans the look-ups of
    one day as scans of the whole history. The rows are loaded by now: a failure here is a
    warning (the next run tries again), not a failed source.

    After a backfill this was a fifth of the loader's time (docs/performance.md): the
    missing indexes are built at the same time, one connection each (CREATE INDEX takes a
    lock that does not exclude another CREATE INDEX), and ANALYZE computes statistics only
    for the columns the warehouse's look-ups filter on (RAW_MEASUREMENT_STATISTICS), not for
    every signal. ANALYZE samples a fixed number of rows: its cost does not grow with the
    table."""
    try:
        connection = warehouse.connect(settings, "loader")
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute("select to_regclass('raw.scada_measurements') is not null")
                if not cursor.fetchone()[0]:
                    return
                cursor.execute(
                    "select indexname from pg_indexes where schemaname = 'raw' "
                    "and tablename = 'scada_measurements'"
                )
                present = {name for (name,) in cursor.fetchall()}
                missing = {n: c for n, c in RAW_MEASUREMENT_INDEXES.items() if n not in present}
                build_indexes(settings, "loader", "raw.scada_measurements", missing)
                cursor.execute(f"analyze raw.scada_measurements ({RAW_MEASUREMENT_STATISTICS})")
                # dlt's merge deletes the rows of the days its staging table holds, through a
                # semi-join; without statistics on that (truncated, refilled) table PostgreSQL
                # expects thousands of days in it and scans all of raw. Statistics survive
                # TRUNCATE: taken once, they serve the next runs, whose windows look alike.
                cursor.execute("select to_regclass('raw_staging.scada_measurements') is not null")
                if cursor.fetchone()[0]:
                    cursor.execute(
                        f"analyze raw_staging.scada_measurements ({RAW_MEASUREMENT_STATISTICS})"
                    )
        finally:
            connection.close()
    except (psycopg2.Error, warehouse.WarehouseError) as error:
        message = " ".join(str(error).split())
        logs.event(
            "sensor_db", f"raw indexes or statistics not updated: {message}", level="warning"
        )


def build_indexes(settings: Settings, role: str, table: str, indexes: dict[str, str]) -> None:
    """Create the indexes ({name: columns}) of `table` at the same time, one connection
    each (the benchmark builds raw's indexes on its COPY reference the same way)."""
    if not indexes:
        return
    with ThreadPoolExecutor(max_workers=len(indexes)) as pool:
        for built in [
            pool.submit(_create_index, settings, role, table, name, columns)
            for name, columns in indexes.items()
        ]:
            built.result()


def _create_index(settings: Settings, role: str, table: str, name: str, columns: str) -> None:
    """One index, on a connection of its own, so that the builds run at the same time."""
    connection = warehouse.connect(settings, role)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"create index if not exists {name} on {table} ({columns})")
    finally:
        connection.close()
