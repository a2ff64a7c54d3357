"""The weather client against a real HTTP server on loopback (pytest-httpserver)."""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from loaders.sources.weather_api.client import OpenMeteoClient, Site, WeatherApiError

SITE = Site("MTC", 48.45, 5.59)
REAL_RESPONSE = (
    Path(__file__).parents[3] / "shared/data/real/open_meteo/forecast_72h_europe_berlin.json"
)


def answer(hours: int = 3, unit: str = "m/s", offset: int = 0) -> dict:
    return {
        "latitude": 48.45,
        "longitude": 5.59,
        "utc_offset_seconds": offset,
        "timezone": "GMT",
        "hourly_units": {"time": "iso8601", "wind_speed_10m": unit, "temperature_2m": "°C"},
        "hourly": {
            "time": [f"2025-10-01T{h:02d}:00" for h in range(hours)],
            "wind_speed_10m": [3.6 * (h + 1) for h in range(hours)],
            "temperature_2m": [10.0] * hours,
        },
    }


def client(server: HTTPServer) -> OpenMeteoClient:
    return OpenMeteoClient(server.url_for("/v1"), backoff_seconds=0.01)


def test_rows_in_utc_and_si_units(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/archive").respond_with_json(answer(unit="km/h", offset=7200))
    request, rows = client(httpserver).hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    assert len(rows) == 3
    assert rows[0]["observed_at"] == datetime(2025, 9, 30, 22, tzinfo=UTC)
    assert rows[0]["wind_speed_10m"] == pytest.approx(1.0)  # 3.6 km/h
    assert "timezone=GMT" in request and "wind_speed_unit=ms" in request
    sent = httpserver.log[0][0].args
    assert sent["latitude"] == "48.4500" and sent["hourly"].startswith("temperature_2m")


def test_a_list_answer_for_several_coordinates(httpserver: HTTPServer) -> None:
    far = {**answer(), "latitude": 50.0, "longitude": 10.0}
    near = answer()
    near["hourly"]["temperature_2m"] = [1.0, 2.0, 3.0]
    httpserver.expect_request("/v1/archive").respond_with_json([far, near])
    _, rows = client(httpserver).hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    assert [row["temperature_2m"] for row in rows] == [1.0, 2.0, 3.0]


def test_429_with_retry_after_then_success(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/v1/archive").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "0"}
    )
    httpserver.expect_ordered_request("/v1/archive").respond_with_json(answer())
    _, rows = client(httpserver).hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    assert len(rows) == 3 and len(httpserver.log) == 2


def test_500_then_success(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/v1/archive").respond_with_data("oops", status=500)
    httpserver.expect_ordered_request("/v1/archive").respond_with_json(answer())
    _, rows = client(httpserver).hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    assert len(rows) == 3


def test_persistent_500_gives_up_with_the_request_named(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/archive").respond_with_data("down", status=503)
    with pytest.raises(WeatherApiError, match=r"GET http://.*/v1/archive\?latitude=.*HTTP 503"):
        client(httpserver).hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    assert len(httpserver.log) == 5


def test_400_reason_is_surfaced(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/archive").respond_with_json(
        {"error": True, "reason": "Parameter 'start_date' is out of allowed range"}, status=400
    )
    with pytest.raises(WeatherApiError, match="HTTP 400: Parameter 'start_date' is out"):
        client(httpserver).hourly(SITE, date(1900, 1, 1), date(1900, 1, 1))


def test_malformed_json(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/archive").respond_with_data("{not json", status=200)
    with pytest.raises(WeatherApiError, match="not JSON"):
        client(httpserver).hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))


@pytest.mark.skipif(not REAL_RESPONSE.exists(), reason="shared real data folder absent")
def test_the_recorded_real_response(httpserver: HTTPServer) -> None:
    """A real Open-Meteo answer (Berlin time, km/h) comes out in UTC and m/s."""
    payload = json.loads(REAL_RESPONSE.read_text(encoding="utf-8"))
    httpserver.expect_request("/v1/archive").respond_with_json(payload)
    site = Site("BER", payload["latitude"], payload["longitude"])
    _, rows = client(httpserver).hourly(site, date(2026, 3, 2), date(2026, 3, 4))
    assert len(rows) == len(payload["hourly"]["time"]) == 72
    assert rows[0]["observed_at"] == datetime(2026, 3, 1, 23, tzinfo=UTC)
    first_kmh = payload["hourly"]["wind_speed_10m"][0]
    assert rows[0]["wind_speed_10m"] == pytest.approx(first_kmh / 3.6)
