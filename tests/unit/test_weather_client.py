"""The weather client against a real HTTP server on loopback (pytest-httpserver)."""

import base64
import json
import logging
import time
from datetime import UTC, date, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

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


def test_a_timeout_is_retried(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response(json.dumps(answer()), content_type="application/json")

    httpserver.expect_ordered_request("/v1/archive").respond_with_handler(slow)
    httpserver.expect_ordered_request("/v1/archive").respond_with_json(answer())
    # the back-off (at least 0.5 s) outlasts the slow answer: the loopback server is serial
    quick = OpenMeteoClient(httpserver.url_for("/v1"), backoff_seconds=0.5, timeout_seconds=0.2)
    _, rows = quick.hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    assert len(rows) == 3 and len(httpserver.log) == 2


def test_timeouts_give_up_after_the_attempts(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.3)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/v1/archive").respond_with_handler(slow)
    quick = OpenMeteoClient(
        httpserver.url_for("/v1"), backoff_seconds=0.01, timeout_seconds=0.1, max_attempts=2
    )
    with pytest.raises(WeatherApiError, match=r"no answer within 0.1 s after 2 attempts"):
        quick.hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))


def test_retry_after_as_an_http_date(httpserver: HTTPServer) -> None:
    past = format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True)
    httpserver.expect_ordered_request("/v1/archive").respond_with_data(
        "busy", status=503, headers={"Retry-After": past}
    )
    httpserver.expect_ordered_request("/v1/archive").respond_with_json(answer())
    _, rows = client(httpserver).hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    assert len(rows) == 3


def test_a_retry_after_beyond_the_time_budget_gives_up_at_once(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/archive").respond_with_data(
        "quota exceeded", status=429, headers={"Retry-After": "3600"}
    )
    bounded = OpenMeteoClient(httpserver.url_for("/v1"), max_total_seconds=30)
    with pytest.raises(WeatherApiError, match=r"HTTP 429 after 1 attempt.*30 s budget"):
        bounded.hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    assert len(httpserver.log) == 1


def test_every_unit_spelling_is_converted(httpserver: HTTPServer) -> None:
    payload = answer(hours=1)
    payload["hourly_units"] = {
        "wind_speed_10m": "kn",
        "wind_gusts_10m": "mp/h",
        "temperature_2m": "°F",
        "precipitation": "inch",
        "surface_pressure": "hPa",
        "relative_humidity_2m": "%",
        "wind_direction_10m": "°",
    }
    payload["hourly"] |= {
        "wind_speed_10m": [10.0],
        "wind_gusts_10m": [10.0],
        "temperature_2m": [212.0],
        "precipitation": [1.0],
        "surface_pressure": [1013.0],
        "relative_humidity_2m": [80],
        "wind_direction_10m": [270],
    }
    httpserver.expect_request("/v1/archive").respond_with_json(payload)
    _, rows = client(httpserver).hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    row = rows[0]
    assert row["wind_speed_10m"] == pytest.approx(5.1444, rel=1e-4)
    assert row["wind_gusts_10m"] == pytest.approx(4.4704)
    assert row["temperature_2m"] == pytest.approx(100.0)
    assert row["precipitation"] == pytest.approx(25.4)
    assert (row["surface_pressure"], row["relative_humidity_2m"]) == (1013.0, 80)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"hourly_units": {"temperature_2m": "°C", "wind_speed_10m": "furlong/fortnight"}},
            "unknown unit 'furlong/fortnight'",
        ),
        ({"hourly_units": {"temperature_2m": "°C"}}, "no unit for wind_speed_10m"),
        (
            {"hourly": {"time": ["2025-10-01T00:00"], "wind_speed_10m": ["calm"]}},
            r"hourly.wind_speed_10m\[0\] is not a number: 'calm'",
        ),
        (
            {"hourly": {"time": ["2025-10-01T00:00"], "wind_speed_10m": [1.0, 2.0]}},
            "hourly.wind_speed_10m does not have 1 values",
        ),
        ({"hourly": None}, "unexpected answer"),
    ],
)
def test_a_malformed_answer_is_named(httpserver: HTTPServer, change: dict, message: str) -> None:
    httpserver.expect_request("/v1/archive").respond_with_json({**answer(), **change})
    with pytest.raises(WeatherApiError, match=message):
        client(httpserver).hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))


def answering(payload: object, **expected: str):  # noqa: ANN201
    """A handler giving `payload` when the query has these parameters, else HTTP 400."""

    def handler(request: Request) -> Response:
        wrong = {k: request.args.get(k) for k, v in expected.items() if request.args.get(k) != v}
        if wrong:
            return Response(json.dumps({"error": True, "reason": f"unexpected {wrong}"}), 400)
        return Response(json.dumps(payload), content_type="application/json")

    return handler


def test_several_sites_in_one_request(httpserver: HTTPServer) -> None:
    other = Site("LHB", 48.46, 5.6)
    first, second = answer(), answer()
    second["hourly"]["temperature_2m"] = [5.0, 5.0, 5.0]
    httpserver.expect_request("/v1/archive").respond_with_handler(
        answering([first, second], latitude="48.4500,48.4600", longitude="5.5900,5.6000")
    )
    request, by_site = client(httpserver).hourly_sites(
        [SITE, other], date(2025, 10, 1), date(2025, 10, 1)
    )
    assert [row["temperature_2m"] for row in by_site["LHB"]] == [5.0, 5.0, 5.0]
    assert [row["temperature_2m"] for row in by_site["MTC"]] == [10.0, 10.0, 10.0]
    assert "latitude=48.4500,48.4600" in request


def test_the_forecast_endpoint(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/forecast").respond_with_json(answer())
    forecast = OpenMeteoClient(httpserver.url_for("/v1"), endpoint="forecast")
    request, rows = forecast.hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    assert request.startswith("forecast?") and len(rows) == 3


SECRET_KEY = "sk-live-0123456789abcdef"
CLIENT_SECRET = "client-secret-fedcba9876543210"


def client_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Log lines of our side (the loopback server's own werkzeug log is the provider's)."""
    return [r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug")]


def secret_free(*texts: str) -> bool:
    return not any(s in text for text in texts for s in (SECRET_KEY, CLIENT_SECRET))


def test_an_api_key_in_the_query_never_shows(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    httpserver.expect_ordered_request("/v1/archive").respond_with_handler(
        answering(answer(), apikey=SECRET_KEY)
    )
    httpserver.expect_ordered_request("/v1/archive").respond_with_json(
        {"error": True, "reason": f"API key {SECRET_KEY} has no access to 1900"}, status=400
    )
    keyed = OpenMeteoClient(httpserver.url_for("/v1"), api_key=SECRET_KEY, api_key_param="apikey")
    request, rows = keyed.hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    with pytest.raises(WeatherApiError) as error:
        keyed.hourly(SITE, date(1900, 1, 1), date(1900, 1, 1))
    assert "has no access" in str(error.value)
    assert any("apikey=***" in record.getMessage() for record in caplog.records)
    assert secret_free(
        request,
        repr(keyed),
        str(error.value),
        *(row["_request"] for row in rows),
        *client_log(caplog),
        *capsys.readouterr(),
    )


def token_server(httpserver: HTTPServer, lifetimes: list[int]) -> list[str]:
    """A client-credentials token endpoint giving token-1, token-2, ... with these
    lifetimes; returns the tokens handed out, in order."""
    handed: list[str] = []

    def token(request: Request) -> Response:
        expected = "Basic " + base64.b64encode(f"weather-app:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return Response(json.dumps({"error": "invalid_client"}), status=401)
        handed.append(f"token-{len(handed) + 1}")
        body = {
            "access_token": handed[-1],
            "token_type": "Bearer",
            "expires_in": lifetimes[len(handed) - 1],
        }
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/token", method="POST").respond_with_handler(token)
    return handed


def bearer_api(httpserver: HTTPServer, valid: set[str]) -> None:
    """The API: 200 for a valid bearer token, 401 otherwise (an expired token)."""

    def api(request: Request) -> Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in valid:
            return Response(json.dumps({"error": True, "reason": "token expired"}), status=401)
        return Response(json.dumps(answer()), content_type="application/json")

    httpserver.expect_request("/v1/archive").respond_with_handler(api)


def oauth_client(httpserver: HTTPServer) -> OpenMeteoClient:
    from loaders.sources.weather_api.oauth2 import ClientCredentialsAuth

    session = requests.Session()
    session.auth = ClientCredentialsAuth(httpserver.url_for("/token"), "weather-app", CLIENT_SECRET)
    return OpenMeteoClient(httpserver.url_for("/v1"), session, backoff_seconds=0.01)


def test_oauth2_token_is_cached_until_it_expires(httpserver: HTTPServer) -> None:
    handed = token_server(httpserver, [3600, 3600])
    bearer_api(httpserver, {"token-1"})
    weather = oauth_client(httpserver)
    weather.hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    weather.hourly(SITE, date(2025, 10, 2), date(2025, 10, 2))
    assert handed == ["token-1"]  # fetched once, cached


def test_an_expired_token_is_renewed_before_use(httpserver: HTTPServer) -> None:
    handed = token_server(httpserver, [1, 3600])  # the first one expires at once
    bearer_api(httpserver, {"token-1", "token-2"})
    weather = oauth_client(httpserver)
    weather.hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    weather.hourly(SITE, date(2025, 10, 2), date(2025, 10, 2))
    assert handed == ["token-1", "token-2"]


def test_a_401_renews_the_token_once(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    handed = token_server(httpserver, [3600, 3600, 3600])
    bearer_api(httpserver, {"token-2"})  # the API revoked token-1 early
    weather = oauth_client(httpserver)
    _, rows = weather.hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    assert len(rows) == 3 and handed == ["token-1", "token-2"]

    httpserver.clear_all_handlers()
    token_server(httpserver, [3600, 3600])
    bearer_api(httpserver, set())  # no token is accepted any more: one renewal, then fail
    with pytest.raises(WeatherApiError, match="HTTP 401: token expired") as error:
        oauth_client(httpserver).hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    assert secret_free(str(error.value), *client_log(caplog), *capsys.readouterr())


def test_a_refused_client_secret_is_not_repeated(httpserver: HTTPServer) -> None:
    from loaders.sources.weather_api.oauth2 import ClientCredentialsAuth, OAuth2Error

    token_server(httpserver, [3600])
    session = requests.Session()
    session.auth = ClientCredentialsAuth(httpserver.url_for("/token"), "weather-app", "wrong")
    weather = OpenMeteoClient(httpserver.url_for("/v1"), session)
    with pytest.raises(OAuth2Error, match="HTTP 401: invalid_client") as error:
        weather.hourly(SITE, date(2025, 10, 1), date(2025, 10, 1))
    assert "wrong" not in str(error.value) and secret_free(str(error.value))
