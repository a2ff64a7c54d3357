"""A mapped column that is empty over the whole window is reported in the run's details
(`empty_signals`) and its log, not left for an analyst to discover as a column of nulls."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

from loaders import warehouse
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import Settings
from loaders.sources.sensor_db import load as sensor_load

MAPPING = """source_name,canonical_name,source_unit
wtg,turbine_id,
stamp,measured_at,UTC
ws,wind_speed_avg,m/s
oil,gearbox_oil_temp_avg,degC
"""


def test_a_mapped_column_without_any_value_is_reported(settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "historian.db"
    with sqlite3.connect(source) as connection:
        connection.execute("create table scada (wtg text, stamp text, ws real, oil real)")
        connection.executemany(
            "insert into scada values (?, ?, ?, null)",
            [("T1", f"2024-03-01 00:{minute:02d}:00", 5.0 + minute) for minute in (0, 10, 20)],
        )
    mapping = tmp_path / "historian.csv"
    mapping.write_text(MAPPING, encoding="utf-8")
    isolated = replace(
        settings,
        database=f"{settings.database}_empty",
        dlt_dir=str(tmp_path / "dlt"),
        sensor_db_url=f"sqlite:///{source}",
        sensor_table="scada",
        sensor_mapping=str(mapping),
        sensor_turbine_table="",
        sensor_alarm_table="",
        sensor_lookback_days=0,
    )
    warehouse.bootstrap(isolated)
    try:
        outcome = sensor_load.load_sensor_db(
            isolated, date(2024, 3, 1), date(2024, 3, 1), Pseudonymiser(isolated.pseudonym_key)
        )
    finally:
        warehouse.drop_database(isolated)
    assert outcome.details["rows_loaded"] == 3
    assert outcome.details["empty_signals"] == ["gearbox_oil_temp_avg"]
