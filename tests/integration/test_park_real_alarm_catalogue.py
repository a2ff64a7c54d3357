"""A maker's real alarm catalogue becomes a park's, by configuration alone, and an alarm log
with text codes lands through it into the failure events the ML labels use.

Fuhrländer's FL2500 catalogue (wind_plant_data.json: 369 codes, column-wise JSON with
description, system and subsystem) is converted by `python -m loaders alarm-catalogue`
with config/fuhrlander_fl2500/alarm_catalogue.yaml: the committed reference/alarm_codes.csv
is what the real file gives. Then an alarm log of that park, its codes in a TEXT column as
a controller writes them (padded with blanks, and a remark that is no code), goes through
the sensor loader and dbt on PostgreSQL: every row lands in raw (none rejected), the
catalogued codes reach fct_alarms with the catalogue's meaning, the remark is held aside,
and the failure codes become failure events of their component. The file is read in place
from ../shared/data/real/ and the test skips, saying so, where it is absent.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import date

import pytest
from conftest import fuhrlander_warehouse
from warehouse_sql import query, scalar

from loaders.onboarding import alarm_catalogue
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import PROJECT_ROOT, Settings
from loaders.sources.sensor_db.load import load_sensor_db
from loaders.transform import dbt

CATALOGUE = PROJECT_ROOT.parent / "shared/data/real/fuhrlander_fl2500/wind_plant_data.json"
PARK = PROJECT_ROOT / "config" / "fuhrlander_fl2500"
DAY = date(2013, 3, 1)
REMARK = "reset by hand, see logbook"
# (turbine, code as the alarm table holds it, start, end): a gearbox bearing over its
# shutdown limit and a generator bearing likewise (failures), a filter-oil stop and a
# manual stop (not failures), a remark the catalogue cannot know
ALARMS = [
    ("80", "1372", "2013-03-01 02:00:00", "2013-03-01 06:00:00"),
    ("81", " 2066 ", "2013-03-01 03:10:00", None),
    ("82", "1379", "2013-03-01 04:00:00", "2013-03-01 04:30:00"),
    ("83", "13", "2013-03-01 05:00:00", "2013-03-01 05:20:00"),
    ("84", REMARK, "2013-03-01 07:00:00", "2013-03-01 07:05:00"),
]


def catalogue_rows() -> dict[str, tuple[str, str, str]]:
    """code -> (description, system, subsystem) as the maker's file has them."""
    table = json.loads(CATALOGUE.read_text(encoding="utf-8"))["alarm_dictionary"]
    return {
        str(code): (desc, system, subsystem)
        for code, desc, system, subsystem in zip(
            table["alarm_id"],
            table["alarm_desc"],
            table["alarm_system"],
            table["alarm_subsystem"],
            strict=True,
        )
    }


def committed() -> dict[str, dict[str, str]]:
    with (PARK / "reference" / "alarm_codes.csv").open(encoding="utf-8", newline="") as handle:
        return {row["alarm_code"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def fuhrlander(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    if not CATALOGUE.is_file():
        pytest.skip(f"the real data file is absent ({CATALOGUE})")
    work = tmp_path_factory.mktemp("fuhrlander")
    sensor = work / "sensor.db"
    with closing(sqlite3.connect(sensor)) as connection, connection:
        connection.execute(
            "create table scada (turbine_id text, date_time text, wind_speed real,"
            " active_power real)"
        )
        connection.executemany(
            "insert into scada values (?, ?, 7.5, 900.0)",
            [(str(t), f"2013-03-01 {h:02d}:00:00") for t in range(80, 85) for h in (1, 2)],
        )
        connection.execute(
            "create table alarm_event (id integer primary key, turbine_id text,"
            " alarm_code text, started_at_utc text, ended_at_utc text, acknowledged_by text)"
        )
        connection.executemany(
            "insert into alarm_event (turbine_id, alarm_code, started_at_utc, ended_at_utc,"
            " acknowledged_by) values (?, ?, ?, ?, 'Ana Operadora')",
            ALARMS,
        )
    with fuhrlander_warehouse(settings, work, "fuhrlander", sensor) as isolated:
        yield isolated


def test_the_committed_catalogue_is_what_the_real_file_gives() -> None:
    if not CATALOGUE.is_file():
        pytest.skip(f"the real data file is absent ({CATALOGUE})")
    text = alarm_catalogue.convert(CATALOGUE, PARK)

    assert text == (PARK / "reference" / "alarm_codes.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    maker = catalogue_rows()
    assert len(maker) == 369
    assert [row["alarm_code"] for row in rows] == list(maker)
    assert all(row["description"] == maker[row["alarm_code"]][0] for row in rows)
    by_code = {row["alarm_code"]: row for row in rows}
    # the maker's subsystems, and the finer components the rules find in the descriptions
    assert by_code["1019"]["component"] == "pitch_system"  # Rotor|Pitch
    assert by_code["1372"]["component"] == "gearbox_bearing"  # MGB TempBear151 > SHH
    assert by_code["2066"]["component"] == "generator_bearing"  # Gen TempBear DE > SHH
    assert (by_code["1372"]["is_failure"], by_code["1379"]["is_failure"]) == ("true", "false")
    assert by_code["100"]["component"] == "grid"
    assert by_code["100"]["is_failure"] == "false"  # an external cause is no failure
    assert by_code["13"]["is_stop"] == "true"
    assert by_code["13"]["is_failure"] == "false"


def test_an_alarm_log_with_text_codes_becomes_failure_events(fuhrlander: Settings) -> None:
    outcome = load_sensor_db(fuhrlander, DAY, DAY, Pseudonymiser(fuhrlander.pseudonym_key))

    assert outcome.ok
    landed = query(
        fuhrlander, "select turbine_id, alarm_code from raw.scada_alarms order by source_row_id"
    )
    assert landed == [(turbine, code.strip()) for turbine, code, *_ in ALARMS]
    assert (
        scalar(fuhrlander, "select to_regclass('raw.scada_alarms__rejected') is null") is True
    )  # nothing rejected: a rejected row would have created the table

    build = dbt.build(
        fuhrlander,
        "--select",
        "+fct_alarms",
        "+int_failure_events_unioned",
        "--indirect-selection",
        "cautious",
    )
    assert build.status == "success", build.failures

    codes = committed()
    published = query(
        fuhrlander,
        "select turbine_id, alarm_code, alarm_description, component, is_stop, is_failure"
        " from core.fct_alarms order by started_at",
    )
    expected = [(turbine, code.strip()) for turbine, code, *_ in ALARMS if code.strip() in codes]
    assert [(row[0], row[1]) for row in published] == expected
    for _, code, description, component, is_stop, is_failure in published:
        assert description == catalogue_rows()[code][0]
        assert component == codes[code]["component"]
        assert (is_stop, is_failure) == (
            codes[code]["is_stop"] == "true",
            codes[code]["is_failure"] == "true",
        )
    # the remark stays in staging, out of what is published
    assert (
        scalar(
            fuhrlander,
            "select count(*) from staging.stg_scada__alarms where alarm_code = %s",
            (REMARK,),
        )
        == 1
    )
    events = query(
        fuhrlander,
        "select turbine_id, component, failure_source, is_onset"
        " from intermediate.int_failure_events_unioned order by failed_at",
    )
    assert events == [
        ("80", "gearbox_bearing", "alarm", True),
        ("81", "generator_bearing", "alarm", True),
    ]
