"""HTTP client for the Open-Meteo archive API (and APIs of the same shape).

Asks for UTC and SI units, then checks `hourly_units` and converts anyway: a proxy or a
provider may answer in other units. Retries 429, 5xx and timeouts a bounded number of
times with exponential backoff and jitter, honouring `Retry-After`.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import requests

from loaders.signals import CONVERSIONS, normalise_unit

HOURLY_VARIABLES = {
    # variable: the unit we store
    "temperature_2m": "degC",
    "relative_humidity_2m": "%",
    "surface_pressure": "hPa",
    "precipitation": "mm",
    "wind_speed_10m": "m/s",
    "wind_direction_10m": "deg",
    "wind_gusts_10m": "m/s",
}
MAX_ATTEMPTS = 5
MAX_WAIT_SECONDS = 60.0
TIMEOUT_SECONDS = 30.0


class WeatherApiError(RuntimeError):
    """A request that failed for good; the message names the request (never a secret)."""


@dataclass(frozen=True)
class Site:
    site_code: str
    latitude: float
    longitude: float


def _unit_converter(variable: str, unit: str):  # noqa: ANN202
    target = HOURLY_VARIABLES[variable]
    if target in ("%", "hPa", "mm"):
        return None
    source = normalise_unit(unit)
    if source == target:
        return None
    if (source, target) not in CONVERSIONS:
        raise WeatherApiError(f"{variable}: cannot convert {unit!r} to {target}")
    return CONVERSIONS[(source, target)]


class OpenMeteoClient:
    def __init__(
        self,
        base_url: str,
        session: requests.Session | None = None,
        backoff_seconds: float = 1.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.backoff_seconds = backoff_seconds

    def _get(self, endpoint: str, params: dict[str, str]) -> dict:
        url = f"{self.base_url}/{endpoint}"
        described = f"GET {url}?" + "&".join(f"{k}={v}" for k, v in params.items())
        deadline = time.monotonic() + MAX_WAIT_SECONDS * MAX_ATTEMPTS
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = self.session.get(url, params=params, timeout=TIMEOUT_SECONDS)
            except (requests.Timeout, requests.ConnectionError) as error:
                problem, wait = f"{type(error).__name__}", None
            else:
                if response.status_code == 200:
                    try:
                        return response.json()
                    except ValueError:
                        raise WeatherApiError(f"{described}: the answer is not JSON") from None
                if response.status_code != 429 and response.status_code < 500:
                    reason = _reason(response)
                    raise WeatherApiError(f"{described}: HTTP {response.status_code}: {reason}")
                problem = f"HTTP {response.status_code}"
                wait = _retry_after(response)
            if attempt == MAX_ATTEMPTS or time.monotonic() > deadline:
                raise WeatherApiError(f"{described}: {problem} after {attempt} attempts")
            backoff = wait if wait is not None else self.backoff_seconds * 2**attempt
            jitter = random.uniform(0, self.backoff_seconds / 2)
            time.sleep(min(MAX_WAIT_SECONDS, backoff) + jitter)
        raise AssertionError("unreachable")

    def hourly(self, site: Site, start: date, end: date) -> tuple[str, list[dict]]:
        """Rows for one site and [start, end] inclusive, in UTC and our units."""
        params = {
            "latitude": f"{site.latitude:.4f}",
            "longitude": f"{site.longitude:.4f}",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "hourly": ",".join(HOURLY_VARIABLES),
            "timezone": "GMT",
            "wind_speed_unit": "ms",
            "temperature_unit": "celsius",
        }
        payload = self._get("archive", params)
        request = f"archive?{'&'.join(f'{k}={v}' for k, v in params.items())}"
        return request, parse_hourly(payload, site, request)


def _reason(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("reason", body)) if isinstance(body, dict) else str(body)[:200]


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def parse_hourly(payload: dict | list, site: Site, request: str) -> list[dict]:
    """Rows from an Open-Meteo answer; local times are shifted by `utc_offset_seconds`."""
    if isinstance(payload, list):  # several coordinates: take the one for this site
        payload = min(
            payload,
            key=lambda item: (
                abs(item["latitude"] - site.latitude) + abs(item["longitude"] - site.longitude)
            ),
        )
    try:
        hourly = payload["hourly"]
        units = payload["hourly_units"]
        offset = timedelta(seconds=int(payload.get("utc_offset_seconds", 0)))
        times = hourly["time"]
    except (KeyError, TypeError) as error:
        raise WeatherApiError(f"{request}: unexpected answer, no {error}") from None
    converters = {v: _unit_converter(v, units.get(v, "")) for v in HOURLY_VARIABLES if v in hourly}
    rows = []
    for index, stamp in enumerate(times):
        observed = (datetime.fromisoformat(stamp) - offset).replace(tzinfo=UTC)
        row: dict[str, object] = {
            "site_code": site.site_code,
            "latitude": float(payload["latitude"]),
            "longitude": float(payload["longitude"]),
            "observed_at": observed,
            "observed_date": observed.date(),
            "_request": request,
        }
        for variable in HOURLY_VARIABLES:
            value = hourly.get(variable, [None] * len(times))[index]
            convert = converters.get(variable)
            row[variable] = convert(value) if (convert and value is not None) else value
        rows.append(row)
    return rows
