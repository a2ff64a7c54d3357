"""The weather loader end to end: a loopback Open-Meteo (archive and forecast), PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from warehouse_sql import query
from werkzeug import Request, Response

from loaders import warehouse
from loaders.settings import Settings
from loaders.sources.weather_api import load as weather_load

API_KEY = "om-key-5f2d9c7e1a"
SITES = "AAA=48.45,5.59;BBB=50.0,10.0"


def open_meteo(request: Request) -> Response:
    """Hourly answers in the archive/forecast shape for every requested coordinate, in
    GMT and SI units, refusing requests without the API key."""
    args = request.args
    if args.get("apikey") != API_KEY:
        return Response(json.dumps({"error": True, "reason": "API key missing"}), status=400)
    start = date.fromisoformat(args["start_date"])
    hours = ((date.fromisoformat(args["end_date"]) - start).days + 1) * 24
    times = [
        (datetime.combine(start, datetime.min.time()) + timedelta(hours=h)).strftime(
            "%Y-%m-%dT%H:%M"
        )
        for h in range(hours)
    ]
    answers = [
        {
            "latitude": float(latitude),
            "longitude": float(longitude),
            "utc_offset_seconds": 0,
            "timezone": "GMT",
            "hourly_units": {"time": "iso8601", "temperature_2m": "°C", "wind_speed_10m": "m/s"},
            "hourly": {
                "time": times,
                "temperature_2m": [10.0] * hours,
                "wind_speed_10m": [5.0] * hours,
            },
        }
        for latitude, longitude in zip(
            args["latitude"].split(","), args["longitude"].split(","), strict=True
        )
    ]
    body = answers if len(answers) > 1 else answers[0]
    return Response(json.dumps(body), content_type="application/json")


@pytest.fixture(scope="module")
def weather_settings(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    isolated = replace(
        settings,
        database=f"{settings.database}_weather",
        dlt_dir=str(tmp_path_factory.mktemp("weather_dlt")),
        weather_sites=SITES,
        weather_api_key=API_KEY,
        weather_api_key_param="apikey",
        weather_archive_delay_days=5,
    )
    warehouse.bootstrap(isolated)
    yield isolated
    warehouse.drop_database(isolated)


def test_recent_days_come_from_the_forecast_api_and_reruns_overwrite(
    weather_settings: Settings, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1/archive").respond_with_handler(open_meteo)
    httpserver.expect_request("/v1/forecast").respond_with_handler(open_meteo)
    run_settings = replace(
        weather_settings,
        weather_base_url=httpserver.url_for("/v1"),
        weather_forecast_url=httpserver.url_for("/v1"),
    )
    today = datetime.now(UTC).date()
    first, last = today - timedelta(days=7), today - timedelta(days=3)

    outcome = weather_load.load_weather(run_settings, first, last)
    again = weather_load.load_weather(run_settings, first, last)

    # two requests each time: the archive's two days, the forecast's three; sites together
    assert [request.split("?")[0] for request in outcome.details["requests"]] == [
        "archive",
        "forecast",
    ]
    assert outcome.details["rows_read"] == again.details["rows_read"] == 2 * 5 * 24
    rows = query(
        run_settings,
        "select site_code, split_part(_request, '?', 1), count(*), "
        "count(distinct observed_at), min(observed_at), bool_and(_request not like '%om-key%') "
        "from raw.weather_hourly group by 1, 2 order by 1, 2",
    )
    midnight = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    assert rows == [
        ("AAA", "archive", 48, 48, midnight, True),
        ("AAA", "forecast", 72, 72, midnight + timedelta(days=2), True),
        ("BBB", "archive", 48, 48, midnight, True),
        ("BBB", "forecast", 72, 72, midnight + timedelta(days=2), True),
    ]
    assert all(f"apikey={API_KEY}" in entry[0].query_string.decode() for entry in httpserver.log)


def test_no_registry_and_no_sites_is_a_clear_error(
    weather_settings: Settings, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    no_registry = replace(weather_settings, weather_sites="", sensor_db_url=f"sqlite:///{empty}")
    with pytest.raises(ValueError, match="set WINDFARM_WEATHER_SITES"):
        weather_load.registry_sites(no_registry)
    missing = replace(no_registry, sensor_db_url=f"sqlite:///{tmp_path / 'missing.db'}")
    # said as the weather's problem with the sensor database, and what to do about it
    with pytest.raises(ValueError, match="missing.db does not exist.*WINDFARM_WEATHER_SITES="):
        weather_load.registry_sites(missing)
    with pytest.raises(ValueError, match="expected CODE=latitude,longitude"):
        weather_load.registry_sites(replace(weather_settings, weather_sites="AAA=48.45"))
