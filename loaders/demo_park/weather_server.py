"""A loopback HTTP server answering `GET /v1/archive` like the Open-Meteo archive API, from
the weather files `generate` wrote, so the weather loader talks real HTTP in tests and demos.

Behaviours copied from the real API: JSON shape and units, comma-separated coordinates
giving a JSON list, times local to `timezone` without an offset, HTTP 400 with
`{"error": true, "reason": ...}`. One deliberate difference: the real API applies the UTC
offset valid *at request time* to the whole response (no DST switch inside a response;
open-meteo/open-meteo#488, #1255). The demo also uses one offset for the whole response,
but the one valid at `start_date` 00:00, so that answers do not depend on the wall clock.
Use `timezone=GMT` for series that cross a DST change.

    python -m loaders.demo_park.weather_server --data-dir var/demo/weather --port 8089
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ARCHIVE_PATH = "/v1/archive"
MAX_DISTANCE_DEG = 0.1
_HOUR = timedelta(hours=1)


class BadRequestError(Exception):
    """A request the real API would answer with HTTP 400; the message is the reason."""


@dataclass(frozen=True)
class SiteArchive:
    """One site's hourly UTC weather in SI units, as written by the simulator."""

    site_code: str
    latitude: float
    longitude: float
    elevation: float
    timezone: str
    first_utc: datetime
    hours: int
    values: dict[str, list[float]]

    @property
    def last_utc(self) -> datetime:
        return self.first_utc + (self.hours - 1) * _HOUR


def load_archives(data_dir: Path) -> list[SiteArchive]:
    """Read every <site_code>.json in `data_dir` (or in its `weather/` folder, so the
    generator's output directory works too)."""
    data_dir = Path(data_dir)
    files = sorted(data_dir.glob("*.json")) or sorted((data_dir / "weather").glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no weather archive (*.json) in {data_dir}")
    return [_load_archive(path) for path in files]


def _load_archive(path: Path) -> SiteArchive:
    document = json.loads(path.read_text(encoding="utf-8"))
    hourly = dict(document["hourly"])
    times = [datetime.fromisoformat(t).replace(tzinfo=UTC) for t in hourly.pop("time")]
    if any(b - a != _HOUR for a, b in itertools.pairwise(times)):
        raise ValueError(f"{path}: hourly times are not contiguous")
    return SiteArchive(
        site_code=document["site_code"],
        latitude=float(document["latitude"]),
        longitude=float(document["longitude"]),
        elevation=float(document["elevation"]),
        timezone=document["timezone"],
        first_utc=times[0],
        hours=len(times),
        values=hourly,
    )


# Variable -> (unit in the archive, decimals the API rounds to). Wind speeds are converted.
_VARIABLES: dict[str, tuple[str, int]] = {
    "temperature_2m": ("°C", 1),
    "relative_humidity_2m": ("%", 0),
    "surface_pressure": ("hPa", 1),
    "precipitation": ("mm", 1),
    "wind_speed_10m": ("m/s", 1),
    "wind_direction_10m": ("°", 0),
    "wind_gusts_10m": ("m/s", 1),
}
_WIND_UNITS: dict[str, tuple[str, float, int]] = {
    "kmh": ("km/h", 3.6, 1),
    "ms": ("m/s", 1.0, 2),
    "mph": ("mp/h", 3.6 / 1.609344, 1),
    "kn": ("kn", 3.6 / 1.852, 1),
}
_TEMPERATURE_UNITS = ("celsius", "fahrenheit")


@dataclass(frozen=True)
class ArchiveRequest:
    """A validated /v1/archive query."""

    coordinates: list[tuple[float, float]]
    start_date: date
    end_date: date
    hourly: list[str]
    timezone: str
    tzinfo: ZoneInfo | None
    wind_speed_unit: str
    temperature_unit: str
    unixtime: bool


def _single(query: dict[str, list[str]], name: str, default: str | None = None) -> str | None:
    values = query.get(name)
    return values[-1].strip() if values else default


def _float_list(query: dict[str, list[str]], name: str) -> list[float]:
    raw = _single(query, name)
    if not raw:
        raise BadRequestError(f"Parameter '{name}' is required")
    try:
        return [float(part) for part in raw.split(",")]
    except ValueError as exc:
        raise BadRequestError(
            f"Parameter '{name}' must be a number or a comma-separated list"
        ) from exc


def _date(query: dict[str, list[str]], name: str) -> date:
    raw = _single(query, name)
    if not raw:
        raise BadRequestError(f"Parameter '{name}' is required")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise BadRequestError(
            f"Invalid date format for '{name}': '{raw}'. Make sure to use 'YYYY-MM-DD'"
        ) from exc


def parse_request(query: dict[str, list[str]]) -> ArchiveRequest:
    """Validate the query the way the real API does, raising BadRequestError with its reason."""
    latitudes = _float_list(query, "latitude")
    longitudes = _float_list(query, "longitude")
    if len(latitudes) != len(longitudes):
        raise BadRequestError(
            "Parameter 'latitude' and 'longitude' must have the same number of elements"
        )
    for lat, lon in zip(latitudes, longitudes, strict=True):
        if not -90.0 <= lat <= 90.0:
            raise BadRequestError(f"Latitude must be in range of -90 to 90°. Given: {lat}.")
        if not -180.0 <= lon <= 180.0:
            raise BadRequestError(f"Longitude must be in range of -180 to 180°. Given: {lon}.")
    start, end = _date(query, "start_date"), _date(query, "end_date")
    if end < start:
        raise BadRequestError("End-date must be larger or equals than start-date")
    hourly = [v.strip() for v in (_single(query, "hourly", "") or "").split(",") if v.strip()]
    for variable in hourly:
        if variable not in _VARIABLES:
            raise BadRequestError(
                f"Cannot initialize WeatherVariable from invalid String value {variable} for "
                f"key hourly (the demo archive serves: {', '.join(_VARIABLES)})"
            )
    wind_unit = _single(query, "wind_speed_unit", "kmh") or "kmh"
    if wind_unit not in _WIND_UNITS:
        raise BadRequestError(f"Invalid wind_speed_unit '{wind_unit}' (kmh, ms, mph or kn)")
    temperature_unit = _single(query, "temperature_unit", "celsius") or "celsius"
    if temperature_unit not in _TEMPERATURE_UNITS:
        raise BadRequestError(
            f"Invalid temperature_unit '{temperature_unit}' (celsius or fahrenheit)"
        )
    timeformat = _single(query, "timeformat", "iso8601") or "iso8601"
    if timeformat not in ("iso8601", "unixtime"):
        raise BadRequestError(f"Invalid timeformat '{timeformat}' (iso8601 or unixtime)")
    timezone, tzinfo = _timezone(_single(query, "timezone", "GMT") or "GMT")
    return ArchiveRequest(
        coordinates=list(zip(latitudes, longitudes, strict=True)),
        start_date=start,
        end_date=end,
        hourly=hourly,
        timezone=timezone,
        tzinfo=tzinfo,
        wind_speed_unit=wind_unit,
        temperature_unit=temperature_unit,
        unixtime=timeformat == "unixtime",
    )


def _timezone(name: str) -> tuple[str, ZoneInfo | None]:
    """GMT/UTC are answered as such; 'auto' is resolved per site later; else an IANA zone."""
    if name.upper() in ("GMT", "UTC"):
        return name.upper(), None
    if name == "auto":
        return name, None
    try:
        return name, ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadRequestError(f"Invalid timezone '{name}'") from exc


def _nearest_site(archives: list[SiteArchive], lat: float, lon: float) -> SiteArchive:
    def distance(a: SiteArchive) -> float:
        return max(abs(a.latitude - lat), abs(a.longitude - lon))

    best = min(archives, key=distance)
    if distance(best) > MAX_DISTANCE_DEG:
        known = "; ".join(f"{a.site_code} {a.latitude},{a.longitude}" for a in archives)
        raise BadRequestError(
            f"No data for latitude={lat}, longitude={lon}: the demo archive holds only "
            f"sites within {MAX_DISTANCE_DEG}° of: {known}"
        )
    return best


def _abbreviation(name: str, offset_seconds: int) -> str:
    """'GMT+2' style, as the current API writes it (and 'GMT'/'UTC' for those zones)."""
    if name in ("GMT", "UTC"):
        return name
    if offset_seconds == 0:
        return "GMT"
    sign = "+" if offset_seconds > 0 else "-"
    hours, rest = divmod(abs(offset_seconds), 3600)
    return f"GMT{sign}{hours}" + (f":{rest // 60:02d}" if rest else "")


def _location_answer(request: ArchiveRequest, site: SiteArchive) -> dict[str, Any]:
    started = time.perf_counter()
    timezone, tzinfo = request.timezone, request.tzinfo
    if timezone == "auto":
        timezone, tzinfo = site.timezone, ZoneInfo(site.timezone)
    local_start = datetime.combine(request.start_date, datetime.min.time())
    offset = tzinfo.utcoffset(local_start) if tzinfo is not None else timedelta(0)
    assert offset is not None
    first_utc = local_start.replace(tzinfo=UTC) - offset
    hours = ((request.end_date - request.start_date).days + 1) * 24
    _check_coverage(site, first_utc, hours, offset)

    answer: dict[str, Any] = {
        "latitude": site.latitude,
        "longitude": site.longitude,
        "generationtime_ms": 0.0,
        "utc_offset_seconds": int(offset.total_seconds()),
        "timezone": timezone,
        "timezone_abbreviation": _abbreviation(timezone, int(offset.total_seconds())),
        "elevation": site.elevation,
    }
    if request.hourly:
        first = int((first_utc - site.first_utc) / _HOUR)
        stamps = [first_utc + k * _HOUR for k in range(hours)]
        times: list[Any] = (
            [int(t.timestamp()) for t in stamps]
            if request.unixtime
            else [(t + offset).strftime("%Y-%m-%dT%H:%M") for t in stamps]
        )
        units: dict[str, str] = {"time": "unixtime" if request.unixtime else "iso8601"}
        series: dict[str, list[Any]] = {"time": times}
        for variable in request.hourly:
            unit, convert = _converter(variable, request)
            units[variable] = unit
            series[variable] = [convert(v) for v in site.values[variable][first : first + hours]]
        answer["hourly_units"] = units
        answer["hourly"] = series
    answer["generationtime_ms"] = (time.perf_counter() - started) * 1000.0
    return answer


def _check_coverage(site: SiteArchive, first_utc: datetime, hours: int, offset: timedelta) -> None:
    """Dates outside the archive are a 400 naming the dates that can be asked for."""
    last_utc = first_utc + (hours - 1) * _HOUR
    if first_utc >= site.first_utc and last_utc <= site.last_utc:
        return
    first_day = (site.first_utc + offset + timedelta(hours=23, minutes=59)).date()
    last_day = (site.last_utc + offset + _HOUR).date() - timedelta(days=1)
    name = "start_date" if first_utc < site.first_utc else "end_date"
    raise BadRequestError(
        f"Parameter '{name}' is out of allowed range from {first_day} to {last_day}"
    )


def _converter(variable: str, request: ArchiveRequest) -> tuple[str, Callable[[Any], Any]]:
    unit, decimals = _VARIABLES[variable]
    factor, offset = 1.0, 0.0
    if variable in ("wind_speed_10m", "wind_gusts_10m"):
        unit, factor, decimals = _WIND_UNITS[request.wind_speed_unit]
    elif variable == "temperature_2m" and request.temperature_unit == "fahrenheit":
        unit, factor, offset = "°F", 9.0 / 5.0, 32.0

    def convert(value: Any) -> Any:
        if value is None:
            return None
        rounded = round(float(value) * factor + offset, decimals)
        return int(rounded) if decimals == 0 else rounded

    return unit, convert


def answer_archive(archives: list[SiteArchive], query: dict[str, list[str]]) -> Any:
    """The JSON body for a query: one object, or a list for several coordinates."""
    request = parse_request(query)
    answers = [
        _location_answer(request, _nearest_site(archives, lat, lon))
        for lat, lon in request.coordinates
    ]
    return answers if len(answers) > 1 else answers[0]


class _ArchiveServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], archives: list[SiteArchive], verbose: bool):
        super().__init__(address, _Handler)
        self.archives = archives
        self.verbose = verbose


class _Handler(BaseHTTPRequestHandler):
    server: _ArchiveServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.rstrip("/") != ARCHIVE_PATH:
            self._send(404, {"error": True, "reason": f"Not found: {url.path}"})
            return
        try:
            body = answer_archive(self.server.archives, parse_qs(url.query))
        except BadRequestError as exc:
            self._send(400, {"error": True, "reason": str(exc)})
            return
        self._send(200, body)

    def _send(self, status: int, body: Any) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, fmt: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(fmt, *args)


class WeatherServer:
    """A running demo weather API; `base_url` ends in /v1 like the real API's."""

    def __init__(self, server: _ArchiveServer, thread: threading.Thread | None) -> None:
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        self.host = str(host)
        self.port = int(port)
        self.base_url = f"http://{self.host}:{self.port}/v1"

    def stop(self) -> None:
        """Stop serving and free the port; safe to call twice."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve_in_background(
    data_dir: Path, host: str = "127.0.0.1", port: int = 0, verbose: bool = False
) -> WeatherServer:
    """Start the server in a daemon thread; port 0 picks a free port (see `.base_url`)."""
    server = _ArchiveServer((host, port), load_archives(data_dir), verbose)
    thread = threading.Thread(target=server.serve_forever, name="demo-weather-api", daemon=True)
    thread.start()
    return WeatherServer(server, thread)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the demo park's weather archive.")
    parser.add_argument("--data-dir", type=Path, required=True, help="folder of <site>.json")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    server = _ArchiveServer((args.host, args.port), load_archives(args.data_dir), args.verbose)
    host, port = server.server_address[:2]
    print(f"Demo weather API on http://{host}:{port}/v1 (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
