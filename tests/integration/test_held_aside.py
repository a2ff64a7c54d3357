"""Rows whose turbine, alarm code or component the configuration does not know are held
aside: kept in staging, out of core and ml, listed in quality.quality_held_aside, and the
run is `partial` naming them (docs/sources.md, "Ids the configuration does not know").
Once the configuration knows them, the next run publishes them, even days older than its
reprocess window, with the operating states a late-learnt alarm code decides."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from warehouse_sql import query, scalar

from loaders.demo_park._writers import MAINTENANCE_HEADER
from loaders.run import pipeline
from loaders.settings import PROJECT_ROOT, Settings

FIRST, LAST = date(2025, 10, 1), date(2025, 10, 7)
UNKNOWN_TURBINE, UNKNOWN_CODE, UNKNOWN_COMPONENT = "MTC-T99", "FL-2314", "hydraulics"


@pytest.fixture(scope="module")
def park(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory, park_warehouse: Callable
) -> Iterator[tuple[Settings, Path]]:
    """A demo park with a configuration of its own (a copy of the demo's), and in its
    sources: a day of SCADA rows of a turbine the registry lacks, an alarm with a code
    the alarm catalogue lacks, an intervention on a component the components seed lacks.
    The code is text (FL-2314, as some controllers write theirs): it is held aside, then
    published, like any code; it was once rejected for not being an integer."""
    work = tmp_path_factory.mktemp("held_aside")
    config = work / "config"
    shutil.copytree(PROJECT_ROOT / "config" / "mont_crosnier", config)
    with park_warehouse(
        settings, work, "held", FIRST, LAST, sensor_lookback_days=0, park_config=str(config)
    ) as (isolated, _):
        sensor = Path(isolated.sensor_db_url.removeprefix("sqlite:///"))
        with closing(sqlite3.connect(sensor)) as connection, connection:
            columns = [row[1] for row in connection.execute("pragma table_info(scada_10min)")]
            copied = ", ".join(c for c in columns if c not in ("id", "turbine_id"))
            connection.execute(
                f"insert into scada_10min (turbine_id, {copied}) "  # noqa: S608 - the table's own columns
                f"select ?, {copied} from scada_10min "
                "where turbine_id = 'MTC-T01' and ts_utc < '2025-10-02'",
                (UNKNOWN_TURBINE,),
            )
            (started,) = connection.execute(
                "select min(ts_utc) from scada_10min where ts_utc >= '2025-10-01T10'"
            ).fetchone()
            connection.execute(
                "insert into alarm_event (turbine_id, alarm_code, started_at_utc, ended_at_utc)"
                " values ('MTC-T02', ?, ?, null)",
                (UNKNOWN_CODE, started),
            )
        with (Path(isolated.csv_inbox) / "journal_maintenance_extra.csv").open(
            "w", encoding="cp1252", newline=""
        ) as handle:
            writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
            writer.writerow(MAINTENANCE_HEADER)
            writer.writerow(
                [
                    "INT-2025-901",
                    "MTC-T03",
                    "01/10/2025 09:00",
                    "01/10/2025 11:00",
                    "Corrective",
                    UNKNOWN_COMPONENT,
                    "Remplacement flexible",
                    "Camille Test",
                    "camille.test@example.org",
                ]
            )
        yield isolated, sensor


def published(settings: Settings) -> dict[str, int]:
    """Rows of the unknown values in what core and ml publish."""
    counts = {
        "dim_turbine": "select count(*) from core.dim_turbine where turbine_id = %s",
        "fct_turbine_measurements": (
            "select count(*) from core.fct_turbine_measurements where turbine_id = %s"
        ),
        "fct_turbine_hourly": "select count(*) from core.fct_turbine_hourly where turbine_id = %s",
        "ml_turbine_hourly_features": (
            "select count(*) from ml.ml_turbine_hourly_features where turbine_id = %s"
        ),
    }
    found = {name: int(scalar(settings, sql, (UNKNOWN_TURBINE,))) for name, sql in counts.items()}
    found["fct_alarms"] = int(
        scalar(
            settings, "select count(*) from core.fct_alarms where alarm_code = %s", (UNKNOWN_CODE,)
        )
    )
    found["fct_maintenance_events"] = int(
        scalar(
            settings,
            "select count(*) from core.fct_maintenance_events where component = %s",
            (UNKNOWN_COMPONENT,),
        )
    )
    return found


def held(settings: Settings) -> dict[tuple[str, str, str], int]:
    rows = query(
        settings,
        "select source_model, column_name, unknown_value, held_row_count "
        "from quality.quality_held_aside",
    )
    return {(r[0], r[1], r[2]): int(r[3]) for r in rows}


def test_unknown_ids_are_held_aside_then_published(park: tuple[Settings, Path]) -> None:
    settings, sensor = park

    first = pipeline.run(settings, FIRST, date(2025, 10, 2), with_report=False)

    assert first.status == "partial", first.errors()
    message = str(first.errors()["held_aside"])
    assert f"turbine_id {UNKNOWN_TURBINE} (144 rows)" in message
    assert f"alarm_code {UNKNOWN_CODE} (1 rows)" in message
    assert f"component {UNKNOWN_COMPONENT} (1 rows)" in message
    assert set(published(settings).values()) == {0}
    assert held(settings) == {
        ("stg_scada__measurements", "turbine_id", UNKNOWN_TURBINE): 144,
        ("stg_scada__alarms", "alarm_code", str(UNKNOWN_CODE)): 1,
        ("stg_production__maintenance_events", "component", UNKNOWN_COMPONENT): 1,
    }
    # kept, not dropped: staging still has every row
    assert (
        scalar(
            settings,
            "select count(*) from staging.stg_scada__measurements where turbine_id = %s",
            (UNKNOWN_TURBINE,),
        )
        == 144
    )
    audited = scalar(
        settings, "select errors from audit.pipeline_runs where run_id = %s", (first.run_id,)
    )
    assert audited["held_aside"] == message

    # The configuration learns the turbine (the historian's registry) and the alarm code
    # (the park's reference); the components seed is the repository's, left as it is.
    with closing(sqlite3.connect(sensor)) as connection, connection:
        connection.execute(
            "insert into turbine select ?, 'Mont Crosnier 99', site_code, site_name, model,"
            " manufacturer, rated_power_kw, hub_height_m, rotor_diameter_m, latitude,"
            " longitude, commissioned_on from turbine where turbine_id = 'MTC-T01'",
            (UNKNOWN_TURBINE,),
        )
    codes = Path(settings.park_folder) / "reference" / "alarm_codes.csv"
    with codes.open("a", encoding="utf-8") as handle:
        handle.write(f"{UNKNOWN_CODE},Hydraulic pressure low,warning,pitch_system,false,false\n")

    # a later run: 1 October is before its reprocess window, the turbine's day is still
    # published (macro reprocess_from_date, turbines_released_into)
    second = pipeline.run(settings, date(2025, 10, 6), LAST, with_report=False)

    assert second.status == "partial", second.errors()
    message = str(second.errors()["held_aside"])
    assert UNKNOWN_TURBINE not in message
    assert str(UNKNOWN_CODE) not in message
    assert f"component {UNKNOWN_COMPONENT} (1 rows)" in message
    assert held(settings) == {
        ("stg_production__maintenance_events", "component", UNKNOWN_COMPONENT): 1,
    }
    now = published(settings)
    assert now["dim_turbine"] == 1
    assert now["fct_turbine_measurements"] == 144
    assert now["fct_turbine_hourly"] == 24
    assert now["ml_turbine_hourly_features"] == 24
    assert now["fct_alarms"] == 1
    assert now["fct_maintenance_events"] == 0


def stopped_periods(settings: Settings, code: str) -> int:
    return int(
        scalar(
            settings,
            "select count(*) from intermediate.int_turbine_states_classified "
            "where stop_alarm_code = %s",
            (code,),
        )
    )


def test_a_stop_code_learnt_late_restates_the_periods_it_covers(
    park: tuple[Settings, Path],
) -> None:
    """An alarm of 2 October, closed two hours later, with a code the catalogue learns only
    before a run of 7 October: that run publishes it and, since a stop code decides the
    operating state, builds 2 October's periods again (older than its reprocess window,
    and the alarm is not read again: pipeline._build, held_aside.published_since)."""
    settings, sensor = park
    code = "FL-2399"
    with closing(sqlite3.connect(sensor)) as connection, connection:
        started, ended = (
            row[0]
            for row in connection.execute(
                "select ts_utc from scada_10min where turbine_id = 'MTC-T01' "
                "and ts_utc like '2025-10-02%' order by ts_utc limit 2 offset 24"
            )
        )
        connection.execute(
            "insert into alarm_event (turbine_id, alarm_code, started_at_utc, ended_at_utc)"
            " values ('MTC-T01', ?, ?, ?)",
            (code, started, ended),
        )
    loaded = pipeline.run(settings, date(2025, 10, 2), date(2025, 10, 2), with_report=False)
    assert f"alarm_code {code} (1 rows)" in str(loaded.errors()["held_aside"])
    assert stopped_periods(settings, code) == 0

    codes = Path(settings.park_folder) / "reference" / "alarm_codes.csv"
    with codes.open("a", encoding="utf-8") as handle:
        handle.write(f"{code},Hydraulic pressure lost,fault,pitch_system,true,false\n")
    later = pipeline.run(settings, LAST, LAST, with_report=False)

    assert code not in str(later.errors().get("held_aside", "")), later.errors()
    assert stopped_periods(settings, code) > 0
