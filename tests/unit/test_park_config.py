"""A park's configuration folder: read and checked before anything loads, every error
naming the file and the line; export specs read values the way the operator writes them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from loaders import park_config
from loaders.park_config import ParkConfigError, load_park
from loaders.settings import PROJECT_ROOT, load_settings
from loaders.sources.production_csv import parsing
from loaders.sources.production_csv.specs import load_specs

CONFIG = PROJECT_ROOT / "config"


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("park", sorted(p.name for p in CONFIG.iterdir() if p.is_dir()))
def test_every_committed_park_folder_is_valid(park: str) -> None:
    settings = replace(load_settings(), park_config=f"config/{park}", sensor_mapping="")
    checked = park_config.check(settings)
    assert checked.historian_mapping.is_file()


def test_the_demo_park_is_the_default() -> None:
    park = park_config.park_of(replace(load_settings(), park_config="config/mont_crosnier"))
    assert park.time_zone == "Europe/Paris"
    assert park.folder == CONFIG / "mont_crosnier"


def test_an_unknown_key_names_the_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "park.yaml",
        "name: P\ntime_zone: UTC\nhistorian:\n  mapping: historian.csv\n  tabel: scada\n",
    )
    with pytest.raises(ParkConfigError, match=r"park\.yaml:5: historian\.tabel: unknown key"):
        load_park(tmp_path)


def test_a_wrong_time_zone_names_the_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "park.yaml", "# a park\nname: P\ntime_zone: Europe/Pariss\n")
    with pytest.raises(ParkConfigError, match=r"park\.yaml:3: time_zone: unknown time zone"):
        load_park(tmp_path)


def test_a_wrong_type_names_the_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "park.yaml",
        "name: P\ntime_zone: UTC\nweather_sites:\n  - code: A\n    latitude: north\n"
        "    longitude: 5.6\n",
    )
    with pytest.raises(ParkConfigError, match=r"park\.yaml:5: weather_sites\.0\.latitude"):
        load_park(tmp_path)


def test_a_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "park.yaml", "name: P\ntime_zone: [UTC\n")
    with pytest.raises(ParkConfigError, match=r"park\.yaml:\d+: not valid YAML"):
        load_park(tmp_path)


def test_a_wrong_unit_in_the_historian_mapping_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "park.yaml", "name: P\ntime_zone: UTC\nexports: ''\n")
    shutil.copytree(CONFIG / "la_haute_borne" / "reference", tmp_path / "reference")
    write(
        tmp_path,
        "historian.csv",
        "source_name,canonical_name,source_unit\nt,turbine_id,\nts,measured_at,UTC\n"
        "ws,wind_speed_avg,furlongs\n",
    )
    settings = replace(load_settings(), park_config=str(tmp_path), sensor_mapping="")
    with pytest.raises(ParkConfigError, match=r"historian\.csv:4: .*furlongs"):
        park_config.check(settings)


def test_an_export_naming_a_column_staging_does_not_read_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "exports.yaml",
        "exports:\n  - name: prod\n    table: production_daily\n    columns:\n"
        "      production_date: {header: Day}\n      turbine_id: {header: WTG}\n"
        "      energy_kwh: {header: kWh}\n      energy_mwh: {header: MWh}\n",
    )
    with pytest.raises(ParkConfigError, match=r"exports\.yaml:\d+: exports\.0: .*energy_mwh"):
        load_specs(path, "UTC")


def test_an_export_without_its_keys_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "exports.yaml",
        "exports:\n  - name: prod\n    table: production_daily\n    columns:\n"
        "      production_date: {header: Day}\n      energy_kwh: {header: kWh, decimal: ';'}\n",
    )
    with pytest.raises(ParkConfigError, match=r"exports\.yaml:6: .*energy_kwh\.decimal"):
        load_specs(path, "UTC")
    path.write_text(path.read_text().replace("decimal: ';'", "decimal: ','"))
    with pytest.raises(ParkConfigError, match=r"exports\.yaml:2: .*key column\(s\) turbine_id"):
        load_specs(path, "UTC")


OTHER_OPERATOR = """
exports:
  - name: daily_report
    table: production_daily
    time_zone: Europe/Istanbul
    columns:
      production_date: {header: [Report date, Tarih], format: "%Y.%m.%d"}
      turbine_id: {header: [WTG, Turbine]}
      energy_kwh: {header: Energy, suffix: kWh, decimal: ","}
      availability_pct: {header: Availability, suffix: "%"}
  - name: work_orders
    table: maintenance_log
    time_zone: Europe/Istanbul
    columns:
      intervention_id: {header: WO}
      turbine_id: {header: WTG}
      started_at: {header: Start, format: "%d %m %Y %H:%M"}
      intervention_type: {header: Kind}
      component: {header: Part}
"""


def test_values_are_read_as_the_spec_says(tmp_path: Path) -> None:
    daily, work_orders = load_specs(write(tmp_path, "exports.yaml", OTHER_OPERATOR), "UTC")
    energy = daily.column("energy_kwh")
    assert energy.parse("1\u202f234,5 kWh") == 1234.5  # narrow no-break space groups
    assert energy.parse("12\u00a0345,6") == 12345.6  # no-break space groups
    assert energy.parse("1.234.567,8") == 1234567.8
    assert daily.column("availability_pct").parse("95,47 %") == pytest.approx(95.47)
    assert daily.column("availability_pct").parse("") is None
    assert daily.column("production_date").parse("2018.01.02") == date(2018, 1, 2)
    with pytest.raises(parsing.FieldError, match="Report date"):
        daily.column("production_date").parse("02/01/2018")
    # Istanbul is UTC+3 all year
    start = work_orders.column("started_at").parse("02 01 2018 10:00")
    assert start == datetime(2018, 1, 2, 7, 0, tzinfo=UTC)
    assert daily.column("turbine_id").headers == ("WTG", "Turbine")


def test_weather_sites_come_from_the_park_when_the_setting_is_empty() -> None:
    from loaders.sources.weather_api.load import registry_sites

    settings = replace(load_settings(), park_config="config/la_haute_borne", weather_sites="")
    [site] = registry_sites(settings)
    assert site.site_code == "LHB"
    assert (round(site.latitude, 2), round(site.longitude, 2)) == (48.45, 5.59)


def test_a_wrong_turbine_row_names_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "turbines.csv",
        "turbine_id,site_code,model,latitude,commissioned_on\n"
        "T1,SITE,MM82,48.4,2010-05-01\nT2,SITE,MM82,north,2010-05-01\n"
        "T3,SITE,,48.4,\nT1,SITE,MM82,,\n",
    )
    with pytest.raises(ParkConfigError) as raised:
        park_config.load_turbines(path)
    message = str(raised.value)
    assert "turbines.csv:3: latitude" in message
    assert "turbines.csv:4: model" in message
    assert "turbines.csv:5: turbine T1 is already on line 2" in message


def test_turbine_rows_are_read_typed() -> None:
    rows = park_config.load_turbines(CONFIG / "la_haute_borne" / "turbines.csv")
    assert [row["turbine_id"] for row in rows] == ["R80711", "R80721", "R80736", "R80790"]
    assert rows[0]["rated_power_kw"] == 2050.0 and rows[0]["latitude"] is None


def test_a_reference_seed_of_another_shape_is_refused(tmp_path: Path) -> None:
    shutil.copytree(CONFIG / "la_haute_borne", tmp_path / "park")
    sites = tmp_path / "park" / "reference" / "sites.csv"
    sites.write_text("site,zone\nLHB,Europe/Paris\n", encoding="utf-8")
    (tmp_path / "park" / "reference" / "alarm_codes.csv").unlink()
    settings = replace(load_settings(), park_config=str(tmp_path / "park"), sensor_mapping="")
    with pytest.raises(ParkConfigError) as raised:
        park_config.check(settings)
    message = str(raised.value)
    assert "sites.csv:1: header must be site_code,time_zone,country_code,elevation_m" in message
    assert "alarm_codes.csv: missing" in message


def test_dbt_reads_the_parks_reference_seeds_by_a_relative_path() -> None:
    """Relative to the project root: dbt writes a seed's SQL to <target>/run/<project>/<seed
    path>, which, for an absolute seed path, overwrote the park's CSV with SQL."""
    settings = replace(load_settings(), park_config="config/turkey_t1")
    reference = settings.dbt_env()["WINDFARM_PARK_REFERENCE"]
    assert reference == "config/turkey_t1/reference"  # read as ../<it> by dbt_project.yml
    found = (Path(settings.dbt_project_dir) / ".." / reference).resolve()
    assert found == CONFIG / "turkey_t1" / "reference"


def test_a_run_with_an_invalid_park_stops_before_loading(tmp_path: Path) -> None:
    """`python -m loaders run` checks the folder first: exit 1, the file and line named,
    no source touched (the database named does not even exist)."""
    write(tmp_path, "park.yaml", "name: X\ntime_zone: Mars/Olympus\n")
    environment = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "WINDFARM_PARK_CONFIG": str(tmp_path),
        "WINDFARM_DATABASE": "windfarm_no_such_database",
        "WINDFARM_LOG_DIR": "",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "loaders", "run", "--date", "2025-10-01"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1
    assert f"{tmp_path / 'park.yaml'}:2: time_zone: unknown time zone" in completed.stderr
    assert "[sensor_db]" not in completed.stdout
