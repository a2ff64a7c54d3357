"""Rejected rows follow their source (issue 24): a corrected source row or file supersedes
its earlier rejected rows, so that source rows = rows landed + rows rejected holds after
the correction too; a file, a turbine's day, or the run's read of the alarm table, with
every row rejected makes the run `partial` and names it. Loads only (no dbt build): the
loader is what decides both.

Each test has a demo-park warehouse of its own, two days long, and edits the park's
sources (its SQLite sensor database, its CSV inbox) between two runs."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from warehouse_sql import query, scalar, sensor_rows_landed

from loaders.run import pipeline
from loaders.settings import Settings
from loaders.sources.landing import SourceOutcome

FIRST, LAST = date(2025, 10, 1), date(2025, 10, 2)
WINDOW = ("2025-10-01", "2025-10-03")  # [FIRST, LAST + 1 day), as the source stores it
PRODUCTION_HEADER = "Date;Eolienne;Energie produite (kWh);Disponibilite (%);Heures de production"


@pytest.fixture
def park(settings: Settings, tmp_path: Path, park_warehouse: Callable) -> Iterator[Settings]:
    """An empty warehouse of its own, fed by a demo park of FIRST..LAST."""
    with park_warehouse(settings, tmp_path, "reject", FIRST, LAST, sensor_lookback_days=0) as (
        isolated,
        _,
    ):
        yield isolated


def source(settings: Settings, statement: str, params: tuple = ()) -> list[tuple]:
    """A statement on the park's sensor database (SQLite), committed."""
    path = Path(settings.sensor_db_url.removeprefix("sqlite:///"))
    with closing(sqlite3.connect(path)) as connection, connection:
        return connection.execute(statement, params).fetchall()


def load(settings: Settings) -> pipeline.RunOutcome:
    """The window loaded, as the daily run does, without the dbt build."""
    return pipeline.run(settings, FIRST, LAST, build=False, with_report=False)


def outcome_of(run: pipeline.RunOutcome, name: str) -> SourceOutcome:
    return next(s for s in run.sources if s.name == name)


def rejected(settings: Settings, table: str) -> int:
    """Rows in raw.<table> (0 before dlt creates it with its first row)."""
    if not scalar(settings, "select to_regclass(%s) is not null", (f"raw.{table}",)):
        return 0
    return int(scalar(settings, f"select count(*) from raw.{table}"))  # noqa: S608 - test's own name


def source_measurements(settings: Settings) -> int:
    """Source rows the window's run reads: those of its days, and those whose timestamp
    no day filter places (read, to be rejected)."""
    rows = source(
        settings,
        "select count(*) from scada_10min where (ts_utc >= ? and ts_utc < ?) "
        "or ts_utc not glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'",
        WINDOW,
    )
    return int(rows[0][0])


def assert_every_source_row_once(settings: Settings) -> None:
    """Measurements and alarms: source rows = rows landed + rows rejected."""
    assert sensor_rows_landed(settings) == source_measurements(settings)
    alarms = source(
        settings,
        "select count(*) from alarm_event where started_at_utc >= ? and started_at_utc < ?",
        WINDOW,
    )[0][0]
    landed = int(scalar(settings, "select count(*) from raw.scada_alarms"))
    assert landed + rejected(settings, "scada_alarms__rejected") == alarms


def test_corrected_sensor_rows_and_alarms_supersede_their_rejected_rows(park: Settings) -> None:
    """Four rejected rows, each corrected in the source; the next run of the same days
    leaves one rejected row: the one still wrong, under its new content."""
    # a value that is no number (day 1), a timestamp no day filter places (no day: found
    # again by its row id), a value still wrong after the correction (day 2)
    ids = [
        row[0]
        for row in source(
            park,
            "select min(id) from scada_10min where ts_utc >= ? and ts_utc < ? "
            "group by turbine_id order by turbine_id",
            WINDOW,
        )
    ]
    not_a_number, unplaceable = ids[0], ids[1]
    (still_wrong,) = source(park, "select min(id) from scada_10min where ts_utc >= '2025-10-02'")[0]
    (stamp,) = source(park, "select ts_utc from scada_10min where id = ?", (unplaceable,))[0]
    source(park, "update scada_10min set WMET_HorWdSpd = 'abc' where id = ?", (not_a_number,))
    source(park, "update scada_10min set ts_utc = '01/10/2025 x' where id = ?", (unplaceable,))
    source(park, "update scada_10min set WTUR_W = 'n/a' where id = ?", (still_wrong,))
    source(
        park,
        "insert into alarm_event (turbine_id, alarm_code, started_at_utc) "
        "values ('MTC-T01', '   ', '2025-10-01 06:00:00')",  # blanks: no code
    )
    (alarm,) = source(park, "select max(id) from alarm_event")[0]

    first = load(park)

    assert first.status == "success", first.errors()
    assert rejected(park, "scada_measurements__rejected") == 3
    assert rejected(park, "scada_alarms__rejected") == 1
    assert_every_source_row_once(park)

    source(park, "update scada_10min set WMET_HorWdSpd = 7.5 where id = ?", (not_a_number,))
    source(park, "update scada_10min set ts_utc = ? where id = ?", (stamp, unplaceable))
    source(park, "update scada_10min set WTUR_W = 'n/d' where id = ?", (still_wrong,))
    source(park, "update alarm_event set alarm_code = 1001 where id = ?", (alarm,))

    second = load(park)

    assert second.status == "success", second.errors()
    assert query(
        park, "select source_row_id, raw_record like '%n/d%' from raw.scada_measurements__rejected"
    ) == [(still_wrong, True)]
    assert rejected(park, "scada_alarms__rejected") == 0
    landed = query(
        park,
        "select source_row_id, wind_speed_avg from raw.scada_measurements "
        "where source_row_id in (%s, %s)",
        (not_a_number, unplaceable),
    )
    assert sorted(row_id for row_id, _ in landed) == sorted([not_a_number, unplaceable])
    assert dict(landed)[not_a_number] == 7.5
    assert scalar(park, "select count(*) from raw.scada_alarms where source_row_id = %s", (alarm,))
    assert outcome_of(second, "sensor_db").details["rejected_rows_superseded"] == {
        "scada_measurements__rejected": 3,  # the one still wrong is replaced by its new version
        "scada_alarms__rejected": 1,
    }
    assert_every_source_row_once(park)


def test_a_turbine_day_with_every_row_rejected_makes_the_run_partial_and_names_it(
    park: Settings,
) -> None:
    source(
        park,
        "update scada_10min set WTUR_W = 'ERR' where turbine_id = 'MTC-T02' "
        "and ts_utc >= '2025-10-02'",
    )

    run = load(park)

    assert (run.status, run.exit_code) == ("partial", pipeline.EXIT_PARTIAL)
    sensor = outcome_of(run, "sensor_db")
    assert not sensor.ok and "MTC-T02 2025-10-02" in sensor.error, sensor.error
    assert "MTC-T01" not in sensor.error and "2025-10-01" not in sensor.error
    assert query(
        park,
        "select status, errors ->> 'sensor_db' from audit.pipeline_runs where run_id = %s",
        (run.run_id,),
    ) == [("partial", sensor.error)]
    assert_every_source_row_once(park)

    source(park, "update scada_10min set WTUR_W = 1000 where WTUR_W = 'ERR'")

    corrected = load(park)

    assert corrected.status == "success", corrected.errors()
    assert rejected(park, "scada_measurements__rejected") == 0
    assert_every_source_row_once(park)


def test_an_alarm_read_with_every_row_rejected_makes_the_run_partial_and_names_it(
    park: Settings,
) -> None:
    """Every alarm of the window without a turbine id (a broken view, say): none lands,
    the run is partial and names the alarm table; one corrected is enough for a success.
    (An alarm whose start cannot be placed in a day is not counted: test_hostile_run.)"""
    alarms = source(
        park,
        "select id, turbine_id from alarm_event where started_at_utc >= ? "
        "and started_at_utc < ? order by id",
        WINDOW,
    )
    assert len(alarms) >= 2, alarms
    source(
        park,
        "update alarm_event set turbine_id = '' where started_at_utc >= ? and started_at_utc < ?",
        WINDOW,
    )

    run = load(park)

    assert (run.status, run.exit_code) == ("partial", pipeline.EXIT_PARTIAL)
    sensor = outcome_of(run, "sensor_db")
    assert not sensor.ok, sensor.details
    assert f"alarm_event: every alarm row read for {FIRST} to {LAST}" in sensor.error
    assert f"({len(alarms):,} rows)" in sensor.error
    assert "raw.scada_alarms__rejected" in sensor.error, sensor.error
    assert sensor.details["fully_rejected_alarms"] == {
        "table": "alarm_event",
        "rows_rejected": len(alarms),
    }
    assert "fully_rejected_windows" not in sensor.details  # the measurements all landed
    assert sensor_rows_landed(park) == source_measurements(park)
    assert rejected(park, "scada_alarms__rejected") == len(alarms)
    assert rejected(park, "scada_alarms") == 0  # not a row landed: dlt made no table yet

    # the control: one alarm readable again lands, and the read is no longer all rejected
    row_id, turbine = alarms[0]
    source(park, "update alarm_event set turbine_id = ? where id = ?", (turbine, row_id))

    corrected = load(park)

    assert corrected.status == "success", corrected.errors()
    assert "fully_rejected_alarms" not in outcome_of(corrected, "sensor_db").details
    assert query(park, "select source_row_id from raw.scada_alarms") == [(row_id,)]
    assert rejected(park, "scada_alarms__rejected") == len(alarms) - 1
    assert_every_source_row_once(park)


def test_a_file_with_every_row_rejected_makes_the_run_partial_and_names_it(
    park: Settings,
) -> None:
    inbox = Path(park.csv_inbox)
    (inbox / "production_extra.csv").write_text(
        f"{PRODUCTION_HEADER}\n31/09/2025;MTC-T01;1 000,0;100;24\n01/10/2025;MTC-T01;n/a;100;24\n",
        encoding="utf-8-sig",
    )

    run = load(park)

    assert (run.status, run.exit_code) == ("partial", pipeline.EXIT_PARTIAL)
    csv = outcome_of(run, "production_csv")
    assert not csv.ok and "production_extra.csv: every row rejected" in csv.error, csv.error
    assert csv.details["fully_rejected_files"] == ["production_extra.csv"]
    assert "production_extra.csv" in run.errors()["production_csv"]
    assert rejected(park, "production_daily__rejected") >= 2

    # the corrected file: its rejected rows go, its rows land, the run is a success again
    (inbox / "production_extra.csv").write_text(
        f"{PRODUCTION_HEADER}\n30/09/2025;MTC-T01;1 000,0;100;24\n"
        "01/10/2025;MTC-T01;2 000,0;100;24\n",
        encoding="utf-8-sig",
    )

    corrected = load(park)

    assert corrected.status == "success", corrected.errors()
    assert query(
        park,
        "select count(*) from raw.production_daily__rejected "
        "where _source_file = 'production_extra.csv'",
    ) == [(0,)]
    assert query(
        park,
        "select count(*) from raw.production_daily where _source_file = 'production_extra.csv'",
    ) == [(2,)]
