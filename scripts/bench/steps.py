"""One measured step of the benchmark, run in its own process.

    python -m scripts.bench.steps <step> --result out.json [--from D] [--to D] [...]

Why a process per step: peak memory (`ru_maxrss`) only grows within a process, so the
loader's peak must not include the generator's or another step's; and a step that starts
fresh pays what cron pays. The settings come from the `WINDFARM_*` environment, exactly as
in production; the orchestrator (`scripts.bench.run_bench`) sets them.

The step writes {seconds, rows, peak_rss_mib, ...} to --result. `seconds` times the work
itself, not the interpreter's start and imports (reported apart as `startup_seconds`).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import psycopg2.extensions

_STARTED = time.perf_counter()

from loaders import warehouse  # noqa: E402 - timed from process start
from loaders.privacy.pseudonymise import Pseudonymiser  # noqa: E402
from loaders.run import pipeline  # noqa: E402
from loaders.settings import Settings, load_settings  # noqa: E402
from loaders.sources import landing  # noqa: E402
from loaders.sources.production_csv.load import load_production_csv  # noqa: E402
from loaders.sources.sensor_db import load as sensor_load  # noqa: E402
from loaders.sources.weather_api.load import load_weather  # noqa: E402
from loaders.transform import dbt  # noqa: E402
from scripts.bench.fleet import SCADA_TABLE  # noqa: E402

COPY_SCHEMA = "bench"
COPY_TABLE = "scada_copy"
RAW_COPY_TABLE = "raw_copy"


def peak_rss_mib() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest waited-for child (dbt), MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def _dbt_nodes(settings: Settings, top: int = 12) -> dict[str, Any]:
    """The slowest dbt nodes of the last build and dbt's own elapsed time (the profile)."""
    path = Path(settings.dbt_target_dir) / "run_results.json"
    if not path.exists():
        return {}
    results = json.loads(path.read_text(encoding="utf-8"))
    nodes = sorted(
        ((r["unique_id"], round(r["execution_time"], 2), r["status"]) for r in results["results"]),
        key=lambda node: -node[1],
    )
    return {
        "dbt_elapsed_seconds": round(results.get("elapsed_time", 0.0), 2),
        "dbt_nodes": len(results["results"]),
        "dbt_slowest": nodes[:top],
    }


def step_copy(settings: Settings, date_from: date, date_to: date, work: Path) -> dict[str, Any]:
    """The ceiling: the window's historian rows COPYed into a logged table.

    The rows are first exported from the historian to a CSV file (timed apart as
    `export_seconds`), then `COPY ... FROM STDIN` streams that file: the time of COPY
    alone, with the same rows, columns and types the loader lands (minus its metadata)."""
    csv_path = work / f"copy_{date_from}_{date_to}.csv"
    database = settings.sensor_db_url.removeprefix("sqlite:///")
    started = time.perf_counter()
    rows = 0
    with closing(sqlite3.connect(database)) as source, csv_path.open("w", newline="") as out:
        cursor = source.execute(
            f"select * from {SCADA_TABLE} where ts_utc >= ? and ts_utc < ? order by id",  # noqa: S608 - the table name is a constant
            (date_from.isoformat(), _next_day(date_to)),
        )
        names = [column[0] for column in cursor.description]
        writer = csv.writer(out)
        while batch := cursor.fetchmany(50_000):
            writer.writerows(batch)
            rows += len(batch)
    export_seconds = time.perf_counter() - started
    key_types = {"id": "bigint", "turbine_id": "text", "ts_utc": "timestamptz"}
    columns = ", ".join(f"{name} {key_types.get(name, 'double precision')}" for name in names)
    table = f"{COPY_SCHEMA}.{COPY_TABLE}"
    connection = warehouse.connect(settings, "admin")
    try:
        with connection.cursor() as cursor:
            cursor.execute("set time zone 'UTC'")  # the CSV's timestamps are UTC text
            seconds, _ = _copy_into_new_table(connection, table, f"({columns})", csv_path, "csv")
            cursor.execute(f"drop table {table}")
            connection.commit()
    finally:
        connection.close()
        csv_path.unlink(missing_ok=True)
    return {"seconds": seconds, "rows": rows, "export_seconds": export_seconds}


def _copy_into_new_table(
    connection: psycopg2.extensions.connection,
    table: str,
    definition: str,
    path: Path,
    copy_format: str,
) -> tuple[float, int]:
    """(seconds, rows) of `COPY table FROM STDIN` of the file into `table`, created anew
    (`create table <table> <definition>`, untimed) and committed, left for the caller."""
    with connection.cursor() as cursor:
        cursor.execute(f"create schema if not exists {COPY_SCHEMA}")
        cursor.execute(f"drop table if exists {table}")
        cursor.execute(f"create table {table} {definition}")
        connection.commit()
        started = time.perf_counter()
        with path.open("rb") as handle:
            cursor.copy_expert(f"copy {table} from stdin with (format {copy_format})", handle)
        rows = cursor.rowcount
        connection.commit()
    return time.perf_counter() - started, rows


def step_copy_raw(settings: Settings, work: Path) -> dict[str, Any]:
    """A second reference: the rows the loader landed, exported exactly as raw holds them
    (its 25 columns, the load and row ids included), COPYed into a new table in
    PostgreSQL's binary format (its fastest: nothing to parse, and the loader's ADBC path
    sends binary too), then the same two indexes built the same way and the same
    statistics taken.

    Why: the ceiling writes the historian's columns into a bare table; a loader into raw
    writes more columns and must index them. This is what any loader into raw pays on
    the server before it has read anything, measured in every run rather than argued."""
    data_path = work / "copy_raw.bin"
    table = f"{COPY_SCHEMA}.{RAW_COPY_TABLE}"
    connection = warehouse.connect(settings, "admin")
    try:
        with connection.cursor() as cursor:
            with data_path.open("wb") as out:  # binary: no time zone, no text to parse
                sql = "copy raw.scada_measurements to stdout with (format binary)"
                cursor.copy_expert(sql, out)
            copy_seconds, rows = _copy_into_new_table(
                connection, table, "(like raw.scada_measurements)", data_path, "binary"
            )
            started = time.perf_counter()
            sensor_load.build_indexes(settings, "admin", table, sensor_load.RAW_MEASUREMENT_INDEXES)
            cursor.execute(f"analyze {table} ({sensor_load.RAW_MEASUREMENT_STATISTICS})")
            connection.commit()
            seconds = copy_seconds + time.perf_counter() - started
            cursor.execute(f"drop table {table}")
            connection.commit()
    finally:
        connection.close()
        data_path.unlink(missing_ok=True)
    return {
        "seconds": seconds,
        "rows": rows,
        "parts": {"copy": round(copy_seconds, 2), "indexes": round(seconds - copy_seconds, 2)},
    }


def _next_day(day: date) -> str:
    return date.fromordinal(day.toordinal() + 1).isoformat()


def step_load(settings: Settings, date_from: date, date_to: date) -> dict[str, Any]:
    """The project's sensor loader, end to end into raw (extract, normalize, load, merge).

    `parts` splits its time (dlt's own trace of its steps, the raw index builds and
    statistics, the rest: pipeline set-up and the window check), so that the page says
    where a backfill's time goes in every run, not from a one-off profile."""
    parts: dict[str, float] = {}
    sensor_load._index_raw_measurements = _timed(
        parts, "raw_indexes", sensor_load._index_raw_measurements
    )
    started = time.perf_counter()
    outcome = sensor_load.load_sensor_db(
        settings, date_from, date_to, Pseudonymiser(settings.pseudonym_key)
    )
    seconds = time.perf_counter() - started
    parts = {**_dlt_steps(settings, "sensor_db"), **parts}
    parts["other"] = seconds - sum(parts.values())
    return {
        "seconds": seconds,
        "rows": outcome.rows.get("scada_measurements", 0),
        "rows_read": outcome.details.get("rows_read"),
        "tables": outcome.rows,
        "parts": {name: round(value, 2) for name, value in parts.items()},
    }


def _dlt_steps(settings: Settings, name: str) -> dict[str, float]:
    """Seconds of each step of the pipeline's last run, from dlt's trace."""
    trace = landing.dlt_pipeline(settings, name)[0].last_trace
    if trace is None:
        return {}
    return {
        f"dlt_{step.step}": (step.finished_at - step.started_at).total_seconds()
        for step in trace.steps
        if step.step != "run" and step.finished_at is not None
    }


def step_csv(settings: Settings) -> dict[str, Any]:
    """The production CSV inbox (setup: the dbt project needs its raw tables)."""
    started = time.perf_counter()
    outcome = load_production_csv(settings, Pseudonymiser(settings.pseudonym_key))
    if not outcome.ok:
        raise RuntimeError(f"production CSV load failed: {outcome.error}")
    return {"seconds": time.perf_counter() - started, "rows": sum(outcome.rows.values())}


def step_weather(settings: Settings, date_from: date, date_to: date) -> dict[str, Any]:
    """Hourly weather of the history from the demo weather server (setup, like the CSVs)."""
    started = time.perf_counter()
    outcome = load_weather(settings, date_from, date_to)
    return {"seconds": time.perf_counter() - started, "rows": sum(outcome.rows.values())}


def step_dbt(settings: Settings, *args: str) -> dict[str, Any]:
    started = time.perf_counter()
    outcome = dbt.build(settings, *args)
    seconds = time.perf_counter() - started
    if outcome.status != "success":
        raise RuntimeError(f"dbt build {' '.join(args)} ended {outcome.status}: {outcome.failures}")
    return {"seconds": seconds, **_dbt_nodes(settings)}


def _timed(parts: dict[str, float], name: str, function: Callable) -> Callable:
    """Wrap a step of `pipeline.run` so that the run's time splits by part (a profile)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            parts[name] = parts.get(name, 0.0) + time.perf_counter() - started

    return wrapper


def step_run(settings: Settings, day: date) -> dict[str, Any]:
    """The whole daily run for one day, as cron runs it: sources, dbt build, audit, page."""
    parts: dict[str, float] = {}
    for name in ("load_sensor_db", "load_production_csv", "load_weather", "_write_report"):
        setattr(pipeline, name, _timed(parts, name, getattr(pipeline, name)))
    pipeline.dbt.build = _timed(parts, "dbt_build", dbt.build)
    started = time.perf_counter()
    outcome = pipeline.run(settings, day, day)
    seconds = time.perf_counter() - started
    if outcome.status != "success":
        errors = {s.name: s.error for s in outcome.sources if s.error}
        raise RuntimeError(f"daily run {day} ended {outcome.status}: {errors} {outcome.dbt}")
    sensor = next(s for s in outcome.sources if s.name == "sensor_db")
    return {
        "seconds": seconds,
        "rows": sensor.rows.get("scada_measurements", 0),
        "parts": {name: round(value, 2) for name, value in parts.items()},
        **_dbt_nodes(settings),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "step", choices=("copy", "load", "copy-raw", "csv", "weather", "dbt", "run")
    )
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--from", dest="date_from", type=date.fromisoformat)
    parser.add_argument("--to", dest="date_to", type=date.fromisoformat)
    parser.add_argument("--work", type=Path, default=Path("."))
    parser.add_argument("dbt_args", nargs="*", help="extra arguments of `dbt build`")
    args = parser.parse_args(argv)
    settings = load_settings()
    startup = time.perf_counter() - _STARTED
    if args.step == "copy":
        result = step_copy(settings, args.date_from, args.date_to, args.work)
    elif args.step == "load":
        result = step_load(settings, args.date_from, args.date_to)
    elif args.step == "copy-raw":
        result = step_copy_raw(settings, args.work)
    elif args.step == "csv":
        result = step_csv(settings)
    elif args.step == "weather":
        result = step_weather(settings, args.date_from, args.date_to)
    elif args.step == "dbt":
        result = step_dbt(settings, *args.dbt_args)
    else:
        result = step_run(settings, args.date_from)
    own, children = peak_rss_mib()
    result.update(
        step=args.step,
        startup_seconds=round(startup, 2),
        peak_rss_mib=round(own, 1),
        peak_rss_children_mib=round(children, 1),
    )
    args.result.write_text(json.dumps(result, default=str, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
