"""The `tuned` variant: prototypes of the fixes the benchmark found, applied without editing
the project's files, so that `--variant tuned` measures them on the same rows.

Sensor loader (the project's code: loaders/sources/sensor_db, loaders/pipeline.py):
the profile of the current source (`python -m cProfile` on `load_sensor_db`, 30 days x 100
turbines) put the time in reading the historian through SQLAlchemy and pandas (Python
objects per value), parsing timestamps with `format="mixed"`, the per-row Python dates of
`measured_date`, and in the load: a merge through the staging dataset writes every row
twice. The prototype:

1. reads the historian with connectorx straight into Arrow record batches (C/Rust, no
   Python object per value; any URL connectorx knows: sqlite, postgresql, mysql, mssql);
2. converts in Arrow compute: strict ISO timestamps parsed by `strptime`, units by
   vectorised arithmetic, `measured_date` by a cast; any batch the fast path cannot read
   exactly (other timestamp formats, offsets, text numbers) goes through the current
   pandas code, so the result is the same row for row;
3. appends (no staging copy, no merge) when raw holds none of the window's days, i.e. on
   a backfill, and merges (delete-insert by `measured_date`, as now) otherwise; an index
   on `raw.scada_measurements (measured_date)` makes both that check and the merge's
   delete proportional to the window, not to the history;
4. hands dlt 250 k-row batches, so that files load in parallel, as parquet when the ADBC
   PostgreSQL driver is installed (`adbc-driver-postgresql`), else as CSV.

dbt (the project's dbt_project/): see `dbt_project()` below and scripts/bench/dbt_overlay.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dlt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from loaders import pipeline
from loaders.settings import PROJECT_ROOT, Settings
from loaders.sources import sensor_db
from loaders.sources.sensor_db.mapping import HistorianMapping, load_mapping

BATCH_ROWS = 250_000
REPROCESS_DAYS = 3  # dbt_project.yml var reprocess_days
# the where config of the big tables' tests (macro recent_test_window, in YAML form)
TEST_WINDOW = (
    "{{ 'true' if var('full_tests', false) else \"measured_date >= '\" ~ "
    "env_var('WINDFARM_TEST_WINDOW_FROM', '1900-01-01') ~ \"'::date\" }}"
)
OVERLAY = Path(__file__).resolve().parent / "dbt_overlay"
MEASUREMENTS = "scada_measurements"
# what dbt's reprocess window looks up (scripts/bench/dbt_overlay/macros/reprocess_window.sql)
INDEXES = {
    "scada_measurements__measured_date__idx": "measured_date",
    "scada_measurements__dlt_load_id__idx": "_dlt_load_id",
}
# models whose tests check only the recent days on a daily run (var full_tests for all)
WINDOWED_TEST_MODELS = frozenset(
    {
        "stg_scada__measurements",
        "int_measurements_deduplicated",
        "int_measurements_gridded",
        "int_measurements_flagged",
        "fct_turbine_measurements",
    }
)


def connectorx_url(url: str) -> str:
    """connectorx takes the SQLAlchemy URL without its `+driver` part."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


def _batches(url: str, query: str) -> Iterator[pa.RecordBatch]:
    import connectorx as cx

    reader = cx.read_sql(
        connectorx_url(url), query, return_type="arrow_stream", batch_size=BATCH_ROWS
    )
    yield from reader


def _fast_timestamps(values: pa.ChunkedArray | pa.Array, zone: str) -> pa.Array | None:
    """UTC timestamps from ISO text or timestamp columns; None when the fast path cannot
    guarantee the same result as the pandas path (then the batch takes that path)."""
    if pa.types.is_timestamp(values.type):
        if values.type.tz is not None:
            return pc.cast(values, pa.timestamp("us", tz="UTC"))
        if zone == "UTC":
            return pc.cast(pc.cast(values, pa.timestamp("us")), pa.timestamp("us", tz="UTC"))
        return None
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        return None
    if zone != "UTC":
        return None
    parsed = pc.strptime(values, format="%Y-%m-%d %H:%M:%S", unit="us", error_is_null=True)
    if parsed.null_count != values.null_count:
        return None  # another format somewhere in the batch
    return pc.cast(parsed, pa.timestamp("us", tz="UTC"))


def _fast_clean(
    batch: pa.RecordBatch,
    mapping: HistorianMapping,
    table_name: str,
    start: datetime,
    end: datetime,
) -> pa.Table | None:
    """The batch as the clean rows of raw.scada_measurements, or None to use pandas."""
    measured_at = _fast_timestamps(batch.column(mapping.timestamp_column), mapping.timestamp_zone)
    if measured_at is None:
        return None
    turbine = batch.column(mapping.turbine_column)
    if not pa.types.is_string(turbine.type):
        return None
    turbine = pc.utf8_trim_whitespace(turbine)
    bad = pc.or_(pc.is_null(measured_at), pc.or_(pc.is_null(turbine), pc.equal(turbine, "")))
    if pc.any(bad).as_py():
        return None  # rejected rows: the pandas path writes them with their reasons
    columns: dict[str, Any] = {
        "source_row_id": pc.cast(batch.column(mapping.row_id_column), pa.int64())
        if mapping.row_id_column
        else pa.nulls(batch.num_rows, pa.int64()),
        "turbine_id": turbine,
        "measured_at": measured_at,
    }
    for signal in mapping.signals:
        values = batch.column(signal.source_name)
        if not (
            pa.types.is_floating(values.type)
            or pa.types.is_integer(values.type)
            or pa.types.is_null(values.type)
        ):
            return None
        values = pc.cast(values, pa.float64())
        if signal.convert is not None:
            numbers = values.to_numpy(zero_copy_only=False)
            values = pa.array(signal.convert(numbers), type=pa.float64(), from_pandas=True)
        columns[signal.canonical_name] = values
    clean = pa.table(columns)
    low = pa.scalar(pd.Timestamp(start, tz="UTC").to_pydatetime(), pa.timestamp("us", tz="UTC"))
    high = pa.scalar(pd.Timestamp(end, tz="UTC").to_pydatetime(), pa.timestamp("us", tz="UTC"))
    clean = clean.filter(pc.and_(pc.greater_equal(measured_at, low), pc.less(measured_at, high)))
    clean = clean.append_column("measured_date", pc.cast(clean["measured_at"], pa.date32()))
    return clean.append_column("_source_table", pa.repeat(pa.scalar(table_name), clean.num_rows))


def _window_query(
    table: sa.Table, mapping: HistorianMapping, start: datetime, end: datetime, dialect: sa.Dialect
) -> str:
    ts_column = table.c[mapping.timestamp_column]
    low, high = sensor_db._window_bounds(ts_column, start, end)
    order = [table.c[mapping.row_id_column]] if mapping.row_id_column else [ts_column]
    query = (
        sa.select(*[table.c[name] for name in mapping.source_columns])
        .where(ts_column >= low, ts_column < high)
        .order_by(*order)
    )
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def fast_measurements(
    url: str,
    mapping_file: str,
    table_name: str,
    start: datetime,
    end: datetime,
    stats: sensor_db.SensorDbStats,
) -> Iterator[object]:
    """Items of the measurements resource: Arrow tables, rejected rows with hints."""
    engine = sa.create_engine(url)
    mapping = load_mapping(Path(mapping_file))
    table = sa.Table(table_name, sa.MetaData(), autoload_with=engine)
    missing = [name for name in mapping.source_columns if name not in table.c]
    if missing:
        raise ValueError(
            f"sensor table {table_name!r} has no column(s) {', '.join(missing)} "
            "named in the mapping file"
        )
    query = _window_query(table, mapping, start, end, engine.dialect)
    engine.dispose()
    for batch in _batches(url, query):
        clean = _fast_clean(batch, mapping, table_name, start, end)
        if clean is not None:
            stats.rows_read += clean.num_rows
            if clean.num_rows:
                yield clean
            continue
        yield from _pandas_fallback(batch, mapping, table_name, start, end, stats)


def _pandas_fallback(
    batch: pa.RecordBatch,
    mapping: HistorianMapping,
    table_name: str,
    start: datetime,
    end: datetime,
    stats: sensor_db.SensorDbStats,
) -> Iterator[object]:
    """The current source's code on one batch (written to a throw-away SQLite table so
    that `_measurement_frames` reads it exactly as it reads the historian)."""
    engine = sa.create_engine("sqlite://")
    batch.to_pandas().to_sql(table_name, engine, index=False)
    for clean, rejected in sensor_db._measurement_frames(
        engine, table_name, mapping, start, end, stats
    ):
        if len(clean):
            yield pa.Table.from_pandas(clean, preserve_index=False)
        if len(rejected):
            yield dlt.mark.with_hints(
                pa.Table.from_pandas(rejected, preserve_index=False),
                dlt.mark.make_hints(
                    table_name=f"{MEASUREMENTS}__rejected",
                    write_disposition="merge",
                    primary_key="_record_hash",
                ),
                create_table_variant=True,
            )
    engine.dispose()


def _window_is_empty(settings: Settings, start: datetime, end: datetime) -> bool:
    """True when raw holds no row of the window's days (a backfill: append is exact)."""
    from loaders import warehouse

    connection = warehouse.connect(settings, "loader")
    try:
        with connection.cursor() as cursor:
            cursor.execute("select to_regclass('raw.scada_measurements') is not null")
            if not cursor.fetchone()[0]:
                return True
            cursor.execute(
                "select not exists (select 1 from raw.scada_measurements "
                "where measured_date >= %s and measured_date < %s)",
                (start.date(), end.date()),
            )
            return bool(cursor.fetchone()[0])
    finally:
        connection.close()


def _ensure_date_index(settings: Settings) -> None:
    from loaders import warehouse

    connection = warehouse.connect(settings, "loader")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for name, column in INDEXES.items():
                cursor.execute(
                    f"create index if not exists {name} on raw.scada_measurements ({column})"
                )
            # dlt never analyzes: without statistics the planner scans the whole table for
            # the window look-ups (ANALYZE samples a fixed number of rows: a constant cost)
            cursor.execute("analyze raw.scada_measurements")
    finally:
        connection.close()


def load_sensor_db(
    settings: Settings, date_from: Any, date_to: Any, pseudonymiser: Any
) -> pipeline.SourceOutcome:
    """`pipeline.load_sensor_db` with the fast measurements resource (same outcome)."""
    stats = sensor_db.SensorDbStats()
    start = pipeline._utc_midnight(date_from - timedelta(days=settings.sensor_lookback_days))
    end = pipeline._utc_midnight(date_to + timedelta(days=1))
    source = sensor_db.sensor_db_source(
        url=settings.sensor_db_url,
        mapping_file=settings.sensor_mapping,
        measurements_table=settings.sensor_table,
        start=start,
        end=end,
        pseudonymiser=pseudonymiser,
        stats=stats,
    )
    backfill = _window_is_empty(settings, start, end)
    measurements = source.resources[MEASUREMENTS]
    measurements.selected = False
    fast = dlt.resource(
        fast_measurements(
            settings.sensor_db_url,
            settings.sensor_mapping,
            settings.sensor_table,
            start,
            end,
            stats,
        ),
        name=f"{MEASUREMENTS}_fast",
        table_name=MEASUREMENTS,
        write_disposition="append"
        if backfill
        else {"disposition": "merge", "strategy": "delete-insert"},
        merge_key="measured_date",
    )
    source.resources.add(fast)
    dlt_pipeline = pipeline.dlt_pipeline(settings, "sensor_db")
    started = time.perf_counter()
    dlt_pipeline.run(source, loader_file_format=file_format())
    _ensure_date_index(settings)
    return pipeline.SourceOutcome(
        "sensor_db",
        ok=True,
        rows=pipeline._row_counts(dlt_pipeline),
        details={
            "rows_read": stats.rows_read,
            "rows_rejected": stats.rows_rejected,
            "unmapped_columns": stats.unmapped_columns,
            "window": [start.isoformat(), end.isoformat()],
            "mode": "append" if backfill else "merge",
            "format": file_format(),
            "seconds": round(time.perf_counter() - started, 2),
        },
    )


def file_format() -> str:
    """parquet through ADBC when its driver is installed (dlt's fastest PostgreSQL path)."""
    try:
        import adbc_driver_postgresql  # noqa: F401
    except ImportError:
        return "csv"
    return "parquet"


def test_window_from(settings: Settings) -> str:
    """First day the big tables' tests check: the newest loaded day minus the reprocess
    days and two more (the days a daily run can have changed)."""
    from loaders import warehouse

    connection = warehouse.connect(settings, "transformer")
    try:
        with connection.cursor() as cursor:
            cursor.execute("select max(measured_date) from raw.scada_measurements")
            newest = cursor.fetchone()[0]
    finally:
        connection.close()
    return "1900-01-01" if newest is None else str(newest - timedelta(days=REPROCESS_DAYS + 2))


def _build_with_test_window(build: Any) -> Any:
    """`transform.build` with WINDFARM_TEST_WINDOW_FROM set for dbt (the pipeline knows
    which days it loaded; here it is read from raw)."""

    def wrapper(settings: Settings, *extra: str) -> Any:
        os.environ["WINDFARM_TEST_WINDOW_FROM"] = test_window_from(settings)
        return build(settings, *extra)

    return wrapper


def install() -> None:
    """Swap the prototypes in (in the benchmark's step process only)."""
    try:
        import connectorx  # noqa: F401
    except ImportError as error:
        raise SystemExit(
            "the tuned variant reads the historian with connectorx: "
            "pip install -r requirements-dev.txt"
        ) from error

    os.environ.setdefault("DATA_WRITER__FILE_MAX_ITEMS", str(BATCH_ROWS))
    os.environ.setdefault("NORMALIZE__WORKERS", "1")
    os.environ.setdefault("LOAD__WORKERS", "4")
    pipeline.load_sensor_db = load_sensor_db
    from loaders import transform

    transform.build = _build_with_test_window(transform.build)


def _window_tests(test: object) -> object:
    """A YAML test entry with `where: recent_test_window()` added to its config."""
    where = {"where": TEST_WINDOW}
    if isinstance(test, str):
        return {test: {"config": where}}
    if isinstance(test, dict) and len(test) == 1:
        name, body = next(iter(test.items()))
        body = dict(body or {})
        body["config"] = {**body.get("config", {}), **where}
        return {name: body}
    return test


def _window_yaml_tests(project: Path) -> None:
    """Give the tests of the big models the recent-days window (in the copy only)."""
    import yaml

    for path in (project / "models").rglob("*.yml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        changed = False
        for model in document.get("models", []):
            if model.get("name") not in WINDOWED_TEST_MODELS:
                continue
            for holder in [model, *model.get("columns", [])]:
                for key in ("data_tests", "tests"):
                    if holder.get(key):
                        holder[key] = [_window_tests(test) for test in holder[key]]
                        changed = True
        if changed:
            path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def dbt_project(work: Path) -> Path:
    """A copy of dbt_project/ with scripts/bench/dbt_overlay/ laid over it (and the seeds
    beside it, where its `../seeds_csv` seed path looks)."""
    target = work / "dbt_project_tuned"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(
        PROJECT_ROOT / "dbt_project",
        target,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    seeds = work / "seeds_csv"
    if seeds.is_symlink() or seeds.exists():
        seeds.unlink()
    seeds.symlink_to(PROJECT_ROOT / "seeds_csv")
    if OVERLAY.is_dir():
        for path in OVERLAY.rglob("*"):
            if path.is_file():
                destination = target / path.relative_to(OVERLAY)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination)
    _window_yaml_tests(target)
    (target / "bench_overlay.json").write_text(
        json.dumps(
            sorted(str(p.relative_to(OVERLAY)) for p in OVERLAY.rglob("*") if p.is_file())
            if OVERLAY.is_dir()
            else []
        ),
        encoding="utf-8",
    )
    return target
