"""The incremental SCADA fact gives the rows a full refresh gives, over the same days.

On a copy of the demo month's database: the fact is built in full from the data up to a
day D; then the later days arrive (with a newer dlt load id, as a later load writes them)
together with a reload of an older day whose values changed; an incremental run must then
hold exactly what `--full-refresh` rebuilds from scratch, column for column.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from psycopg2 import sql

from loaders import warehouse
from loaders.settings import Settings
from loaders.transform import run_dbt

FACT = "core.fct_turbine_measurements"
SCRATCH = "dbt_test_scratch"
# The data arrive up to this day first; the later days come with a later load. It lies
# more than var('reprocess_days') before the month's last day, so only the load ids can
# tell the incremental run to rebuild those days.
FIRST_LOAD_UNTIL = date(2025, 10, 20)
# An older day reloaded by the later load, with one value changed.
RELOADED_DAY = date(2025, 10, 12)


def copy_database(settings: Settings, target: str) -> None:
    """CREATE DATABASE ... TEMPLATE: a file-level copy of the session's database (needs no
    other session connected to it, hence the retries)."""
    admin = warehouse.connect(settings, "admin", "postgres")
    admin.autocommit = True
    statement = sql.SQL("create database {} template {} owner windfarm_owner").format(
        sql.Identifier(target), sql.Identifier(settings.database)
    )
    try:
        with admin.cursor() as cursor:
            for attempt in range(10):
                try:
                    cursor.execute(statement)
                    return
                except Exception as error:  # noqa: BLE001 - retried, then reported
                    if "being accessed by other users" not in str(error) or attempt == 9:
                        raise
                    time.sleep(1)
    finally:
        admin.close()


def execute(settings: Settings, statement: str, params: tuple = ()) -> list[tuple]:
    connection = warehouse.connect(settings, "admin")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def dbt(settings: Settings, *args: str) -> None:
    completed = run_dbt(settings, *args)
    assert completed.returncode == 0, f"dbt {' '.join(args)} failed (see its output above)"


@pytest.fixture(scope="module")
def copy(demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:  # noqa: ANN001
    """A copy of the demo month's database, dropped afterwards."""
    settings, _, _ = demo
    copied = replace(
        settings,
        database=f"{settings.database}_inc_{secrets.token_hex(3)}",
        dbt_target_dir=str(Path(tmp_path_factory.mktemp("dbt_incremental")) / "target"),
    )
    copy_database(settings, copied.database)
    try:
        yield copied
    finally:
        warehouse.drop_database(copied)


def fact_differences(settings: Settings, snapshot: str) -> tuple[int, int]:
    """Rows of the snapshot missing from the fact, and rows of the fact not in the snapshot."""
    return execute(
        settings,
        f"select (select count(*) from (table {snapshot} except all table {FACT}) as missing), "
        f"(select count(*) from (table {FACT} except all table {snapshot}) as unexpected)",
    )[0]


def test_incremental_run_equals_full_refresh(copy: Settings) -> None:
    execute(copy, f"create schema {SCRATCH}")
    # 1. Only the days up to FIRST_LOAD_UNTIL are loaded: the later ones are held back.
    execute(
        copy,
        f"create table {SCRATCH}.held as select * from raw.scada_measurements "
        "where measured_date > %s",
        (FIRST_LOAD_UNTIL,),
    )
    execute(
        copy, "delete from raw.scada_measurements where measured_date > %s", (FIRST_LOAD_UNTIL,)
    )
    dbt(copy, "run", "--full-refresh", "--select", "+fct_turbine_measurements")
    first_days = execute(copy, f"select count(distinct measured_date) from {FACT}")[0][0]
    assert first_days == FIRST_LOAD_UNTIL.day

    # 2. A later load brings the held days and reloads an older day with a changed value.
    later_load = f"{time.time() + 3600:.6f}"
    execute(
        copy,
        f"insert into raw.scada_measurements select * from {SCRATCH}.held",
    )
    execute(
        copy,
        "update raw.scada_measurements set _dlt_load_id = %s where measured_date > %s",
        (later_load, FIRST_LOAD_UNTIL),
    )
    changed_row = execute(
        copy,
        "update raw.scada_measurements set _dlt_load_id = %s, "
        "gearbox_oil_temp_avg = case when measured_at = ("
        "  select min(measured_at) from raw.scada_measurements where measured_date = %s"
        ") and turbine_id = 'MTC-T01' then 88.8 else gearbox_oil_temp_avg end "
        "where measured_date = %s returning turbine_id, measured_at, gearbox_oil_temp_avg",
        (later_load, RELOADED_DAY, RELOADED_DAY),
    )
    assert any(row[2] == 88.8 for row in changed_row)
    dbt(copy, "run", "--select", "+fct_turbine_measurements")
    execute(copy, f"create table {SCRATCH}.incremental as table {FACT}")
    (reloaded_value,) = execute(
        copy,
        f"select gearbox_oil_temp_avg from {FACT} where turbine_id = 'MTC-T01' "
        "and measured_at = (select min(measured_at) from raw.scada_measurements "
        "where measured_date = %s)",
        (RELOADED_DAY,),
    )[0]
    assert reloaded_value == 88.8, "the incremental run missed the reloaded day"

    # 3. A full refresh over the same data gives the same rows.
    dbt(copy, "run", "--full-refresh", "--select", "fct_turbine_measurements")
    assert fact_differences(copy, f"{SCRATCH}.incremental") == (0, 0)
    days = execute(copy, f"select count(distinct measured_date) from {FACT}")[0][0]
    assert days == 31
