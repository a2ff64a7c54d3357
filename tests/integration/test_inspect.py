"""`python -m loaders inspect`, the onboarding command, on real public data: it proposes the
mapping a person would write (ENGIE's `Ws_avg` is wind_speed_avg, the Turkish T1's
`LV ActivePower (kW)` is active_power_avg), its dry run says what a load then lands and
rejects, row for row, and it writes nothing: no table in the warehouse, no dlt state, no
file moved out of the inbox.

The historians are put, as published, in a SQLite table (as
test_park_real_historians.py does); the files are read in place from ../shared/data/real/
and the tests skip, saying so, where they are absent.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from warehouse_sql import query, scalar

from loaders import onboarding, warehouse
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import PROJECT_ROOT, Settings
from loaders.sources.production_csv.load import load_production_csv
from loaders.sources.sensor_db import load as sensor_load
from loaders.sources.weather_api import load as weather_load

REAL = PROJECT_ROOT.parent / "shared/data/real"
LA_HAUTE_BORNE = REAL / "la_haute_borne/la_haute_borne_data_sample.csv"
TURKEY_T1 = REAL / "turkey_t1/T1.csv"
ADELAIDE = REAL / "open_meteo/archive_adelaide_72h_ms_vinea.json"


def _needs(path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"the real data file is absent ({path})")


def _raw_rows(settings: Settings) -> dict[str, int]:
    """Every table of raw with its row count: what a dry run must leave as it was."""
    tables = query(
        settings, "select table_name from information_schema.tables where table_schema = 'raw'"
    )
    return {name: int(scalar(settings, f'select count(*) from raw."{name}"')) for (name,) in tables}


def _historian_settings(
    settings: Settings, work: Path, name: str, source: Path, timestamp: str, park: str
) -> Settings:
    frame = pd.read_csv(source, dtype={timestamp: str})
    database = work / "historian.db"
    with sqlite3.connect(database) as connection:  # as published: text timestamps
        frame.to_sql("scada_export", connection, index=False)
    return replace(
        settings,
        database=f"{settings.database}_inspect_{name}",
        dlt_dir=str(work / "dlt"),
        sensor_db_url=f"sqlite:///{database}",
        sensor_table="scada_export",
        sensor_turbine_table="",
        sensor_alarm_table="",
        sensor_mapping="",
        park_config=f"config/{park}",
        sensor_lookback_days=0,
    )


@pytest.fixture
def la_haute_borne(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    _needs(LA_HAUTE_BORNE)
    park = _historian_settings(
        settings, tmp_path, "lhb", LA_HAUTE_BORNE, "Date_time", "la_haute_borne"
    )
    warehouse.bootstrap(park)
    yield park
    warehouse.drop_database(park)


def _committed_signals(park: str) -> dict[str, str]:
    """source column -> canonical signal of the park's committed historian.csv."""
    path = PROJECT_ROOT / "config" / park / "historian.csv"
    with path.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if not r["source_name"].startswith("#")]
    return {r["source_name"]: r["canonical_name"] for r in rows}


def _proposed(report: dict) -> dict[str, str]:
    rows = report["rows"]
    return {row["source_name"]: row["canonical_name"] for row in rows}


def test_la_haute_borne_mapping_proposed_and_dry_run_equals_the_load(
    la_haute_borne: Settings,
) -> None:
    first, last = date(2014, 1, 1), date(2014, 1, 18)
    before = _raw_rows(la_haute_borne)

    report = onboarding.inspect_sensor_db(la_haute_borne, first, last)

    proposed = _proposed(report["proposed_mapping"])
    assert proposed["Ws_avg"] == "wind_speed_avg"
    assert proposed["P_avg"] == "active_power_avg"
    assert proposed["Wind_turbine_name"] == "turbine_id"
    assert proposed["Date_time"] == "measured_at"
    # the proposal is the mapping committed for this park, line for line
    assert proposed == _committed_signals("la_haute_borne")
    assert report["empty_columns"] == []
    ws = next(c for c in report["columns"] if c["name"] == "Ws_avg")
    assert ws["kind"] == "number" and ws["values"] == 9999
    dry = report["dry_run"]
    assert dry["tables"]["scada_measurements"] == {
        "would_land": 9999,
        "would_reject": 0,
        "reasons": [],
    }
    assert sorted(dry["turbines"]) == ["R80711", "R80721", "R80736", "R80790"]
    assert dry["time_range"][0].startswith("2014-01-01 00:00:00")  # 01:00+01:00 in UTC
    assert onboarding.exit_code(report) == 0
    # nothing written: no table, no dlt state
    assert _raw_rows(la_haute_borne) == before
    assert not Path(la_haute_borne.dlt_dir).exists()

    outcome = sensor_load.load_sensor_db(
        la_haute_borne, first, last, Pseudonymiser(la_haute_borne.pseudonym_key)
    )

    for table, counts in dry["tables"].items():
        assert outcome.rows.get(table, 0) == counts["would_land"], table
    assert outcome.details["rows_rejected"] == dry["tables"]["scada_measurements"]["would_reject"]
    landed = scalar(la_haute_borne, "select count(*) from raw.scada_measurements")
    assert landed == dry["tables"]["scada_measurements"]["would_land"]


def test_rejected_rows_are_counted_with_their_reason(la_haute_borne: Settings) -> None:
    """Rows the loader cannot read are counted, per reason, as the load then rejects them."""
    database = la_haute_borne.sensor_db_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        connection.execute(
            "update scada_export set Ws_avg = 'calm' where rowid in (select rowid from "
            "scada_export where Wind_turbine_name = 'R80711' limit 3)"
        )
        connection.execute("update scada_export set Date_time = null where rowid = 10")

    report = onboarding.inspect_sensor_db(la_haute_borne)

    counts = report["dry_run"]["tables"]["scada_measurements"]
    assert counts["would_reject"] == 4
    assert counts["would_land"] == 9999 - 4
    reasons = {reason["reason"]: reason["rows"] for reason in counts["reasons"]}
    assert sum(reasons.values()) == 4
    assert any("Ws_avg" in reason for reason in reasons), reasons
    assert onboarding.exit_code(report) == 2

    outcome = sensor_load.load_sensor_db(
        la_haute_borne, date(2014, 1, 1), date(2014, 1, 18), Pseudonymiser("k" * 32)
    )
    assert outcome.details["rows_rejected"] == 4
    assert outcome.details["rows_loaded"] == 9999 - 4


def test_turkish_t1_mapping_from_units_in_names(settings: Settings, tmp_path: Path) -> None:
    _needs(TURKEY_T1)
    park = _historian_settings(settings, tmp_path, "t1", TURKEY_T1, "Date/Time", "turkey_t1")

    report = onboarding.inspect_sensor_db(park, date(2018, 3, 1), date(2018, 3, 31))

    proposal = report["proposed_mapping"]
    proposed = _proposed(proposal)
    assert proposed["Wind Speed (m/s)"] == "wind_speed_avg"
    assert proposed["LV ActivePower (kW)"] == "active_power_avg"
    assert proposed["Wind Direction (°)"] == "wind_direction_avg"
    assert proposed == _committed_signals("turkey_t1")
    # the manufacturer's theoretical curve is energy, not a measurement: left out
    assert proposal["unmapped_columns"] == ["Theoretical_Power_Curve (KWh)"]
    # no turbine column, timestamps in the park's own text format
    assert proposal["park_yaml_historian"]["timestamp_format"] == "%d %m %Y %H:%M"
    assert "turbine_id" in proposal["park_yaml_historian"]
    # March 2018 in Istanbul (UTC+3 all year): 31 days of 144 periods, less the gaps
    dry = report["dry_run"]
    landed = dry["tables"]["scada_measurements"]["would_land"]
    assert 0 < landed <= 31 * 144
    assert dry["turbines"] == {"T1": landed}
    assert dry["time_range"][0] >= "2018-03-01"


EXPORTS = """
exports:
  - name: daily_report
    table: production_daily
    columns:
      production_date: {header: [Report date, Tarih], format: "%Y.%m.%d"}
      turbine_id: {header: [WTG, Turbine]}
      energy_kwh: {header: Energy, suffix: kWh, decimal: ","}
      availability_pct: {header: Availability, suffix: "%"}
    personal_extras: [Shift lead]
"""
EXPORT = (
    "Report date;WTG;Energy;Availability;Remark;Shift lead\n"
    "2018.01.01;T1;12\u202f345,6 kWh;95,47 %;icing morning;Ayşe Yılmaz\n"
    "2018.01.02;T1;9\u00a0876,5 kWh;100 %;;Ayşe Yılmaz\n"
    "2018.01.03;T1;n/a;100 %;;\n"
)


@pytest.fixture
def operator(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """Another operator's park: its own export layout, an inbox, a warehouse."""
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "park.yaml").write_text(
        "name: Another operator\ntime_zone: Europe/Istanbul\nexports: exports.yaml\n",
        encoding="utf-8",
    )
    (folder / "exports.yaml").write_text(EXPORTS, encoding="utf-8")
    shutil.copy(PROJECT_ROOT / "config/mont_crosnier/historian.csv", folder / "historian.csv")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    isolated = replace(
        settings,
        database=f"{settings.database}_inspect_csv",
        csv_inbox=str(inbox),
        park_config=str(folder),
        dlt_dir=str(tmp_path / "dlt"),
    )
    warehouse.bootstrap(isolated)
    yield isolated
    warehouse.drop_database(isolated)


def _inbox(settings: Settings) -> list[str]:
    root = Path(settings.csv_inbox)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_an_export_with_other_headers_is_matched_and_dry_run(operator: Settings) -> None:
    path = Path(operator.csv_inbox) / "daily.csv"
    path.write_text(EXPORT, encoding="utf-8")
    before_raw, before_inbox = _raw_rows(operator), _inbox(operator)

    report = onboarding.inspect_csv(operator, path)

    match = report["spec_match"]
    assert match["spec"] == "daily_report" and match["table"] == "production_daily"
    assert match["columns"] == {
        "production_date": "Report date",
        "turbine_id": "WTG",
        "energy_kwh": "Energy",
        "availability_pct": "Availability",
    }
    assert match["extra_columns"] == ["Remark", "Shift lead"]
    assert match["absent_optional"] == []
    assert match["targets_not_in_spec"] == ["operating_hours"]
    table = report["dry_run"]["tables"]["production_daily"]
    assert (table["would_land"], table["would_reject"]) == (2, 1)
    assert table["reasons"] == [{"reason": "Energy: not a number: 'n/a'", "rows": 1, "lines": [4]}]
    remark = next(c for c in report["columns"] if c["name"] == "Remark")
    assert remark["values"] == 1
    assert onboarding.exit_code(report) == 2
    text = onboarding.render(report)
    assert "Energy -> energy_kwh" in text and "1 x Energy: not a number: 'n/a'" in text
    # nothing written, nothing moved
    assert _raw_rows(operator) == before_raw
    assert _inbox(operator) == before_inbox
    assert not Path(operator.dlt_dir).exists()

    outcome = load_production_csv(operator, Pseudonymiser(operator.pseudonym_key))

    assert outcome.details["rows_loaded"] == {"daily.csv": table["would_land"]}
    assert outcome.details["rows_rejected"] == {"daily.csv": table["would_reject"]}
    assert scalar(operator, "select count(*) from raw.production_daily") == 2
    assert scalar(operator, "select count(*) from raw.production_daily__rejected") == 1


def test_a_file_close_to_an_export_names_it_and_stays(operator: Settings) -> None:
    path = Path(operator.csv_inbox) / "partial.csv"
    path.write_text("Tarih;Turbine\n2018.01.01;T1\n", encoding="utf-8")

    report = onboarding.inspect_csv(operator, path)

    refused = report["dry_run"]["refused"]
    assert "closest is daily_report (production_daily)" in refused
    assert "missing column(s): Energy" in refused
    assert onboarding.exit_code(report) == 2
    assert _inbox(operator) == ["partial.csv"]  # a load would move it to refused/


def test_a_historian_csv_read_as_an_export_gets_a_historian_mapping(
    settings: Settings, tmp_path: Path
) -> None:
    """The T1 year handed to `--source csv`: no export matches, and the command proposes
    the historian mapping instead, on the Excel copy too (cp1252, CRLF)."""
    excel = REAL / "turkey_t1/T1_excel_cp1252_crlf.csv"
    _needs(excel)
    park = replace(settings, park_config="config/turkey_t1", dlt_dir=str(tmp_path / "dlt"))

    report = onboarding.inspect_csv(park, excel)

    assert report["encoding"] == "cp1252"
    assert "dry_run" not in report  # the park sends no export: nothing to dry-run
    proposed = _proposed(report["proposed_historian_mapping"])
    assert proposed == _committed_signals("turkey_t1")


def test_cli_prints_json_and_exits_2_on_rejected_rows(operator: Settings) -> None:
    path = Path(operator.csv_inbox) / "daily.csv"
    path.write_text(EXPORT, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "WINDFARM_PARK_CONFIG": operator.park_config,
        "WINDFARM_DATABASE": operator.database,
        "WINDFARM_PSEUDONYM_KEY": operator.pseudonym_key,
        "WINDFARM_LOG_DIR": "",
    }
    command = [sys.executable, "-m", "loaders", "inspect", "--source", "csv", str(path), "--json"]

    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    assert done.returncode == 2, done.stderr
    report = json.loads(done.stdout)  # the log lines went to stderr
    assert "columns not in export daily_report" in done.stderr
    assert report["dry_run"]["tables"]["production_daily"]["would_land"] == 2
    assert _inbox(operator) == ["daily.csv"]


def test_weather_one_day_from_a_real_archive_answer(
    settings: Settings, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """A real Open-Meteo archive answer (Adelaide, local time) served on loopback: the
    dry run says what lands, and a load of the same day lands exactly that."""
    _needs(ADELAIDE)
    httpserver.expect_request("/v1/archive").respond_with_data(
        ADELAIDE.read_text(encoding="utf-8"), content_type="application/json"
    )
    day = date(2025, 1, 11)
    weather = replace(
        settings,
        database=f"{settings.database}_inspect_weather",
        dlt_dir=str(tmp_path / "dlt"),
        weather_base_url=httpserver.url_for("/v1"),
        weather_forecast_url="",
        weather_sites="ADL=-34.7627,138.6456",
    )
    warehouse.bootstrap(weather)
    try:
        before = _raw_rows(weather)
        report = onboarding.inspect_weather(weather, day)

        site = report["tables"]["weather_hourly"]["ADL"]
        assert len(httpserver.log) == 1  # one request
        assert report["requests"][0].startswith("archive?latitude=-34.7627")
        assert site["would_land"] == 24  # the UTC day asked, as the loader keeps it
        assert site["rows_outside_day"] == 48  # the answer's other hours, dropped
        assert any("hour(s) outside" in problem for problem in site["problems"])
        assert site["variables"]["wind_speed_10m"]["values"] == 24
        assert "surface_pressure" in site["empty_variables"]
        assert _raw_rows(weather) == before

        outcome = weather_load.load_weather(weather, day, day)

        landed = scalar(weather, "select count(*) from raw.weather_hourly")
        assert landed == outcome.details["rows_read"]
        assert landed == sum(s["would_land"] for s in report["tables"]["weather_hourly"].values())
    finally:
        warehouse.drop_database(weather)
