"""Implausible values planted in the production exports and the weather, through a whole
run of the real loaders and `dbt build` on a demo-park warehouse of its own: every row is
kept, no value outside the plausibility_bounds seed reaches `core` or `ml`, the rows say
which of their values were set aside, and `quality.quality_implausible_values` and the
quality page count them (docs/quality.md, "Plausibility before publication").
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from warehouse_sql import query

from loaders.demo_park import serve_in_background
from loaders.run import pipeline
from loaders.settings import Settings

DAY = date(2025, 10, 2)

# (turbine, column of the export, value as typed): what the production department's
# export could hold after a meter reset, a unit slip or a hand edit (the demo's third
# turbine has no readable energy on its first day: that row is rejected by the loader)
PLANTED_EXPORT = [
    ("MTC-T01", "Energie produite (kWh)", "-500,0"),  # a meter never gives energy back
    ("MTC-T01", "Disponibilite (%)", "150,0"),
    ("MTC-T02", "Energie produite (kWh)", "9 999 999 999,0"),  # beyond rated power × 25 h
    ("MTC-T02", "Heures de production", "30,0"),  # a local day has 23 to 25 hours
]
# (hour of DAY, UTC; Open-Meteo variable; value)
PLANTED_WEATHER = [
    (3, "temperature_2m", 900.0),
    (4, "wind_speed_10m", -3.0),
    (5, "surface_pressure", 5.0),
    (6, "relative_humidity_2m", 180.0),
    (7, "precipitation", -1.0),
    (8, "wind_gusts_10m", 250.0),
]
EXPECTED_COUNTS = {
    ("production", "energy_kwh"): 2,
    ("production", "availability_pct"): 1,
    ("production", "operating_hours"): 1,
    ("weather", "temperature_2m_c"): 1,
    ("weather", "wind_speed_10m_ms"): 1,
    ("weather", "surface_pressure_hpa"): 1,
    ("weather", "relative_humidity_2m_pct"): 1,
    ("weather", "precipitation_mm"): 1,
    ("weather", "wind_gusts_10m_ms"): 1,
    ("weather", "wind_direction_10m_deg"): 0,
}


def plant_in_export(inbox: Path, day: date) -> None:
    """Overwrite cells of the day's rows in the generated production export."""
    path = next(inbox.glob("production_journaliere_*.csv"))
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    header = rows[0]
    for turbine, column, value in PLANTED_EXPORT:
        row = next(r for r in rows[1:] if r[0] == f"{day:%d/%m/%Y}" and r[1] == turbine)
        row[header.index(column)] = value
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";", lineterminator="\r\n").writerows(rows)


def plant_in_weather(weather_dir: Path, day: date) -> None:
    """Overwrite hourly values of the day in the generated weather archive."""
    path = next(weather_dir.glob("*.json"))
    document = json.loads(path.read_text(encoding="utf-8"))
    hourly = document["hourly"]
    for hour, variable, value in PLANTED_WEATHER:
        hourly[variable][hourly["time"].index(f"{day}T{hour:02d}:00")] = value
    path.write_text(json.dumps(document), encoding="utf-8")


@pytest.fixture(scope="module")
def planted(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory, park_warehouse: Callable
) -> Iterator[tuple[Settings, pipeline.RunOutcome]]:
    """One run of DAY (sources, `dbt build`, the report) with the planted values."""
    work = tmp_path_factory.mktemp("implausible")
    with park_warehouse(settings, work, "implausible", DAY, DAY, sensor_lookback_days=0) as (
        isolated,
        _,
    ):
        plant_in_export(Path(isolated.csv_inbox), DAY)
        plant_in_weather(work / "park" / "weather", DAY)
        # the fixture's server read the archive before the planting: serve it again
        with serve_in_background(work / "park" / "weather") as server:
            hostile = replace(isolated, weather_base_url=server.base_url)
            yield hostile, pipeline.run(hostile, DAY, DAY)


def test_the_run_succeeds_and_keeps_every_row(
    planted: tuple[Settings, pipeline.RunOutcome],
) -> None:
    park, outcome = planted
    assert (outcome.status, outcome.exit_code) == ("success", 0), outcome.errors()
    for staged, published in (
        ("staging.stg_weather__hourly", "core.fct_weather_hourly"),
        ("staging.stg_production__daily_production", "core.fct_daily_production"),
    ):
        assert query(park, f"select count(*) from {staged}") == query(
            park, f"select count(*) from {published}"
        )


def test_no_implausible_value_is_published_in_core_or_ml(
    planted: tuple[Settings, pipeline.RunOutcome],
) -> None:
    park, _ = planted
    # as received, staging still holds them (nothing lost, and the test plants for real)
    assert query(park, "select max(temperature_2m_c) from staging.stg_weather__hourly")[0][0] == 900
    assert query(park, "select min(energy_kwh) from staging.stg_production__daily_production")[0][
        0
    ] == pytest.approx(-500)
    bounds = query(
        park, "select source_name, measure, min_value, max_value from reference.plausibility_bounds"
    )
    published = {
        "weather": ["core.fct_weather_hourly"],
        "production": ["core.fct_daily_production"],
    }
    checked = []
    for source, measure, low, high in bounds:
        for table in published[source]:
            outside = query(
                park,
                f"select count(*) from {table} where {measure} < %s or {measure} > %s",
                (low, high),
            )[0][0]
            assert outside == 0, (table, measure)
            checked.append((table, measure))
        if source == "weather":  # the ML mart's weather features, as of each hour
            outside = query(
                park,
                f"select count(*) from ml.ml_turbine_hourly_features"
                f" where weather_{measure} < %s or weather_{measure} > %s",
                (low, high),
            )[0][0]
            assert outside == 0, measure
    assert len(checked) == len(EXPECTED_COUNTS)
    # the flagged rows say what was set aside, and their other values stay
    assert query(
        park,
        "select turbine_id, implausible_measures, energy_kwh is null, availability_pct is null,"
        " operating_hours is null from core.fct_daily_production"
        " where has_implausible_values order by turbine_id",
    ) == [
        ("MTC-T01", "energy_kwh, availability_pct", True, True, False),
        ("MTC-T02", "energy_kwh, operating_hours", True, False, True),
    ]
    assert query(
        park,
        "select extract(hour from observed_at at time zone 'UTC')::int, implausible_measures,"
        " wind_direction_10m_deg is not null from core.fct_weather_hourly"
        " where has_implausible_values order by 1",
    ) == [
        (3, "temperature_2m_c", True),
        (4, "wind_speed_10m_ms", True),
        (5, "surface_pressure_hpa", True),
        (6, "relative_humidity_2m_pct", True),
        (7, "precipitation_mm", True),
        (8, "wind_gusts_10m_ms", True),
    ]


def test_the_quality_mart_and_page_count_them(
    planted: tuple[Settings, pipeline.RunOutcome],
) -> None:
    park, _ = planted
    counts = {
        (source, measure): count
        for source, measure, count in query(
            park,
            "select source_name, measure, implausible_count"
            " from quality.quality_implausible_values",
        )
    }
    assert counts == EXPECTED_COUNTS
    page = next(Path(park.reports_dir).rglob("index.html")).read_text(encoding="utf-8")
    assert 'data-anomaly="implausible_source_values"' in page
    assert f'data-count="{sum(EXPECTED_COUNTS.values())}"' in page
    assert 'data-implausible="production.energy_kwh"' in page
