"""The demo month end to end on the real database: counts, no loss, idempotent re-runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from warehouse_sql import query, scalar

from loaders.demo_park.park import DEMO_END, DEMO_START
from loaders.run import pipeline
from loaders.settings import Settings

TURBINES = 3
DAYS = (DEMO_END - DEMO_START).days + 1
MODELLED_SCHEMAS = ("raw", "staging", "intermediate", "core", "quality")
# Columns that describe the loads themselves (which load or API request, how many, when):
# a re-run legitimately changes them (a weather hour fetched by a one-day run's request is
# fetched again by the month's); the data must not change.
LOAD_METADATA_COLUMNS = (
    "_dlt_load_id",
    "_dlt_id",
    "dlt_load_id",
    "dlt_id",
    "_request",
    "source_request",
    "load_count",
    "last_loaded_at",
    "last_rejected_at",
)
FLOAT_TYPES = ("double precision", "real")


def table_fingerprints(settings: Settings) -> dict[str, tuple[int, str]]:
    """Row count and a content hash of every table, dlt's per-load columns left out."""
    tables = query(
        settings,
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in {MODELLED_SCHEMAS} and table_type = 'BASE TABLE' "
        "and table_name not like '\\_dlt%' "
        # dbt's bookkeeping: the test window of each build, a row per build by design
        "and table_name != 'dbt_test_windows'",
    )
    fingerprints = {}
    for schema, table in tables:
        columns = query(
            settings,
            "select column_name, data_type from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{table}' "
            f"and column_name not in {LOAD_METADATA_COLUMNS} "
            "order by column_name",
        )
        # A sum of doubles depends on the order rows are added in, which a rebuild may
        # change: compare floating values to 6 decimals, far below any sensor's resolution.
        rendered = [
            f'round("{name}"::numeric, 6)' if kind in FLOAT_TYPES else f'"{name}"'
            for name, kind in columns
        ]
        row_text = "row(" + ", ".join(rendered) + ")::text"
        count, digest = query(
            settings,
            f"select count(*), md5(coalesce(string_agg({row_text}, '|' order by {row_text}), '')) "
            f'from "{schema}"."{table}"',
        )[0]
        fingerprints[f"{schema}.{table}"] = (count, digest)
    return fingerprints


def test_the_demo_month_runs_cleanly(demo) -> None:  # noqa: ANN001
    _, _, outcome = demo
    assert outcome.status == "success", (outcome.sources, outcome.dbt.failures)
    assert outcome.dbt.status == "success"
    assert outcome.exit_code == 0


def test_every_scada_row_lands(demo, demo_dir: Path) -> None:  # noqa: ANN001
    settings, _, _ = demo
    with sqlite3.connect(demo_dir / "sources" / "sensor.db") as source:
        source_rows = source.execute("select count(*) from scada_10min").fetchone()[0]
        source_alarms = source.execute("select count(*) from alarm_event").fetchone()[0]
    landed = scalar(settings, "select count(*) from raw.scada_measurements")
    rejected = scalar(
        settings,
        "select count(*) from information_schema.tables "
        "where table_schema = 'raw' and table_name = 'scada_measurements__rejected'",
    )
    rejected_rows = (
        scalar(settings, "select count(*) from raw.scada_measurements__rejected") if rejected else 0
    )
    assert landed + rejected_rows == source_rows
    assert 12_000 <= source_rows <= 14_000
    assert scalar(settings, "select count(*) from raw.scada_alarms") == source_alarms
    assert scalar(settings, "select count(*) from staging.stg_scada__measurements") == landed


def test_every_csv_row_is_loaded_or_rejected(demo) -> None:  # noqa: ANN001
    settings, _, outcome = demo
    csv = next(s for s in outcome.sources if s.name == "production_csv")
    for file_name, read in csv.details["rows_read"].items():
        loaded = csv.details["rows_loaded"][file_name]
        rejected = csv.details["rows_rejected"][file_name]
        assert read == loaded + rejected
        in_db = scalar(
            settings,
            f"select (select count(*) from raw.production_daily where _source_file = '{file_name}')"
            f" + (select count(*) from raw.maintenance_log where _source_file = '{file_name}')",
        )
        rejected_in_db = scalar(
            settings,
            "select (select count(*) from raw.production_daily__rejected "
            f"where _source_file = '{file_name}') + (select count(*) from "
            f"raw.maintenance_log__rejected where _source_file = '{file_name}')",
        )
        assert (in_db, rejected_in_db) == (loaded, rejected)
    assert sum(csv.details["rows_rejected"].values()) >= 3  # the demo's broken rows


def test_the_star_schema_has_the_whole_month(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    assert scalar(settings, "select count(*) from core.dim_turbine") == TURBINES
    grid = scalar(settings, "select count(*) from core.fct_turbine_measurements")
    assert grid == TURBINES * DAYS * 144
    present = scalar(
        settings, "select count(*) from core.fct_turbine_measurements where not is_gap"
    )
    distinct_source = scalar(
        settings,
        "select count(distinct (turbine_id, measured_at)) from raw.scada_measurements",
    )
    assert present == distinct_source
    assert scalar(settings, "select count(*) from core.fct_weather_hourly") == DAYS * 24
    assert scalar(settings, "select count(*) from core.dim_date") >= DAYS


def test_the_run_is_audited(demo) -> None:  # noqa: ANN001
    settings, _, outcome = demo
    status, rows, role = query(
        settings,
        "select status, rows_by_source, db_role from audit.pipeline_runs "
        f"where run_id = '{outcome.run_id}'",
    )[0]
    assert status == "success"
    assert role == settings.transformer_user
    assert rows["sensor_db"]["tables"]["scada_measurements"] > 12_000
    assert Path(outcome.report_path).is_file()


def test_the_analyst_reads_marts_and_nothing_upstream(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    assert query(settings, "select count(*) from core.dim_turbine", role="analyst") == [(3,)]
    with pytest.raises(Exception, match="permission denied"):
        query(settings, "select count(*) from raw.scada_measurements", role="analyst")


def test_running_the_same_dates_again_changes_nothing(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    before = table_fingerprints(settings)
    again = pipeline.run(settings, DEMO_START, DEMO_END, with_report=False)
    assert again.status == "success"
    after = table_fingerprints(settings)
    assert after.keys() == before.keys()
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert not changed
