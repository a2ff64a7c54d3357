"""The incremental models give the rows a full refresh gives, over the same data.

On a copy of the demo month's database: every model is built in full from the data up to
a day D; then a later load brings the later days (with a newer dlt load id, as a later
load writes them), a reload of an older day whose values changed, and a late corrective
maintenance intervention on a still older day (a gearbox failure nobody had logged). An
incremental run must then hold exactly what `--full-refresh` rebuilds from scratch, table
for table and column for column: the reloaded day is found through its load id, the late
intervention turns its periods to `down` and gives the month before it failure labels.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from warehouse_sql import query, scalar

from loaders.settings import Settings
from loaders.transform.dbt import run_dbt

FACT = "core.fct_turbine_measurements"
ML = "ml.ml_turbine_hourly_features"
SCRATCH = "dbt_test_scratch"
# Every incremental model of the project.
INCREMENTAL = (
    "intermediate.int_measurement_conflicts_set_aside",
    "intermediate.int_measurements_deduplicated",
    "intermediate.int_measurements_gridded",
    "intermediate.int_measurements_flagged",
    "intermediate.int_measurements_weather_joined",
    "intermediate.int_turbine_states_classified",
    "intermediate.int_turbine_hours_aggregated",
    "intermediate.int_turbine_hours_labelled",
    "intermediate.int_turbine_hours_fitted",
    "core.fct_turbine_measurements",
    "core.fct_turbine_hourly",
    "ml.ml_turbine_hourly_features",
    "intermediate.int_signal_days_counted",
    "intermediate.int_qc_flag_days_counted",
    "intermediate.int_wind_speed_days_binned",
    "intermediate.int_measurement_rows_days_counted",
    "intermediate.int_turbine_local_days_measured",
)
# Tables rebuilt every run from the incremental ones: compared too.
FROM_INCREMENTAL = (
    "quality.quality_completeness",
    "quality.quality_qc_flag_counts",
    "quality.quality_wind_speed_distribution",
    "quality.quality_source_rows",
    "core.fct_daily_production",
    "core.dim_date",
    "intermediate.int_turbines_parameterised",
)
# The data arrive up to this day first; the later days come with a later load. It lies
# more than var('reprocess_days') before the month's last day, so only the load ids can
# tell the incremental run to rebuild those days.
FIRST_LOAD_UNTIL = date(2025, 10, 20)
# An older day reloaded by the later load, with one value changed.
RELOADED_DAY = date(2025, 10, 12)
# A corrective intervention on a still older day, logged late (in the later load).
LATE_TURBINE = "MTC-T01"
LATE_FAILED_AT = datetime(2025, 10, 8, 10, 0, tzinfo=UTC)
LATE_REPAIRED_AT = LATE_FAILED_AT + timedelta(hours=4)


def dbt(settings: Settings, *args: str) -> None:
    completed = run_dbt(settings, *args)
    assert completed.returncode == 0, f"dbt {' '.join(args)} failed (see its output above)"


@pytest.fixture(scope="module")
def copy(demo, database_copy) -> Iterator[Settings]:  # noqa: ANN001
    """A copy of the demo month's database, dropped afterwards."""
    settings, _, _ = demo
    with database_copy(settings, "inc") as copied:
        yield copied


def comparable(settings: Settings, table: str) -> str:
    """A select of the table's columns, floating ones rounded to 6 decimals (window sums
    may add the same values in another order)."""
    schema, name = table.split(".")
    columns = query(
        settings,
        "select column_name, data_type from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position",
        (schema, name),
    )
    assert columns, f"{table} has no columns"
    return ", ".join(
        f"round({column}::numeric, 6) as {column}"
        if kind in ("double precision", "real", "numeric")
        else column
        for column, kind in columns
    )


def differences(settings: Settings, table: str, snapshot: str) -> tuple[int, int]:
    """Rows of the snapshot missing from the table, and rows of the table not in it."""
    columns = comparable(settings, table)
    left = f"select {columns} from {snapshot}"
    right = f"select {columns} from {table}"
    return query(
        settings,
        f"select (select count(*) from ({left} except all {right}) as missing), "
        f"(select count(*) from ({right} except all {left}) as unexpected)",
    )[0]


def snapshot_name(table: str) -> str:
    return f"{SCRATCH}.{table.replace('.', '__')}"


def late_load(settings: Settings) -> str:
    """The later load: the held days, a reloaded day with a changed value, and a late
    corrective intervention (a copy of a logged one, moved to another turbine and day)."""
    load_id = f"{time.time():.6f}"
    query(settings, f"insert into raw.scada_measurements select * from {SCRATCH}.held")
    query(
        settings,
        "update raw.scada_measurements set _dlt_load_id = %s where measured_date > %s",
        (load_id, FIRST_LOAD_UNTIL),
    )
    changed = query(
        settings,
        "update raw.scada_measurements set _dlt_load_id = %s, "
        "gearbox_oil_temp_avg = case when measured_at = ("
        "  select min(measured_at) from raw.scada_measurements where measured_date = %s"
        ") and turbine_id = 'MTC-T01' then 88.8 else gearbox_oil_temp_avg end "
        "where measured_date = %s returning gearbox_oil_temp_avg",
        (load_id, RELOADED_DAY, RELOADED_DAY),
    )
    assert any(row[0] == 88.8 for row in changed)
    columns = [
        name
        for (name,) in query(
            settings,
            "select column_name from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'maintenance_log' "
            "order by ordinal_position",
        )
    ]
    replaced = {
        "intervention_id": "intervention_id || '-late'"
        if scalar(
            settings,
            "select data_type from information_schema.columns where table_schema = 'raw' "
            "and table_name = 'maintenance_log' and column_name = 'intervention_id'",
        )
        in ("text", "character varying")
        else "intervention_id + 100000",
        "turbine_id": "%(turbine)s",
        "started_at": "%(failed_at)s",
        "ended_at": "%(repaired_at)s",
        "component": "'gearbox'",
        "_dlt_load_id": "%(load_id)s",
        "_dlt_id": "md5(random()::text)",
    }
    select_list = ", ".join(replaced.get(column, column) for column in columns)
    inserted = query(
        settings,
        f"insert into raw.maintenance_log ({', '.join(columns)}) "
        f"select {select_list} from raw.maintenance_log "
        "where lower(intervention_type) like 'correct%%' limit 1 returning 1",
        {
            "turbine": LATE_TURBINE,
            "failed_at": LATE_FAILED_AT,
            "repaired_at": LATE_REPAIRED_AT,
            "load_id": load_id,
        },
    )
    assert inserted, "the demo's maintenance log has no corrective intervention to copy"
    return load_id


# the margin_days of the on-run-start hook in dbt_project/dbt_project.yml
TEST_WINDOW_MARGIN_DAYS = 2


def last_test_window(settings: Settings) -> date | None:
    """The first day the latest dbt invocation's tests checked (None: every day)."""
    return scalar(
        settings,
        "select window_from from intermediate.dbt_test_windows order by recorded_at desc limit 1",
    )


def test_incremental_runs_equal_full_refresh(copy: Settings) -> None:
    query(copy, f"create schema {SCRATCH}")
    # 1. Only the days up to FIRST_LOAD_UNTIL are loaded: the later ones are held back.
    query(
        copy,
        f"create table {SCRATCH}.held as select * from raw.scada_measurements "
        "where measured_date > %s",
        (FIRST_LOAD_UNTIL,),
    )
    query(copy, "delete from raw.scada_measurements where measured_date > %s", (FIRST_LOAD_UNTIL,))
    dbt(copy, "run", "--full-refresh")
    first_days = scalar(copy, f"select count(distinct measured_date) from {FACT}")
    assert first_days == FIRST_LOAD_UNTIL.day
    labels_before = scalar(
        copy,
        f"select count(*) filter (where will_fail_gearbox_30d) from {ML} "
        "where turbine_id = %s and hour_at < %s and hour_at >= %s",
        (LATE_TURBINE, LATE_FAILED_AT, LATE_FAILED_AT - timedelta(days=30)),
    )

    # 2. A later load, then an incremental run (twice: a run with nothing new changes
    # nothing).
    late_load(copy)
    dbt(copy, "run")
    # The tests of that run checked from the late intervention's day (the first rewritten
    # day is the day before it) on, less the margin: what its on-run-start hook recorded
    # before the run changed anything (macros/test_window.sql).
    margin = timedelta(days=1 + TEST_WINDOW_MARGIN_DAYS)
    assert last_test_window(copy) == LATE_FAILED_AT.date() - margin
    dbt(copy, "run")
    # Nothing newer than the fact then: the window is the reprocess days before the newest.
    assert last_test_window(copy) == date(2025, 10, 31) - timedelta(days=3) - margin
    for table in (*INCREMENTAL, *FROM_INCREMENTAL):
        query(copy, f"create table {snapshot_name(table)} as table {table}")

    (reloaded_value,) = query(
        copy,
        f"select gearbox_oil_temp_avg from {FACT} where turbine_id = 'MTC-T01' "
        "and measured_at = (select min(measured_at) from raw.scada_measurements "
        "where measured_date = %s)",
        (RELOADED_DAY,),
    )[0]
    assert reloaded_value == 88.8, "the incremental run missed the reloaded day"
    (state,) = query(
        copy,
        f"select operating_state from {FACT} where turbine_id = %s and measured_at = %s",
        (LATE_TURBINE, LATE_FAILED_AT + timedelta(hours=1)),
    )[0]
    assert state == "down", "the incremental run missed the late intervention"
    labels_after = scalar(
        copy,
        f"select count(*) filter (where will_fail_gearbox_30d) from {ML} "
        "where turbine_id = %s and hour_at < %s and hour_at >= %s",
        (LATE_TURBINE, LATE_FAILED_AT, LATE_FAILED_AT - timedelta(days=30)),
    )
    assert labels_after > labels_before, "the late failure labelled no earlier hour"

    # 3. A full refresh over the same data gives the same rows, in every incremental model.
    dbt(copy, "run", "--full-refresh")
    assert scalar(copy, f"select count(distinct measured_date) from {FACT}") == 31
    different = {
        table: found
        for table in (*INCREMENTAL, *FROM_INCREMENTAL)
        if (found := differences(copy, table, snapshot_name(table))) != (0, 0)
    }
    assert not different, f"(missing, unexpected) rows of the incremental run: {different}"


def test_every_incremental_table_is_vacuumed_after_each_run(demo) -> None:  # noqa: ANN001
    # A fixed dead-row threshold (macros/autovacuum_each_run.sql): with PostgreSQL's
    # default, a year-long table would wait weeks of daily windows for autovacuum.
    settings = demo[0]
    manifest = json.loads((Path(settings.dbt_target_dir) / "manifest.json").read_text())
    incremental = {
        f"{node['schema']}.{node['alias']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    }
    tuned = {
        row[0]
        for row in query(
            settings,
            "select relnamespace::regnamespace::text || '.' || relname from pg_class "
            "where reloptions @> array['autovacuum_vacuum_scale_factor=0', "
            "'autovacuum_vacuum_threshold=10000']",
        )
    }
    assert len(incremental) >= 10 and tuned == incremental


def test_a_new_table_gets_statistics_of_every_column_a_daily_run_of_its_keys(
    copy: Settings,
) -> None:
    """macros/analyze_after_build.sql: ANALYZE of every column was most of a daily build's
    statistics time; a daily run analyzes the unique key and the indexed columns only, and
    a table built anew (first build, full refresh) every column."""
    table, measure, key = "core.fct_turbine_hourly", "wind_speed_mean", "hour_date"
    has_stats = (
        "select count(*) = 1 from pg_stats where schemaname || '.' || tablename = %s "
        "and attname = %s"
    )
    forget = (  # as the superuser: statistics as if the column had never been analyzed
        "delete from pg_statistic where starelid = %s::regclass and staattnum in "
        "(select attnum from pg_attribute where attrelid = %s::regclass and attname in %s)"
    )
    dbt(copy, "run", "--full-refresh", "-s", "fct_turbine_hourly")
    assert scalar(copy, has_stats, (table, measure)) and scalar(copy, has_stats, (table, key))

    query(copy, forget, (table, table, (measure, key)))
    dbt(copy, "run", "-s", "fct_turbine_hourly")  # incremental: the daily run's path
    assert scalar(copy, has_stats, (table, key))  # the key: analyzed
    assert not scalar(copy, has_stats, (table, measure))  # the measure: left as it was

    dbt(copy, "run", "--full-refresh", "-s", "fct_turbine_hourly")
    assert scalar(copy, has_stats, (table, measure))
