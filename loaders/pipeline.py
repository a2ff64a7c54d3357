"""One pipeline run: extract-load every source, `dbt build`, the quality page, the audit row.

A source that fails is recorded and the others still load; the run is then `partial`.
Exit codes: 0 success, 2 partial (a source failed), 1 failed (dbt failed or nothing loaded),
3 refused (another run holds the lock: nothing was done). docs/operations.md has the rest:
backfill (loaders/scheduling.py), recovery after a killed run (loaders/recovery.py).
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import dlt
import pandas as pd
import psycopg2
import requests
import sqlalchemy as sa
from dlt.common.destination.exceptions import DestinationTerminalException
from dlt.destinations.impl.postgres.configuration import PostgresCredentials
from dlt.pipeline.exceptions import PipelineStepFailed

from loaders import audit, logs, oauth2, recovery, runlock, transform, warehouse
from loaders.pseudonymise import Pseudonymiser
from loaders.settings import Settings
from loaders.sources.production_csv import EXPORT_TABLES, CsvStats, production_csv_source
from loaders.sources.production_csv import inbox as csv_inbox
from loaders.sources.sensor_db import (
    SensorDbStats,
    arrow_reader,
    reflect,
    sensor_db_source,
    source_engine,
)
from loaders.sources.weather_api import WeatherStats, parse_sites, weather_api_source
from loaders.sources.weather_api.client import OpenMeteoClient, Site

EXIT_SUCCESS, EXIT_FAILED, EXIT_PARTIAL, EXIT_LOCKED = 0, 1, 2, 3
RAW_DATASET = "raw"

# dlt gzips its intermediate files by default: most of the load time on these volumes.
os.environ.setdefault("DATA_WRITER__DISABLE_COMPRESSION", "true")
# Arrow tables skip dlt's row normaliser, and with it the load id: ask for it, as every
# raw row must say which load brought it.
os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID", "true")
# The sensor source makes the row ids of its Arrow tables itself (sensor_db.RowIds): dlt
# need not rewrite its files to add them, and imports them as they were extracted.
os.environ.setdefault("WINDFARM_SENSOR_DB__NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID", "false")
# One file per Arrow batch: the files of a large window load in parallel, two at a time:
# each load job holds its file's rows in memory, and more jobs than the machine's two
# cores only added memory (a year of 100 turbines: 1.7 GiB with dlt's default of 20, 0.7
# GiB and faster with 2; docs/performance.md).
os.environ.setdefault("DATA_WRITER__FILE_MAX_ITEMS", str(arrow_reader.BATCH_ROWS))
os.environ.setdefault("LOAD__WORKERS", "2")

# What the warehouse looks up in raw.scada_measurements: the days a load replaces (dlt's
# delete-insert, the backfill check) and the loads dbt has not seen yet (its reprocess
# window). dlt creates no index of its own on PostgreSQL.
RAW_MEASUREMENT_INDEXES = {
    "scada_measurements__measured_date__idx": "measured_date, _source_table",
    "scada_measurements__dlt_load_id__idx": "_dlt_load_id",
}
# The columns those look-ups and dbt's reads of the window filter or group on: the only
# ones whose statistics change a plan (the signals are read, never searched).
RAW_MEASUREMENT_STATISTICS = "measured_date, _source_table, _dlt_load_id, turbine_id, measured_at"

# What dlt_pipeline() had to do about packages left pending, per source, for the audit row.
_pending_notes: dict[str, list[str]] = {}
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


@dataclass
class SourceOutcome:
    name: str
    ok: bool
    rows: dict[str, int] = field(default_factory=dict)
    details: dict[str, object] = field(default_factory=dict)
    error: str | None = None


@dataclass
class RunOutcome:
    run_id: str
    status: str
    sources: list[SourceOutcome]
    dbt: transform.DbtOutcome
    report_path: str | None
    date_from: date | None = None
    date_to: date | None = None

    @property
    def exit_code(self) -> int:
        return exit_code(self.status)

    def errors(self) -> dict[str, object]:
        errors: dict[str, object] = {s.name: s.error for s in self.sources if s.error}
        if self.dbt.failures:
            errors["dbt"] = [f"{f['node']}: {f['status']}" for f in self.dbt.failures]
        elif self.dbt.status not in ("success", "deferred"):
            errors["dbt"] = f"dbt build {self.dbt.status}"
        return errors

    def summary(self) -> dict[str, Any]:
        """What an alert or `--log-json` says about the run."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "exit_code": self.exit_code,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "sources": {
                s.name: {"ok": s.ok, "rows": sum(s.rows.values()), "error": s.error}
                for s in self.sources
            },
            "dbt_status": self.dbt.status,
            "errors": self.errors(),
            "report_path": self.report_path,
        }


def exit_code(status: str) -> int:
    return {"success": EXIT_SUCCESS, "partial": EXIT_PARTIAL}.get(status, EXIT_FAILED)


def new_run_id(suffix: str = "") -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}{suffix}"


def dlt_pipeline(settings: Settings, name: str) -> dlt.Pipeline:
    """A dlt pipeline landing in `raw` as the loader role; local state kept per database.

    A load package left pending by an interrupted run is dealt with first, deliberately
    (`_finish_pending`): otherwise dlt would load it and ignore the new data of this run.
    """
    credentials = PostgresCredentials()
    credentials.parse_native_representation(settings.sqlalchemy_url("loader"))
    credentials.resolve()  # an empty password is legitimate (trust, peer or cert auth)
    pipeline = dlt.pipeline(
        pipeline_name=f"windfarm_{name}",
        destination=dlt.destinations.postgres(credentials=credentials, create_indexes=False),
        dataset_name=RAW_DATASET,
        pipelines_dir=str(Path(settings.dlt_dir) / settings.database),
        progress="log" if os.environ.get("WINDFARM_DLT_PROGRESS") else None,
    )
    if pipeline.has_pending_data:
        _finish_pending(pipeline, name)
    return pipeline


def _finish_pending(pipeline: dlt.Pipeline, name: str) -> None:
    """Finish the packages an interrupted run left, or discard them when they cannot load.

    Finishing is the default: the package holds rows read from the source that the
    warehouse does not have yet. A package whose load fails for a reason that will not go
    away (a row the table refuses, a schema that changed under it) is aborted with dlt's
    `abort_packages`, said loudly, and the source is marked failed so that the run is
    partial: this run re-extracts its own window, and the days of the discarded package are
    reloaded by the next runs' lookback or `run --from … --to … --force`. A transient failure
    (the database went away again) keeps the package for the next run.
    """
    pending = [*pipeline.list_extracted_load_packages(), *pipeline.list_normalized_load_packages()]
    logs.event(
        name,
        f"finishing load package(s) {', '.join(pending)} left pending by an interrupted run",
        level="warning",
        source=name,
    )
    try:
        pipeline.normalize()
        pipeline.load()
    except PipelineStepFailed as error:
        if not any(isinstance(cause, DestinationTerminalException) for cause in _causes(error)):
            raise
        pipeline.abort_packages()
        note = (
            f"discarded load package(s) {', '.join(pending)} left by an interrupted run: they "
            f"cannot be loaded ({_describe(error)}); their days must be reloaded"
        )
        logs.event(name, note, level="error", source=name)
        _pending_notes.setdefault(name, []).append(note)
        return
    _pending_notes.setdefault(name, []).append(
        f"finished load package(s) {', '.join(pending)} left by an interrupted run"
    )


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and what caused it, outermost first (dlt wraps the real cause twice)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        nested = getattr(current, "exception", None)
        current = (
            nested
            if isinstance(nested, BaseException)
            else (current.__cause__ or current.__context__)
        )


def _describe(error: BaseException) -> str:
    """The innermost cause, which names the file, the request or the table; plus the dlt
    step it happened in. dlt's own wrapping adds package ids and paths nobody needs."""
    causes = list(_causes(error))
    root = causes[-1]
    text = f"{type(root).__name__}: {root}".strip()
    step = next((c.step for c in causes if isinstance(c, PipelineStepFailed)), None)
    return " ".join(text.split()) + (f" (dlt {step} step)" if step else "")


def _row_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    info = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
    counts = dict(info.row_counts) if info else {}
    return {table: rows for table, rows in counts.items() if not table.startswith("_dlt")}


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min)


def load_sensor_db(
    settings: Settings, date_from: date, date_to: date, pseudonymiser: Pseudonymiser
) -> SourceOutcome:
    """Measurements of [date_from - lookback, date_to], so late rows of past days land too."""
    stats = SensorDbStats()
    start = _utc_midnight(date_from - timedelta(days=settings.sensor_lookback_days))
    end = _utc_midnight(date_to + timedelta(days=1))
    pipeline = dlt_pipeline(settings, "sensor_db")  # finishes a pending package first
    window_is_new = _window_is_new(settings, start, end)
    source = sensor_db_source(
        url=settings.sensor_db_url,
        mapping_file=settings.sensor_mapping,
        measurements_table=settings.sensor_table,
        start=start,
        end=end,
        pseudonymiser=pseudonymiser,
        stats=stats,
        turbine_table=settings.sensor_turbine_table,
        alarm_table=settings.sensor_alarm_table,
        window_is_new=window_is_new,
    )
    pipeline.run(source, loader_file_format=sensor_file_format())
    _index_raw_measurements(settings)
    details: dict[str, object] = {
        "layout": stats.layout,
        "reader": stats.reader,
        "mode": "append" if window_is_new else "merge",
        "rows_read": stats.rows_read,
        "rows_loaded": stats.rows_loaded,
        "rows_rejected": stats.rows_rejected,
        "unmapped_columns": stats.unmapped_columns,
        "window": [start.isoformat(), end.isoformat()],
        "source": {  # where the rows come from; the URL's password is masked
            "url": sa.make_url(settings.sensor_db_url).render_as_string(hide_password=True),
            "table": settings.sensor_table,
            "mapping": settings.sensor_mapping,
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
    return SourceOutcome("sensor_db", ok=True, rows=_row_counts(pipeline), details=details)


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


def load_production_csv(settings: Settings, pseudonymiser: Pseudonymiser) -> SourceOutcome:
    """The inbox's new file versions; then earlier versions' rows are removed and every
    processed file is archived (only once the load has committed: a failed run leaves the
    inbox as it was)."""
    stats = CsvStats()
    pipeline = dlt_pipeline(settings, "production_csv")
    inbox_dir = Path(settings.csv_inbox)
    connection = warehouse.connect(settings, "loader")
    try:
        loaded = csv_inbox.loaded_versions(connection, RAW_DATASET, EXPORT_TABLES)
        connection.rollback()
        pipeline.run(production_csv_source(str(inbox_dir), pseudonymiser, stats, loaded))
        purged = csv_inbox.purge_superseded(
            connection, RAW_DATASET, EXPORT_TABLES, stats.loaded_files
        )
    finally:
        connection.close()
    if purged:
        print(f"[production_csv] {purged:,} rows of earlier file versions removed")
    for name, sha256 in stats.to_archive.items():
        csv_inbox.archive(inbox_dir, inbox_dir / name, sha256)
    error = "; ".join(stats.refused_files.values()) if stats.refused_files else None
    return SourceOutcome(
        "production_csv",
        ok=not stats.refused_files,
        rows=_row_counts(pipeline),
        details={
            "rows_read": stats.rows_read,
            "rows_loaded": stats.rows_loaded,
            "rows_rejected": stats.rows_rejected,
            "refused_files": stats.refused_files,
            "skipped_files": stats.skipped_files,
            "files_loaded": {name: sha[:12] for name, sha in stats.loaded_files.items()},
            "rows_of_earlier_versions_removed": purged,
        },
        error=error,
    )


def registry_sites(settings: Settings) -> list[Site]:
    """The sites to ask weather for: `weather_sites` when set, else the mean position of
    each site's turbines in the sensor database's registry."""
    if settings.weather_sites:
        return parse_sites(settings.weather_sites)
    engine = source_engine(settings.sensor_db_url)
    try:
        registry = (
            reflect(engine, settings.sensor_turbine_table)
            if settings.sensor_turbine_table
            else None
        )
        if registry is None:
            raise ValueError(
                "no site coordinates: the sensor database has no turbine registry "
                f"({settings.sensor_turbine_table!r}); set WINDFARM_WEATHER_SITES "
                "(CODE=latitude,longitude;...) or WINDFARM_SENSOR_TURBINE_TABLE"
            )
        query = (
            sa.select(
                registry.c.site_code,
                sa.func.avg(registry.c.latitude).label("latitude"),
                sa.func.avg(registry.c.longitude).label("longitude"),
            )
            .group_by(registry.c.site_code)
            .order_by(registry.c.site_code)
        )
        frame = pd.read_sql(query, engine)
    finally:
        engine.dispose()
    return [
        Site(row.site_code, float(row.latitude), float(row.longitude)) for row in frame.itertuples()
    ]


def weather_clients(settings: Settings) -> tuple[OpenMeteoClient, OpenMeteoClient | None]:
    """The archive client and, unless weather_forecast_url is "", the forecast client; both
    carry the configured credentials (an API key query parameter, or the session of
    `loaders.oauth2.api_session`: API key header or OAuth2 client credentials)."""
    if settings.weather_api_key_param:
        session = requests.Session()
        key = {"api_key": settings.weather_api_key, "api_key_param": settings.weather_api_key_param}
    else:
        session = oauth2.api_session(settings)
        key = {}
    archive = OpenMeteoClient(settings.weather_base_url, session, endpoint="archive", **key)
    forecast = None
    if settings.weather_forecast_url:
        forecast = OpenMeteoClient(
            settings.weather_forecast_url, session, endpoint="forecast", **key
        )
    return archive, forecast


def load_weather(settings: Settings, date_from: date, date_to: date) -> SourceOutcome:
    stats = WeatherStats()
    pipeline = dlt_pipeline(settings, "weather_api")
    archive, forecast = weather_clients(settings)
    source = weather_api_source(
        archive,
        registry_sites(settings),
        date_from,
        date_to,
        stats,
        forecast=forecast,
        archive_delay_days=settings.weather_archive_delay_days,
        today=datetime.now(UTC).date(),
    )
    pipeline.run(source)
    return SourceOutcome(
        "weather_api",
        ok=True,
        rows=_row_counts(pipeline),
        details={"rows_read": stats.rows_read, "requests": stats.requests},
    )


def _guarded(
    name: str, load: Callable[[], SourceOutcome], settings: Settings | None = None
) -> SourceOutcome:
    """Run one source; any failure is recorded with its cause, never raised.

    Interruptions (SIGTERM, Ctrl-C: KeyboardInterrupt and dlt's SignalReceivedException) are
    not failures of the source: they propagate and end the run.
    """
    logs.event(name, "loading", source=name)
    _pending_notes.pop(name, None)
    try:
        outcome = load()
    except Exception as error:  # noqa: BLE001 - one source must not stop the others
        message = _describe(error)
        if settings is not None:
            message += _storage_hint(settings, name, error)
        logs.event(name, f"FAILED: {message}", level="error", source=name)
        if os.environ.get("WINDFARM_DEBUG"):
            traceback.print_exc()
        outcome = SourceOutcome(name, ok=False, error=message[:2000])
    else:
        rows = sum(outcome.rows.values())
        tables = ", ".join(f"{table} {count:,}" for table, count in sorted(outcome.rows.items()))
        level = "info" if outcome.ok else "error"
        text = f"loaded {rows:,} rows ({tables or 'no table'})"
        if not outcome.ok:
            text += f"; FAILED in part: {outcome.error}"
        logs.event(name, text, level=level, source=name, rows=rows, tables=outcome.rows)
    notes = _pending_notes.pop(name, [])
    if notes:
        outcome.details["pending_packages"] = notes
    discarded = [note for note in notes if note.startswith("discarded")]
    if discarded:
        outcome.ok = False
        outcome.error = "; ".join(filter(None, [outcome.error, *discarded]))[:2000]
    return outcome


def _storage_hint(settings: Settings, name: str, error: BaseException) -> str:
    """A full disk or a refused write often comes without a file name (a write, not an
    open): say which of the folders the source writes to is short of space, or which it is."""
    root = list(_causes(error))[-1]
    if not isinstance(root, OSError) or root.filename or root.errno not in _STORAGE_ERRNOS:
        return ""
    folders = {"dlt working folder": Path(settings.dlt_dir) / settings.database}
    if name == "production_csv":
        folders["CSV inbox"] = Path(settings.csv_inbox)
    described = []
    for label, folder in folders.items():
        existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if existing is None:
            continue
        free = shutil.disk_usage(existing).free
        described.append(f"{label} {folder}: {free / 1e6:,.1f} MB free")
    return f" (writing to: {'; '.join(described)})" if described else ""


@contextmanager
def _run_lock(settings: Settings, owner: str, held: runlock.RunLock | None) -> Iterator[None]:
    """The caller's lock (a backfill holds one for all its days) or one for this run."""
    if held is not None:
        yield
        return
    with runlock.hold(settings, owner):
        yield


def _status(sources: list[SourceOutcome], dbt: transform.DbtOutcome) -> str:
    failed_sources = [s for s in sources if not s.ok]
    if dbt.status not in ("success", "deferred") or (
        sources and len(failed_sources) == len(sources)
    ):
        return "failed"
    return "partial" if failed_sources else "success"


def _weather_catch_up(settings: Settings, run_id: str, date_from: date) -> list[date]:
    """Earlier days to ask the weather API for again: covered by an earlier run but still
    without complete weather (the API was down that night). The request then starts at
    the first of them."""
    try:
        missing = recovery.weather_days_to_catch_up(settings, run_id, date_from)
    except Exception as error:  # noqa: BLE001 - catching up is a bonus, never a failure
        logs.event("weather_api", f"could not look for days to catch up: {error}", level="warning")
        return []
    if missing:
        logs.event(
            "weather_api",
            f"catching up {', '.join(f'{day}' for day in missing)}: covered by an earlier "
            "run but without complete weather",
            source="weather_api",
            catch_up=[f"{day}" for day in missing],
        )
    return missing


def run(
    settings: Settings,
    date_from: date,
    date_to: date,
    *,
    with_report: bool = True,
    build: bool = True,
    lock: runlock.RunLock | None = None,
) -> RunOutcome:
    """The whole day (or range) in one step: what cron calls through `python -m loaders run`.

    Holds the run lock for its duration (RunLockedError if another run has it) unless the
    caller already holds it; `build=False` loads only (dbt deferred to the caller, as a
    backfill does). Raises WarehouseError, before anything is written, when PostgreSQL
    cannot be reached.
    """
    run_id = new_run_id()
    with _run_lock(settings, run_id, lock):
        logs.set_run(run_id)
        logs.event(
            "run",
            f"{run_id}: {date_from} .. {date_to} into {settings.database}",
            date_from=date_from,
            date_to=date_to,
            database=settings.database,
        )
        for closed in recovery.close_interrupted_runs(settings, run_id):
            logs.event("run", f"run {closed} never finished: recorded as failed", level="warning")
        audit.record_start(settings, run_id, date_from, date_to)
        try:
            pseudonymiser = Pseudonymiser(settings.pseudonym_key)
            catch_up = _weather_catch_up(settings, run_id, date_from)
            weather_from = min([date_from, *catch_up])
            sources = [
                _guarded(
                    "sensor_db",
                    lambda: load_sensor_db(settings, date_from, date_to, pseudonymiser),
                    settings,
                ),
                _guarded(
                    "production_csv",
                    lambda: load_production_csv(settings, pseudonymiser),
                    settings,
                ),
                _guarded(
                    "weather_api",
                    lambda: load_weather(settings, weather_from, date_to),
                    settings,
                ),
            ]
            if catch_up:
                sources[-1].details["caught_up_days"] = [f"{day}" for day in catch_up]
            if build:
                dbt = transform.build(settings)
            else:
                logs.event("dbt", "dbt build deferred: the caller builds once for all its days")
                dbt = transform.DbtOutcome(status="deferred")
        except BaseException as error:  # an interruption or a bug: close the audit row first
            _record_interruption(settings, run_id, error)
            raise
        status = _status(sources, dbt)
        report_path = report_file(settings, run_id) if with_report else None
        outcome = RunOutcome(
            run_id,
            status,
            sources,
            dbt,
            str(report_path) if report_path else None,
            date_from,
            date_to,
        )
        errors = outcome.errors()
        if dbt.failures:
            errors["dbt"] = dbt.failures
        audit.record_end(
            settings,
            run_id,
            status=status,
            rows_by_source={s.name: {"tables": s.rows, **s.details} for s in sources},
            errors=errors,
            dbt_status=dbt.status,
            report_path=str(report_path) if report_path else None,
        )
        if report_path and not _write_report(settings, run_id):
            outcome.report_path = None
        logs.event(
            "run",
            f"{run_id}: {status}",
            level="info" if status == "success" else "error",
            status=status,
            exit_code=outcome.exit_code,
        )
        return outcome


def build_only(
    settings: Settings,
    date_from: date,
    date_to: date,
    *extra: str,
    with_report: bool = True,
    lock: runlock.RunLock | None = None,
) -> RunOutcome:
    """`dbt build` (with `extra` arguments) as a run of its own: audited, reported, locked.
    Its run_id ends in `-dbt`: it loads nothing, so it says nothing about a day's sources."""
    run_id = new_run_id(recovery.DBT_ONLY_SUFFIX)
    with _run_lock(settings, run_id, lock):
        logs.set_run(run_id)
        logs.event("run", f"{run_id}: dbt build for {date_from} .. {date_to}")
        for closed in recovery.close_interrupted_runs(settings, run_id):
            logs.event("run", f"run {closed} never finished: recorded as failed", level="warning")
        audit.record_start(settings, run_id, date_from, date_to)
        try:
            dbt = transform.build(settings, *extra)
        except BaseException as error:
            _record_interruption(settings, run_id, error)
            raise
        status = _status([], dbt)
        report_path = report_file(settings, run_id) if with_report else None
        outcome = RunOutcome(
            run_id, status, [], dbt, str(report_path) if report_path else None, date_from, date_to
        )
        audit.record_end(
            settings,
            run_id,
            status=status,
            rows_by_source={},
            errors={"dbt": dbt.failures} if dbt.failures else outcome.errors(),
            dbt_status=dbt.status,
            report_path=str(report_path) if report_path else None,
        )
        if report_path and not _write_report(settings, run_id):
            outcome.report_path = None
        logs.event("run", f"{run_id}: {status}", level="info" if status == "success" else "error")
        return outcome


def _record_interruption(settings: Settings, run_id: str, error: BaseException) -> None:
    """Close the audit row of a run that stops half-way; if even that fails (the database
    is what went away), the next run closes it (recovery.close_interrupted_runs)."""
    reason = "interrupted" if isinstance(error, KeyboardInterrupt) else "crashed"
    message = f"{reason}: {type(error).__name__}: {error}".strip()[:2000]
    logs.event("run", f"{run_id}: failed, {message}", level="error", stream="stderr")
    try:
        audit.record_end(
            settings,
            run_id,
            status="failed",
            rows_by_source={},
            errors={"run": message},
            dbt_status="not run",
            report_path=None,
        )
    except Exception as audit_error:  # noqa: BLE001 - the original error matters more
        logs.event("run", f"could not close the audit row: {audit_error}", level="error")


def report_file(settings: Settings, run_id: str) -> Path:
    return Path(settings.reports_dir) / run_id / "index.html"


def _write_report(settings: Settings, run_id: str) -> bool:
    """The quality page, written after the audit row so that it shows this run's outcome.
    Its failure is reported but does not fail the data."""
    from loaders.quality_report import write_report

    try:
        write_report(settings, run_id, report_file(settings, run_id))
    except Exception as error:  # noqa: BLE001
        print(f"[report] could not write the quality page: {type(error).__name__}: {error}")
        return False
    return True
