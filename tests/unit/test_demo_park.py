"""The demo park keeps its contract (docs/architecture.md, "The demo park"): the files, the
faults it lists, and a weather API that answers like Open-Meteo over real HTTP."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from loaders.demo_park import generate, injected_faults, park, serve_in_background
from loaders.demo_park.simulator import (
    PERSONAL_EMAILS,
    PERSONAL_NAMES,
    GeneratedPark,
    InjectedFault,
    maintenance_interventions,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
PERIOD = timedelta(minutes=10)
ALL_HOURLY = (
    "temperature_2m,relative_humidity_2m,surface_pressure,precipitation,"
    "wind_speed_10m,wind_direction_10m,wind_gusts_10m"
)
PRODUCTION_HEADER = "Date;Eolienne;Energie produite (kWh);Disponibilite (%);Heures de production"
MAINTENANCE_HEADER = (
    "N° intervention;Eolienne;Début;Fin;Type;Composant;Description;Technicien;Email technicien"
)
FRENCH_NUMBER = re.compile(r"^-?\d{1,3}( \d{3})*,\d$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> GeneratedPark:
    return generate(tmp_path_factory.mktemp("demo"), park.DEMO_START, park.DEMO_END, seed=42)


@pytest.fixture(scope="module")
def scada(demo: GeneratedPark) -> pd.DataFrame:
    with sqlite3.connect(demo.sensor_db) as conn:
        frame = pd.read_sql("SELECT * FROM scada_10min ORDER BY id", conn)
    frame["ts"] = pd.to_datetime(frame["ts_utc"], utc=True)
    return frame


@pytest.fixture(scope="module")
def weather(demo: GeneratedPark):
    with serve_in_background(demo.weather_json.parent, port=0) as server:
        yield server


def _table(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _csv_lines(path: Path, encoding: str) -> list[list[str]]:
    text = path.read_bytes().decode(encoding)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def _rows_at(scada: pd.DataFrame, fault: InjectedFault) -> pd.DataFrame:
    in_window = (scada["ts"] >= fault.start_utc) & (scada["ts"] < fault.end_utc)
    return scada[in_window & (scada["turbine_id"] == fault.turbine_id)]


def _column(fault: InjectedFault) -> str:
    assert fault.signal is not None
    return park.CANONICAL_TO_HISTORIAN[fault.signal]


# --- determinism and volumes -------------------------------------------------------------


def test_same_seed_gives_same_bytes_and_rows(tmp_path: Path, demo: GeneratedPark) -> None:
    again = generate(tmp_path / "again", park.DEMO_START, park.DEMO_END, seed=42)
    for first, second in (
        (demo.production_csv, again.production_csv),
        (demo.maintenance_csv, again.maintenance_csv),
        (demo.weather_json, again.weather_json),
    ):
        assert first.read_bytes() == second.read_bytes(), first.name
    for table in ("turbine", "scada_10min", "alarm_event"):
        sql = f"SELECT * FROM {table} ORDER BY 1"
        assert _table(demo.sensor_db, sql) == _table(again.sensor_db, sql), table
    assert again.faults == demo.faults == tuple(injected_faults(seed=42))


def test_another_seed_gives_other_values(tmp_path: Path, demo: GeneratedPark) -> None:
    other = generate(tmp_path / "other", park.DEMO_START, park.DEMO_END, seed=7)
    sql = "SELECT WMET_HorWdSpd FROM scada_10min ORDER BY id LIMIT 50"
    assert _table(other.sensor_db, sql) != _table(demo.sensor_db, sql)


def test_generating_twice_in_place_does_not_append(tmp_path: Path) -> None:
    first = generate(tmp_path, date(2025, 10, 20), date(2025, 10, 21))
    second = generate(tmp_path, date(2025, 10, 20), date(2025, 10, 21))
    count = _table(second.sensor_db, "SELECT count(*) FROM scada_10min")[0][0]
    assert count == first.scada_rows == second.scada_rows


def test_row_counts(demo: GeneratedPark, scada: pd.DataFrame) -> None:
    faults = demo.faults
    missing = sum(len(_periods(f)) for f in faults if f.kind == "dropout")
    doubled = sum(1 for f in faults if f.kind.startswith("duplicate"))
    assert demo.scada_rows == len(scada) == 3 * 31 * 144 - missing + doubled
    assert 12_000 <= demo.scada_rows <= 13_500
    assert missing >= 4 * 6 and doubled == 10
    assert demo.turbine_rows == 3
    assert 13 <= demo.alarm_rows <= 16
    assert demo.production_rows == 3 * 31 + 1
    assert (demo.production_broken_rows, demo.maintenance_broken_rows) == (2, 1)
    assert 6 <= demo.maintenance_rows - demo.maintenance_broken_rows <= 10
    assert demo.weather_hours == 33 * 24


def _periods(fault: InjectedFault) -> list[datetime]:
    count = (fault.end_utc - fault.start_utc) // PERIOD
    return [fault.start_utc + k * PERIOD for k in range(count)]


# --- sensor database ---------------------------------------------------------------------


def test_sensor_db_schema_matches_contract(demo: GeneratedPark) -> None:
    with sqlite3.connect(demo.sensor_db) as conn:
        columns = {
            table: [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            for table in ("turbine", "scada_10min", "alarm_event")
        }
    assert columns["turbine"] == [
        "turbine_id",
        "turbine_name",
        "site_code",
        "site_name",
        "model",
        "manufacturer",
        "rated_power_kw",
        "hub_height_m",
        "rotor_diameter_m",
        "latitude",
        "longitude",
        "commissioned_on",
    ]
    assert columns["scada_10min"] == ["id", "turbine_id", "ts_utc", *park.SCADA_SIGNALS]
    assert columns["alarm_event"] == [
        "id",
        "turbine_id",
        "alarm_code",
        "started_at_utc",
        "ended_at_utc",
        "acknowledged_by",
    ]
    turbines = _table(demo.sensor_db, "SELECT turbine_id, model, rated_power_kw FROM turbine")
    assert turbines == [(t, "MM82", 2050.0) for t in park.TURBINE_IDS]


def test_scada_values_are_physically_plausible(demo: GeneratedPark, scada: pd.DataFrame) -> None:
    spiked = {(f.turbine_id, f.start_utc) for f in demo.faults if f.kind == "spike"}
    clean = scada[[(t, ts) not in spiked for t, ts in zip(scada.turbine_id, scada.ts, strict=True)]]
    wind, power = clean["WMET_HorWdSpd"], clean["WTUR_W"]
    assert 6.5 <= wind.mean() <= 7.5
    assert wind.between(0, 40).all()
    assert power.max() <= park.RATED_POWER_KW
    idle = clean[(wind < 2.5) & (power != 0)]
    assert len(idle) > 100 and idle["WTUR_W"].between(-10, 0).all()
    assert (clean.loc[wind > park.CUT_OUT_MS, "WTUR_W"] == 0).all()
    assert clean["WROT_RotSpd"].between(0, 20).all()
    assert clean["WROT_BlPthAngVal"].between(-5, 95).all()
    ambient_c = clean["WMET_EnvTmp"] - 273.15
    assert ambient_c.between(-5, 25).all() and 7 <= ambient_c.mean() <= 14
    assert (clean["WNAC_Tmp"] > ambient_c).mean() > 0.99
    assert clean["WTRM_TrmTmp_GbxOil"].between(10, 90).all()
    assert clean["WTRM_TrmTmp_GbxBrg"].between(10, 110).all()
    assert clean["WGEN_GnTmp_Sta"].between(10, 160).all()
    assert clean["WTUR_AuxW"].between(3_000, 35_000).all()
    # Temperatures follow the load: hot at full power, cool when idle.
    assert clean.loc[power > 1900, "WGEN_GnTmp_Sta"].mean() > (
        clean.loc[power < 50, "WGEN_GnTmp_Sta"].mean() + 30
    )


def test_alarms(demo: GeneratedPark) -> None:
    rows = _table(
        demo.sensor_db,
        "SELECT turbine_id, alarm_code, started_at_utc, ended_at_utc, acknowledged_by "
        "FROM alarm_event ORDER BY id",
    )
    assert {code for _, code, *_ in rows} <= set(park.ALARM_CODES)
    assert all(ended is not None and ended > started for _, _, started, ended, _ in rows)
    assert ("MTC-T02", 3120, "2025-10-22 09:00:00") in [r[:3] for r in rows]
    acknowledged = {r[4] for r in rows if r[1] != 5002}
    assert None not in acknowledged and acknowledged <= set(PERSONAL_NAMES)
    assert all(r[4] is None for r in rows if r[1] == 5002)


# --- faults ------------------------------------------------------------------------------


def test_every_kind_of_fault_is_listed(demo: GeneratedPark) -> None:
    kinds = [f.kind for f in demo.faults]
    assert kinds.count("dropout") >= 3
    assert kinds.count("frozen_sensor") == 1
    assert kinds.count("spike") >= 3
    assert kinds.count("duplicate_identical") >= 3
    assert kinds.count("duplicate_conflicting") >= 3
    assert kinds.count("bearing_overheat") == 1
    for fault in demo.faults:
        assert fault.start_utc.tzinfo is UTC and fault.start_utc < fault.end_utc
        assert datetime(2025, 10, 1, tzinfo=UTC) <= fault.start_utc
        assert fault.end_utc <= datetime(2025, 11, 1, tzinfo=UTC)


def test_dropouts_are_missing_rows(demo: GeneratedPark, scada: pd.DataFrame) -> None:
    for fault in (f for f in demo.faults if f.kind == "dropout"):
        assert 6 <= len(_periods(fault)) <= 36
        assert _rows_at(scada, fault).empty, fault
        mine = scada[scada.turbine_id == fault.turbine_id]
        assert (mine.ts == fault.start_utc - PERIOD).any()
        assert (mine.ts == fault.end_utc).any()


def test_frozen_sensor_repeats_while_producing(demo: GeneratedPark, scada: pd.DataFrame) -> None:
    (fault,) = [f for f in demo.faults if f.kind == "frozen_sensor"]
    rows = _rows_at(scada, fault)
    assert len(rows) == len(_periods(fault)) >= 30
    assert rows[_column(fault)].nunique() == 1
    assert (rows["WTUR_W"] > 0).all()
    others = scada[
        (scada.turbine_id != fault.turbine_id)
        & (scada.ts >= fault.start_utc)
        & (scada.ts < fault.end_utc)
    ]
    assert others.groupby("turbine_id")[_column(fault)].nunique().min() > 5


def test_spikes_are_absurd_single_values(demo: GeneratedPark, scada: pd.DataFrame) -> None:
    absurd = {
        "wind_speed_avg": lambda v: v > 40,
        "gearbox_oil_temp_avg": lambda v: v > 90,
        "generator_stator_temp_avg": lambda v: v > 160,
        "ambient_temp_avg": lambda v: v - 273.15 < -40,  # stored in kelvin
    }
    for fault in (f for f in demo.faults if f.kind == "spike"):
        (value,) = _rows_at(scada, fault)[_column(fault)]
        assert absurd[fault.signal](value), fault
        assert f"= {value:g} " in fault.detail


def test_duplicates(demo: GeneratedPark, scada: pd.DataFrame) -> None:
    signals = list(park.SCADA_SIGNALS)
    for fault in (f for f in demo.faults if f.kind.startswith("duplicate")):
        rows = _rows_at(scada, fault)
        assert len(rows) == 2 and rows["id"].nunique() == 2, fault
        first, second = rows.iloc[0], rows.iloc[1]
        differing = [s for s in signals if first[s] != second[s]]
        if fault.kind == "duplicate_identical":
            assert differing == []
        else:
            assert differing == [_column(fault)]
    pairs = scada.groupby(["turbine_id", "ts_utc"]).size()
    assert (pairs > 1).sum() == sum(1 for f in demo.faults if f.kind.startswith("duplicate"))


def test_bearing_overheats_fails_and_is_repaired(demo: GeneratedPark, scada: pd.DataFrame) -> None:
    (fault,) = [f for f in demo.faults if f.kind == "bearing_overheat"]
    assert fault.turbine_id == park.BEARING_TURBINE_ID == "MTC-T02"
    assert fault.end_utc == park.BEARING_FAILURE_UTC == datetime(2025, 10, 22, 9, tzinfo=UTC)
    assert timedelta(days=4) <= fault.end_utc - fault.start_utc <= timedelta(days=6)

    def excess_over_peers(start: datetime, end: datetime) -> float:
        rows = scada[(scada.ts >= start) & (scada.ts < end) & (scada.WTUR_W > 1500)]
        delta = rows.WTRM_TrmTmp_GbxBrg - rows.WTRM_TrmTmp_GbxOil
        by_turbine = delta.groupby(rows.turbine_id).mean()
        return by_turbine["MTC-T02"] - by_turbine.drop("MTC-T02").mean()

    day = timedelta(days=1)
    assert abs(excess_over_peers(fault.start_utc - 7 * day, fault.start_utc)) < 2
    assert 10 <= excess_over_peers(fault.end_utc - day, fault.end_utc) <= 25

    repair = scada[
        (scada.turbine_id == "MTC-T02")
        & (scada.ts >= park.BEARING_FAILURE_UTC)
        & (scada.ts < park.BEARING_REPAIR_END_UTC)
    ]
    assert len(repair) >= 2 * 144
    assert (repair.WTUR_W == 0).all() and (repair.WROT_RotSpd < 0.5).all()
    after = scada[(scada.turbine_id == "MTC-T02") & (scada.ts >= park.BEARING_REPAIR_END_UTC)]
    assert (after.WTUR_W > 0).any()

    log = _csv_lines(demo.maintenance_csv, "cp1252")
    repairs = [r for r in log if r[5] == "gearbox_bearing"]
    assert [(r[1], r[2][:10], r[3][:10], r[4]) for r in repairs] == [
        ("MTC-T02", "22/10/2025", "24/10/2025", "Corrective")
    ]


# --- CSV exports -------------------------------------------------------------------------


def test_production_csv_format(demo: GeneratedPark) -> None:
    raw = demo.production_csv.read_bytes()
    assert demo.production_csv.name == "production_journaliere_2025-10.csv"
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == raw.count(b"\n") == demo.production_rows + 1
    lines = _csv_lines(demo.production_csv, "utf-8-sig")
    assert ";".join(lines[0]) == PRODUCTION_HEADER
    data = lines[1:]
    assert len(data) == demo.production_rows
    for row in data:
        assert len(row) == 5 and re.fullmatch(r"\d\d/\d\d/\d{4}", row[0])
        assert row[1] in park.TURBINE_IDS
        if row[2] != "n/a":
            assert all(FRENCH_NUMBER.match(value) for value in row[2:]), row
    assert any(" " in row[2] for row in data)  # thousands separator in use
    dst_day = [row for row in data if row[0] == "26/10/2025"]
    assert max(float(row[4].replace(",", ".")) for row in dst_day) <= 25.0


def test_production_broken_rows(demo: GeneratedPark) -> None:
    data = _csv_lines(demo.production_csv, "utf-8-sig")[1:]
    assert sum(row[0] == "31/09/2025" for row in data) == 1
    assert sum(row[2] == "n/a" for row in data) == 1
    assert demo.production_broken_rows == 2


def test_production_energy_is_the_sum_of_power(demo: GeneratedPark, scada: pd.DataFrame) -> None:
    """Where the historian kept every period of a local day, its energy is the CSV's (the
    first copy of a duplicated row is the original)."""
    rows = scada.drop_duplicates(["turbine_id", "ts_utc"], keep="first")
    local_day = rows.ts.dt.tz_convert(park.SITE_TIMEZONE).dt.strftime("%d/%m/%Y")
    grouped = rows.groupby([local_day, rows.turbine_id])
    energy = grouped.WTUR_W.sum() / 6
    periods = grouped.size()
    checked = 0
    for day, turbine_id, text, _availability, _hours in _csv_lines(
        demo.production_csv, "utf-8-sig"
    )[1:]:
        if text == "n/a" or day == "01/10/2025" or (day, turbine_id) not in energy.index:
            continue
        expected = 150 if day == "26/10/2025" else 144
        if periods[(day, turbine_id)] != expected:
            continue
        written = float(text.replace(" ", "").replace(",", "."))
        assert written == pytest.approx(energy[(day, turbine_id)], abs=1.0)
        checked += 1
    assert checked >= 20


def test_maintenance_csv_format(demo: GeneratedPark) -> None:
    raw = demo.maintenance_csv.read_bytes()
    assert demo.maintenance_csv.name == "journal_maintenance_2025-10.csv"
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # Windows-1252, not UTF-8
    assert raw.count(b"\r\n") == raw.count(b"\n") == demo.maintenance_rows + 1
    lines = _csv_lines(demo.maintenance_csv, "cp1252")
    assert ";".join(lines[0]) == MAINTENANCE_HEADER
    data = lines[1:]
    assert len(data) == demo.maintenance_rows
    stamp = re.compile(r"\d\d/\d\d/\d{4} \d\d:\d\d")
    for row in data:
        assert len(row) == 9
        assert stamp.fullmatch(row[2]) and stamp.fullmatch(row[3])
        assert row[4] in ("Préventive", "Corrective")
        assert row[5] in park.MAINTENANCE_COMPONENTS
        assert row[7] in PERSONAL_NAMES and row[8] in PERSONAL_EMAILS
    assert {row[4] for row in data} == {"Préventive", "Corrective"}
    assert [row[2] for row in data if row[2].startswith("32/")] == ["32/10/2025 08:00"]


def test_maintenance_log_has_the_repeated_dst_hour(demo: GeneratedPark) -> None:
    data = _csv_lines(demo.maintenance_csv, "cp1252")[1:]
    ambiguous = [row for row in data if row[2].startswith("26/10/2025 02:")]
    assert len(ambiguous) == 1
    (truth,) = [i for i in maintenance_interventions() if i.intervention_id == ambiguous[0][0]]
    # The first (summer-time) 02:30, as the project's CSV parser reads it: 20 minutes after
    # the grid loss that caused it.
    assert truth.start_utc == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
    grid_loss = _table(
        demo.sensor_db, "SELECT min(started_at_utc) FROM alarm_event WHERE alarm_code = 1001"
    )[0][0]
    assert grid_loss == "2025-10-26 00:10:00"
    valid = [row for row in data if not row[2].startswith("32/")]
    assert [row[0] for row in valid] == [i.intervention_id for i in maintenance_interventions()]


def test_personal_data_lists_cover_what_is_written(demo: GeneratedPark) -> None:
    log = demo.maintenance_csv.read_bytes().decode("cp1252")
    alarms = {row[0] for row in _table(demo.sensor_db, "SELECT acknowledged_by FROM alarm_event")}
    written_names = {n for n in PERSONAL_NAMES if n in log} | (alarms - {None})
    assert written_names == set(PERSONAL_NAMES)
    assert all(email in log for email in PERSONAL_EMAILS)


# --- weather -----------------------------------------------------------------------------


def test_weather_file_agrees_with_turbine_wind(demo: GeneratedPark, scada: pd.DataFrame) -> None:
    archive = json.loads(demo.weather_json.read_text(encoding="utf-8"))
    hourly = pd.DataFrame(archive["hourly"])
    hourly["ts"] = pd.to_datetime(hourly["time"], utc=True)
    assert hourly["ts"].iloc[0] == pd.Timestamp("2025-09-30T00:00", tz="UTC")
    assert hourly["ts"].diff().dropna().eq(pd.Timedelta(hours=1)).all()
    clean = scada[scada.WMET_HorWdSpd < 40]
    hub = clean.groupby(clean.ts.dt.floor("h")).WMET_HorWdSpd.mean()
    joined = hourly.set_index("ts").join(hub, how="inner")
    scaled = joined.wind_speed_10m * park.HUB_TO_10M_FACTOR
    assert len(joined) == 31 * 24
    assert 0.9 <= scaled.mean() / joined.WMET_HorWdSpd.mean() <= 1.1
    assert np.corrcoef(scaled, joined.WMET_HorWdSpd)[0, 1] > 0.9
    assert hourly.temperature_2m.between(-5, 25).all()
    assert hourly.relative_humidity_2m.between(0, 100).all()
    assert hourly.surface_pressure.between(920, 1000).all()
    assert (hourly.precipitation >= 0).all() and (hourly.precipitation > 0).any()
    assert (hourly.wind_gusts_10m > hourly.wind_speed_10m).all()


def _archive(server, **params: object) -> requests.Response:
    query = {"latitude": park.SITE_LATITUDE, "longitude": park.SITE_LONGITUDE, **params}
    return requests.get(f"{server.base_url}/archive", params=query, timeout=10)


def test_weather_api_answers_in_open_meteo_shape(weather, demo: GeneratedPark) -> None:
    response = _archive(
        weather,
        start_date="2025-10-01",
        end_date="2025-10-31",
        hourly=ALL_HOURLY,
        timezone="GMT",
        wind_speed_unit="ms",
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == [
        "latitude",
        "longitude",
        "generationtime_ms",
        "utc_offset_seconds",
        "timezone",
        "timezone_abbreviation",
        "elevation",
        "hourly_units",
        "hourly",
    ]
    assert (body["timezone"], body["utc_offset_seconds"]) == ("GMT", 0)
    assert body["hourly_units"] == {
        "time": "iso8601",
        "temperature_2m": "°C",
        "relative_humidity_2m": "%",
        "surface_pressure": "hPa",
        "precipitation": "mm",
        "wind_speed_10m": "m/s",
        "wind_direction_10m": "°",
        "wind_gusts_10m": "m/s",
    }
    hourly = body["hourly"]
    assert hourly["time"][:2] == ["2025-10-01T00:00", "2025-10-01T01:00"]
    assert hourly["time"][-1] == "2025-10-31T23:00"
    assert all(len(values) == 31 * 24 for values in hourly.values())
    archive = json.loads(demo.weather_json.read_text(encoding="utf-8"))["hourly"]
    first = archive["time"].index("2025-10-01T00:00")
    assert hourly["wind_speed_10m"][0] == round(archive["wind_speed_10m"][first], 2)
    assert isinstance(hourly["relative_humidity_2m"][0], int)


def test_weather_api_local_time_uses_one_offset(weather) -> None:
    utc = _archive(
        weather, start_date="2025-09-30", end_date="2025-10-01", hourly="temperature_2m"
    ).json()
    paris = _archive(
        weather,
        start_date="2025-10-01",
        end_date="2025-10-01",
        hourly="temperature_2m",
        timezone="Europe/Paris",
    ).json()
    assert (paris["utc_offset_seconds"], paris["timezone_abbreviation"]) == (7200, "GMT+2")
    assert paris["hourly"]["time"][0] == "2025-10-01T00:00"
    at_22_utc = utc["hourly"]["time"].index("2025-09-30T22:00")
    assert (
        paris["hourly"]["temperature_2m"][:24]
        == utc["hourly"]["temperature_2m"][at_22_utc : at_22_utc + 24]
    )


def test_weather_api_lists_several_coordinates(weather) -> None:
    response = requests.get(
        f"{weather.base_url}/archive",
        params={
            "latitude": "48.45,48.47",
            "longitude": "5.59,5.62",
            "start_date": "2025-10-05",
            "end_date": "2025-10-06",
            "hourly": "wind_speed_10m",
        },
        timeout=10,
    )
    body = response.json()
    assert response.status_code == 200 and isinstance(body, list) and len(body) == 2
    assert all(len(item["hourly"]["time"]) == 48 for item in body)


def test_weather_api_converts_units(weather) -> None:
    params = {
        "start_date": "2025-10-10",
        "end_date": "2025-10-10",
        "hourly": "wind_speed_10m,wind_gusts_10m,temperature_2m",
    }
    in_ms = _archive(weather, wind_speed_unit="ms", **params).json()
    default = _archive(weather, **params).json()
    in_kmh = _archive(
        weather, wind_speed_unit="kmh", temperature_unit="fahrenheit", **params
    ).json()
    assert default["hourly"] == {
        **in_kmh["hourly"],
        "temperature_2m": in_ms["hourly"]["temperature_2m"],
    }
    assert in_kmh["hourly_units"]["wind_speed_10m"] == "km/h"
    assert in_kmh["hourly_units"]["temperature_2m"] == "°F"
    for variable in ("wind_speed_10m", "wind_gusts_10m"):
        for ms, kmh in zip(in_ms["hourly"][variable], in_kmh["hourly"][variable], strict=True):
            assert kmh == pytest.approx(ms * 3.6, abs=0.1)
    for c, f in zip(
        in_ms["hourly"]["temperature_2m"], in_kmh["hourly"]["temperature_2m"], strict=True
    ):
        assert f == pytest.approx(c * 9 / 5 + 32, abs=0.15)  # both sides rounded


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"latitude": 45.0}, "No data for latitude=45.0"),
        ({"start_date": "2025-10-32"}, "Invalid date format"),
        ({"hourly": "snowfall"}, "snowfall"),
        ({"start_date": "2025-11-05", "end_date": "2025-11-06"}, "out of allowed range"),
        ({"end_date": "2025-09-01"}, "End-date must be larger"),
        ({"timezone": "Mars/Olympus"}, "Invalid timezone"),
        ({"wind_speed_unit": "furlongs"}, "wind_speed_unit"),
    ],
)
def test_weather_api_rejects_bad_requests(weather, params: dict[str, str], reason: str) -> None:
    query = {
        "start_date": "2025-10-10",
        "end_date": "2025-10-10",
        "hourly": "temperature_2m",
        **params,
    }
    response = _archive(weather, **query)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] is True and reason in body["reason"]


def test_weather_server_stops_and_frees_its_port(demo: GeneratedPark) -> None:
    with serve_in_background(demo.out_dir) as server:  # the generator's folder works too
        assert requests.get(f"{server.base_url}/archive", timeout=5).status_code == 400
        url = server.base_url
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/archive", timeout=2)


def test_weather_server_runs_in_the_foreground(demo: GeneratedPark) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loaders.demo_park.weather_server",
            "--data-dir",
            str(demo.weather_json.parent),
            "--port",
            "0",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        base_url = re.search(r"http://\S+/v1", banner)
        assert base_url, banner
        response = requests.get(
            f"{base_url.group(0)}/archive",
            params={
                "latitude": 48.45,
                "longitude": 5.59,
                "start_date": "2025-10-01",
                "end_date": "2025-10-01",
                "hourly": "wind_speed_10m",
            },
            timeout=10,
        )
        assert response.status_code == 200
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert "GET /v1/archive" not in stderr  # quiet unless --verbose


# --- other ranges ------------------------------------------------------------------------


def test_a_short_range_keeps_only_its_own_story(tmp_path: Path) -> None:
    start, end = date(2025, 10, 21), date(2025, 10, 23)
    result = generate(tmp_path, start, end, seed=3)
    assert result.production_csv.name == "production_journaliere_2025-10.csv"
    assert result.production_rows == 3 * 3 + 1
    bearing = [f for f in result.faults if f.kind == "bearing_overheat"]
    assert [(f.start_utc, f.end_utc) for f in bearing] == [
        (datetime(2025, 10, 21, tzinfo=UTC), park.BEARING_FAILURE_UTC)
    ]
    lo, hi = datetime(2025, 10, 21, tzinfo=UTC), datetime(2025, 10, 24, tzinfo=UTC)
    assert all(lo <= f.start_utc and f.end_utc <= hi for f in result.faults)
    assert list(result.faults) == injected_faults(start, end, seed=3)
    log = _csv_lines(result.maintenance_csv, "cp1252")[1:]
    assert [row[0] for row in log] == ["INT-2025-106", "INT-2025-110"]


def test_end_before_start_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="before start"):
        generate(tmp_path, date(2025, 10, 5), date(2025, 10, 4))
