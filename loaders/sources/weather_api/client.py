"""HTTP client for the Open-Meteo archive and forecast APIs (and APIs of the same shape).

Asks for UTC (`timezone=GMT`) and SI units, then checks `hourly_units` and converts anyway:
a proxy or a provider may answer in other units. Several sites go in one request
(comma-separated coordinates; the answer is then a JSON list in the same order).

Retries 429, 5xx, timeouts and dropped connections a bounded number of times and within a
bounded total time, with exponential backoff and jitter, honouring `Retry-After` (seconds
or an HTTP date). Any other error fails at once, with the API's `reason` in the message.

Credentials: the session carries them (`oauth2.api_session`: API key header or
OAuth2 client credentials), or `api_key_param` sends a key as a query parameter, as
Open-Meteo's commercial API wants. Either way no secret reaches a message, a stored
`_request` or a log line: the query parameter is added only when sending, and urllib3's
debug log, which prints request URLs, is filtered.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime

import requests

from loaders.signals import CONVERSIONS, UnknownSignalError, normalise_unit

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
# Units outside the SCADA vocabulary of loaders.signals, as Open-Meteo spells them.
_OTHER_UNITS: dict[str, dict[str, Callable[[float], float] | None]] = {
    "%": {"%": None},
    "hPa": {"hpa": None, "mbar": None, "pa": lambda v: v / 100.0, "kpa": lambda v: v * 10.0},
    "mm": {"mm": None, "inch": lambda v: v * 25.4, "in": lambda v: v * 25.4},
}
MAX_ATTEMPTS = 5
MAX_TOTAL_SECONDS = 300.0
MAX_BACKOFF_SECONDS = 60.0
TIMEOUT_SECONDS = 30.0


class WeatherApiError(RuntimeError):
    """A request that failed for good; the message names the request (never a secret)."""


@dataclass(frozen=True)
class Site:
    site_code: str
    latitude: float
    longitude: float


class _MaskSecrets(logging.Filter):
    """Masks secrets in the records of a logger (urllib3 logs every request's URL)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message, self.secrets)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_URL_LOG_FILTER = _MaskSecrets()
for _name in ("urllib3.connectionpool", "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(_URL_LOG_FILTER)


def mask(text: str, secrets: set[str] | frozenset[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _unit_converter(variable: str, unit: str) -> Callable[[float], float] | None:
    target = HOURLY_VARIABLES[variable]
    if target in _OTHER_UNITS:
        key = unit.strip().lower().replace(" ", "")
        if key not in _OTHER_UNITS[target]:
            raise WeatherApiError(f"{variable}: cannot convert {unit!r} to {target}")
        return _OTHER_UNITS[target][key]
    try:
        source = normalise_unit(unit)
    except UnknownSignalError:
        raise WeatherApiError(f"{variable}: unknown unit {unit!r}") from None
    if source == target:
        return None
    if (source, target) not in CONVERSIONS:
        raise WeatherApiError(f"{variable}: cannot convert {unit!r} to {target}")
    return CONVERSIONS[(source, target)]


def _retry_after(response: requests.Response) -> float | None:
    """`Retry-After` in seconds (it may be a number of seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _reason(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or "(empty body)"
    return str(body.get("reason", body))[:500] if isinstance(body, dict) else str(body)[:200]


class OpenMeteoClient:
    """One endpoint (`archive` or `forecast`) of an Open-Meteo-shaped API."""

    def __init__(
        self,
        base_url: str,
        session: requests.Session | None = None,
        backoff_seconds: float = 1.0,
        *,
        endpoint: str = "archive",
        timeout_seconds: float = TIMEOUT_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
        max_total_seconds: float = MAX_TOTAL_SECONDS,
        api_key: str = "",
        api_key_param: str = "",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.endpoint = endpoint
        self.session = session or requests.Session()
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds
        self.max_attempts = max_attempts
        self.max_total_seconds = max_total_seconds
        self._key_param = {api_key_param: api_key} if (api_key and api_key_param) else {}
        self._secrets = frozenset(self._key_param.values())
        _URL_LOG_FILTER.secrets.update(self._secrets)

    def __repr__(self) -> str:
        return f"OpenMeteoClient({self.base_url!r}, endpoint={self.endpoint!r})"

    def _fail(self, message: str) -> WeatherApiError:
        return WeatherApiError(mask(message, self._secrets))

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before the next attempt: `Retry-After` when given, else exponential
        backoff capped at MAX_BACKOFF_SECONDS, plus up to one backoff unit of jitter."""
        if retry_after is not None:
            base = retry_after
        else:
            base = min(MAX_BACKOFF_SECONDS, self.backoff_seconds * 2 ** (attempt - 1))
        return base + random.uniform(0, self.backoff_seconds)  # noqa: S311 - retry jitter, not a secret

    def get(self, params: dict[str, str]) -> object:
        """The JSON answer of GET <base>/<endpoint>?params, retried as the module says."""
        url = f"{self.base_url}/{self.endpoint}"
        described = f"GET {url}?" + "&".join(f"{k}={v}" for k, v in params.items())
        deadline = time.monotonic() + self.max_total_seconds
        for attempt in range(1, self.max_attempts + 1):
            retry_after = None
            try:
                response = self.session.get(
                    url, params={**params, **self._key_param}, timeout=self.timeout_seconds
                )
            except requests.Timeout:
                problem = f"no answer within {self.timeout_seconds:g} s"
            except requests.ConnectionError:
                problem = "connection failed"
            else:
                if response.status_code == 200:
                    try:
                        return response.json()
                    except ValueError:
                        raise self._fail(
                            f"{described}: the answer is not JSON: {response.text[:80]!r}"
                        ) from None
                if response.status_code != 429 and response.status_code < 500:
                    raise self._fail(
                        f"{described}: HTTP {response.status_code}: {_reason(response)}"
                    )
                problem = f"HTTP {response.status_code}"
                retry_after = _retry_after(response)
            if attempt == self.max_attempts:
                raise self._fail(f"{described}: {problem} after {attempt} attempts")
            wait = self._wait(attempt, retry_after)
            if time.monotonic() + wait > deadline:
                raise self._fail(
                    f"{described}: {problem} after {attempt} attempt(s); waiting {wait:.0f} s "
                    f"more would pass the {self.max_total_seconds:g} s budget"
                )
            print(
                f"[weather_api] {self.endpoint}: {problem}, retrying in {wait:.1f} s "
                f"(attempt {attempt} of {self.max_attempts})"
            )
            time.sleep(wait)
        raise AssertionError("unreachable")

    def _params(self, sites: list[Site], start: date, end: date) -> dict[str, str]:
        return {
            "latitude": ",".join(f"{site.latitude:.4f}" for site in sites),
            "longitude": ",".join(f"{site.longitude:.4f}" for site in sites),
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "hourly": ",".join(HOURLY_VARIABLES),
            "timezone": "GMT",
            "wind_speed_unit": "ms",
            "temperature_unit": "celsius",
            "precipitation_unit": "mm",
        }

    def _request_text(self, params: dict[str, str]) -> str:
        """The request as stored in `_request`: endpoint and public parameters only."""
        return f"{self.endpoint}?{'&'.join(f'{k}={v}' for k, v in params.items())}"

    def hourly(self, site: Site, start: date, end: date) -> tuple[str, list[dict]]:
        """Rows for one site and [start, end] inclusive, in UTC and our units."""
        params = self._params([site], start, end)
        payload = self.get(params)
        request = self._request_text(params)
        return request, parse_hourly(payload, site, request)

    def hourly_sites(
        self, sites: list[Site], start: date, end: date
    ) -> tuple[str, dict[str, list[dict]]]:
        """Rows for several sites in one request: {site_code: rows}."""
        if len(sites) == 1:
            request, rows = self.hourly(sites[0], start, end)
            return request, {sites[0].site_code: rows}
        params = self._params(sites, start, end)
        payload = self.get(params)
        request = self._request_text(params)
        if not isinstance(payload, list) or len(payload) != len(sites):
            found = len(payload) if isinstance(payload, list) else "one object"
            raise WeatherApiError(
                f"{request}: expected a list of {len(sites)} answers (one per site), got {found}"
            )
        return request, {
            site.site_code: parse_hourly(item, site, request)
            for site, item in zip(sites, payload, strict=True)
        }


def _check_values(request: str, variable: str, values: object, hours: int) -> list:
    if not isinstance(values, list) or len(values) != hours:
        raise WeatherApiError(f"{request}: hourly.{variable} does not have {hours} values")
    for index, value in enumerate(values):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise WeatherApiError(
                f"{request}: hourly.{variable}[{index}] is not a number: {value!r}"
            )
    return values


def parse_hourly(payload: object, site: Site, request: str) -> list[dict]:
    """Rows from an Open-Meteo answer; local times are shifted by `utc_offset_seconds`.
    A list answer (several coordinates) for one site: the item nearest to the site."""
    if isinstance(payload, list):
        items = [item for item in payload if isinstance(item, dict)]
        if not items:
            raise WeatherApiError(f"{request}: unexpected answer, an empty list")
        payload = min(
            items,
            key=lambda item: (
                abs(float(item.get("latitude", 1e9)) - site.latitude)
                + abs(float(item.get("longitude", 1e9)) - site.longitude)
            ),
        )
    if not isinstance(payload, dict):
        raise WeatherApiError(f"{request}: unexpected answer, not a JSON object")
    try:
        hourly = payload["hourly"]
        units = payload["hourly_units"]
        offset = timedelta(seconds=int(payload.get("utc_offset_seconds", 0)))
        times = hourly["time"]
        latitude, longitude = float(payload["latitude"]), float(payload["longitude"])
    except (KeyError, TypeError, ValueError) as error:
        raise WeatherApiError(f"{request}: unexpected answer, no {error}") from None
    converters = {}
    columns = {}
    for variable in HOURLY_VARIABLES:
        if variable not in hourly:
            continue
        if variable not in units:
            raise WeatherApiError(f"{request}: no unit for {variable} in hourly_units")
        try:
            converters[variable] = _unit_converter(variable, str(units[variable]))
        except WeatherApiError as error:
            raise WeatherApiError(f"{request}: {error}") from None
        columns[variable] = _check_values(request, variable, hourly[variable], len(times))
    rows = []
    for index, stamp in enumerate(times):
        try:
            local = datetime.fromisoformat(stamp)
        except (TypeError, ValueError):
            raise WeatherApiError(
                f"{request}: hourly.time[{index}] is not a time: {stamp!r}"
            ) from None
        if local.tzinfo is not None:  # an explicit offset wins over utc_offset_seconds
            observed = local.astimezone(UTC)
        else:
            observed = (local - offset).replace(tzinfo=UTC)
        row: dict[str, object] = {
            "site_code": site.site_code,
            "latitude": latitude,
            "longitude": longitude,
            "observed_at": observed,
            "observed_date": observed.date(),
            "_request": request,
        }
        for variable in HOURLY_VARIABLES:
            value = columns[variable][index] if variable in columns else None
            convert = converters.get(variable)
            row[variable] = convert(value) if (convert and value is not None) else value
        rows.append(row)
    return rows
