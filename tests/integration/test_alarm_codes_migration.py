"""A warehouse loaded when alarm codes were integers takes text codes after one bootstrap.

Before, raw.scada_alarms.alarm_code was bigint, in PostgreSQL and in dlt's schema, with
dbt's staging view over it; dlt refuses to change a column's type. The loader then stops
with what to run; `bootstrap` migrates the column (scripts/bootstrap/05_migrations.sql),
and the next load tells dlt and lands text codes. No dbt build: the old state (the
column bigint in PostgreSQL and in dlt's schema, dbt's staging view over it) is made by
hand.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from conftest import fuhrlander_warehouse
from warehouse_sql import query, scalar

from loaders import warehouse
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import Settings
from loaders.sources.landing import dlt_pipeline
from loaders.sources.sensor_db.load import AlarmCodesNotMigrated, load_sensor_db

DAY = date(2013, 3, 1)


def alarm_source(path: Path, codes: list[str]) -> None:
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("drop table if exists scada")
        connection.execute("drop table if exists alarm_event")
        connection.execute(
            "create table scada (turbine_id text, date_time text, wind_speed real,"
            " active_power real)"
        )
        connection.execute("insert into scada values ('80', '2013-03-01 01:00:00', 7.5, 900)")
        connection.execute(
            "create table alarm_event (id integer primary key, turbine_id text,"
            " alarm_code text, started_at_utc text, ended_at_utc text, acknowledged_by text)"
        )
        connection.executemany(
            "insert into alarm_event (turbine_id, alarm_code, started_at_utc) values"
            " ('80', ?, '2013-03-01 02:00:00')",
            [(code,) for code in codes],
        )


@pytest.fixture(scope="module")
def old_warehouse(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    work = tmp_path_factory.mktemp("alarm_migration")
    with fuhrlander_warehouse(settings, work, "alarm_migration", work / "sensor.db") as isolated:
        yield isolated


def test_bootstrap_migrates_integer_alarm_codes_to_text(old_warehouse: Settings) -> None:
    settings = old_warehouse
    key = Pseudonymiser(settings.pseudonym_key)
    sensor = Path(settings.sensor_db_url.removeprefix("sqlite:///"))
    # the warehouse as the integer-code loader left it: the column bigint in PostgreSQL
    # and in dlt's schema, dbt's staging view over it
    alarm_source(sensor, ["1372"])
    load_sensor_db(settings, DAY, DAY, key)
    admin = warehouse.connect(settings, "admin")
    try:
        with admin, admin.cursor() as cursor:
            cursor.execute(
                "alter table raw.scada_alarms alter column alarm_code type bigint"
                " using alarm_code::bigint"
            )
            cursor.execute(
                "create view staging.stg_scada__alarms as select alarm_code from raw.scada_alarms"
            )
    finally:
        admin.close()
    pipeline, _ = dlt_pipeline(settings, "sensor_db")
    schema = pipeline.schemas["sensor_db"]
    schema.tables["scada_alarms"]["columns"]["alarm_code"]["data_type"] = "bigint"
    pipeline.schemas.save_schema(schema)
    column_type = (
        "select data_type from information_schema.columns where table_schema = 'raw'"
        " and table_name = 'scada_alarms' and column_name = 'alarm_code'"
    )
    assert scalar(settings, column_type) == "bigint"

    alarm_source(sensor, ["1372", "FL-2314"])
    with pytest.raises(AlarmCodesNotMigrated, match="python -m loaders bootstrap"):
        load_sensor_db(settings, DAY, DAY, key)

    warehouse.bootstrap(settings)
    assert scalar(settings, column_type) == "text"
    load_sensor_db(settings, DAY, DAY, key)

    assert query(settings, "select alarm_code from raw.scada_alarms order by source_row_id") == [
        ("1372",),
        ("FL-2314",),
    ]
    assert scalar(settings, "select to_regclass('raw.scada_alarms__rejected') is null") is True
    warehouse.bootstrap(settings)  # a second bootstrap changes nothing
    assert scalar(settings, column_type) == "text"


def test_a_current_warehouse_keeps_its_staging_view_through_bootstrap(
    settings: Settings, tmp_path: Path
) -> None:
    """dlt lands text as varchar: a warehouse loaded with text codes has nothing to migrate,
    and a bootstrap (each `loaders run` may do one) must not drop dbt's view over it."""
    with fuhrlander_warehouse(settings, tmp_path, "alarm_current", tmp_path / "sensor.db") as own:
        alarm_source(tmp_path / "sensor.db", ["1372", "FL-2314"])
        load_sensor_db(own, DAY, DAY, Pseudonymiser(own.pseudonym_key))
        query(own, "create view staging.stg_scada__alarms as select * from raw.scada_alarms")
        warehouse.bootstrap(own)
        assert scalar(own, "select to_regclass('staging.stg_scada__alarms') is not null") is True
