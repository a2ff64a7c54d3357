"""One pipeline run: extract-load every source, `dbt build`, the quality page, the audit row.

A source that fails is recorded and the others still load; the run is then `partial`.
Exit codes: 0 success, 2 partial (a source failed), 1 failed (dbt failed or nothing loaded).
"""

from __future__ import annotations

import os
import secrets
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import dlt
import pandas as pd
import sqlalchemy as sa
from dlt.destinations.impl.postgres.configuration import PostgresCredentials

from loaders import audit, transform
from loaders.pseudonymise import Pseudonymiser
from loaders.settings import Settings
from loaders.sources.production_csv import CsvStats, production_csv_source
from loaders.sources.sensor_db import TURBINE_TABLE, SensorDbStats, sensor_db_source
from loaders.sources.weather_api import WeatherStats, weather_api_source
from loaders.sources.weather_api.client import Site

EXIT_SUCCESS, EXIT_FAILED, EXIT_PARTIAL = 0, 1, 2
RAW_DATASET = "raw"

# dlt gzips its intermediate files by default: most of the load time on these volumes.
os.environ.setdefault("DATA_WRITER__DISABLE_COMPRESSION", "true")
# Arrow tables skip dlt's row normaliser, and with it the load id: ask for it, as every
# raw row must say which load brought it.
os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID", "true")


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

    @property
    def exit_code(self) -> int:
        return {"success": EXIT_SUCCESS, "partial": EXIT_PARTIAL}.get(self.status, EXIT_FAILED)


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def dlt_pipeline(settings: Settings, name: str) -> dlt.Pipeline:
    """A dlt pipeline landing in `raw` as the loader role; local state kept per database.

    A load package left pending by an interrupted run is finished first, deliberately:
    otherwise dlt would load it and ignore the new data of this run.
    """
    credentials = PostgresCredentials()
    credentials.parse_native_representation(settings.sqlalchemy_url("loader"))
    credentials.resolve()  # an empty password is legitimate (trust, peer or cert auth)
    pipeline = dlt.pipeline(
        pipeline_name=f"windfarm_{name}",
        destination=dlt.destinations.postgres(credentials=credentials),
        dataset_name=RAW_DATASET,
        pipelines_dir=str(Path(settings.dlt_dir) / settings.database),
        progress="log" if os.environ.get("WINDFARM_DLT_PROGRESS") else None,
    )
    if pipeline.has_pending_data:
        print(f"[{name}] finishing a load package left pending by an interrupted run")
        pipeline.normalize()
        pipeline.load()
    return pipeline


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
    source = sensor_db_source(
        url=settings.sensor_db_url,
        mapping_file=settings.sensor_mapping,
        measurements_table=settings.sensor_table,
        start=start,
        end=end,
        pseudonymiser=pseudonymiser,
        stats=stats,
    )
    pipeline = dlt_pipeline(settings, "sensor_db")
    pipeline.run(source)
    return SourceOutcome(
        "sensor_db",
        ok=True,
        rows=_row_counts(pipeline),
        details={
            "rows_read": stats.rows_read,
            "rows_rejected": stats.rows_rejected,
            "unmapped_columns": stats.unmapped_columns,
            "window": [start.isoformat(), end.isoformat()],
        },
    )


def load_production_csv(settings: Settings, pseudonymiser: Pseudonymiser) -> SourceOutcome:
    stats = CsvStats()
    pipeline = dlt_pipeline(settings, "production_csv")
    pipeline.run(production_csv_source(settings.csv_inbox, pseudonymiser, stats))
    error = None
    if stats.refused_files:
        error = "; ".join(stats.refused_files.values())
    return SourceOutcome(
        "production_csv",
        ok=not stats.refused_files,
        rows=_row_counts(pipeline),
        details={
            "rows_read": stats.rows_read,
            "rows_loaded": stats.rows_loaded,
            "rows_rejected": stats.rows_rejected,
            "refused_files": stats.refused_files,
        },
        error=error,
    )


def registry_sites(settings: Settings) -> list[Site]:
    """Site coordinates from the turbine registry: the mean position of each site's turbines."""
    engine = sa.create_engine(settings.sensor_db_url)
    frame = pd.read_sql(
        sa.text(
            f"select site_code, avg(latitude) as latitude, avg(longitude) as longitude "
            f"from {TURBINE_TABLE} group by site_code order by site_code"
        ),
        engine,
    )
    engine.dispose()
    return [
        Site(row.site_code, float(row.latitude), float(row.longitude)) for row in frame.itertuples()
    ]


def load_weather(settings: Settings, date_from: date, date_to: date) -> SourceOutcome:
    stats = WeatherStats()
    pipeline = dlt_pipeline(settings, "weather_api")
    source = weather_api_source(
        settings.weather_base_url, registry_sites(settings), date_from, date_to, stats
    )
    pipeline.run(source)
    return SourceOutcome(
        "weather_api",
        ok=True,
        rows=_row_counts(pipeline),
        details={"rows_read": stats.rows_read, "requests": stats.requests},
    )


def _guarded(name: str, load: Callable[[], SourceOutcome]) -> SourceOutcome:
    """Run one source; any failure is recorded with its cause, never raised."""
    print(f"[{name}] loading")
    try:
        return load()
    except Exception as error:  # noqa: BLE001 - one source must not stop the others
        message = f"{type(error).__name__}: {error}".strip()
        print(f"[{name}] FAILED: {message}")
        if os.environ.get("WINDFARM_DEBUG"):
            traceback.print_exc()
        return SourceOutcome(name, ok=False, error=message[:2000])


def run(
    settings: Settings, date_from: date, date_to: date, *, with_report: bool = True
) -> RunOutcome:
    """The whole day (or range): what cron calls through `python -m loaders run`."""
    run_id = new_run_id()
    print(f"[run] {run_id}: {date_from} .. {date_to} into {settings.database}")
    audit.record_start(settings, run_id, date_from, date_to)
    pseudonymiser = Pseudonymiser(settings.pseudonym_key)
    sources = [
        _guarded("sensor_db", lambda: load_sensor_db(settings, date_from, date_to, pseudonymiser)),
        _guarded("production_csv", lambda: load_production_csv(settings, pseudonymiser)),
        _guarded("weather_api", lambda: load_weather(settings, date_from, date_to)),
    ]
    dbt = transform.build(settings)
    failed_sources = [s for s in sources if not s.ok]
    if dbt.status != "success" or len(failed_sources) == len(sources):
        status = "failed"
    elif failed_sources:
        status = "partial"
    else:
        status = "success"
    report_path = report_file(settings, run_id) if with_report else None
    errors: dict[str, object] = {s.name: s.error for s in sources if s.error}
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
        report_path = None
    print(f"[run] {run_id}: {status}")
    return RunOutcome(run_id, status, sources, dbt, str(report_path) if report_path else None)


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
