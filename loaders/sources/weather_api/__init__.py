"""dlt source for hourly weather at each site, from the Open-Meteo archive and forecast APIs.

The archive lags the present by a few days, so days younger than `archive_delay_days` are
asked of the forecast API (which also serves the recent past); a later run over the same
days takes them from the archive and, rows being keyed by site and hour, overwrites them.
Requests are chunked by date range (at most CHUNK_DAYS days) and group up to
SITES_PER_REQUEST sites (comma-separated coordinates).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import dlt

from loaders import logs
from loaders.sources.weather_api.client import HOURLY_VARIABLES, OpenMeteoClient, Site

CHUNK_DAYS = 31
SITES_PER_REQUEST = 10


@dataclass
class WeatherStats:
    rows_read: int = 0
    requests: list[str] = field(default_factory=list)
    # answers that were not whole (hours missing, a variable absent or only nulls, hours
    # of days not asked for): the source fails for those days, and the next run asks again
    problems: list[str] = field(default_factory=list)


def incomplete(rows: list[dict], first: date, last: date) -> tuple[list[dict], list[str]]:
    """(the rows of the days asked for, what is wrong with the answer): an empty or
    all-null answer is no weather, not a success."""
    days = (last - first).days + 1
    asked = [row for row in rows if first <= row["observed_date"] <= last]
    problems = []
    if len(asked) != len(rows):
        problems.append(f"{len(rows) - len(asked)} hour(s) outside {first}..{last} dropped")
    hours = {row["observed_at"] for row in asked}
    if len(hours) < 24 * days:
        problems.append(f"{len(hours)} of {24 * days} hours answered")
    empty = [v for v in HOURLY_VARIABLES if asked and all(row[v] is None for row in asked)]
    if empty:
        problems.append(f"no value at all for {', '.join(empty)}")
    return asked, problems


def date_chunks(start: date, end: date, days: int = CHUNK_DAYS) -> Iterator[tuple[date, date]]:
    """[start, end] inclusive in pieces of at most `days` days."""
    current = start
    while current <= end:
        last = min(end, current + timedelta(days=days - 1))
        yield current, last
        current = last + timedelta(days=1)


def plan_requests(
    start: date, end: date, today: date, archive_delay_days: int, has_forecast: bool
) -> list[tuple[str, date, date]]:
    """(endpoint, first, last) pieces covering [start, end]: the archive up to the day
    before `today - archive_delay_days`, the forecast API from then on."""
    first_forecast_day = today - timedelta(days=archive_delay_days)
    pieces: list[tuple[str, date, date]] = []
    archive_end = min(end, first_forecast_day - timedelta(days=1)) if has_forecast else end
    if start <= archive_end:
        pieces += [("archive", a, b) for a, b in date_chunks(start, archive_end)]
    forecast_start = max(start, first_forecast_day)
    if has_forecast and forecast_start <= end:
        pieces += [("forecast", a, b) for a, b in date_chunks(forecast_start, end)]
    return pieces


def parse_sites(text: str) -> list[Site]:
    """`CODE=lat,lon;CODE2=lat,lon` (the weather_sites setting) as sites."""
    sites = []
    for item in filter(None, (part.strip() for part in text.split(";"))):
        code, _, coordinates = item.partition("=")
        try:
            latitude, longitude = (float(value) for value in coordinates.split(","))
        except ValueError:
            raise ValueError(
                f"weather site {item!r}: expected CODE=latitude,longitude (e.g. LHB=48.45,5.59)"
            ) from None
        sites.append(Site(code.strip(), latitude, longitude))
    return sites


@dlt.source(name="weather_api", max_table_nesting=0)
def weather_api_source(
    archive: OpenMeteoClient,
    sites: list[Site],
    start: date,
    end: date,
    stats: WeatherStats,
    forecast: OpenMeteoClient | None = None,
    archive_delay_days: int = 5,
    today: date | None = None,
) -> list:
    """Hourly weather of every site for [start, end] inclusive."""
    columns = {variable: {"data_type": "double", "nullable": True} for variable in HOURLY_VARIABLES}
    clients = {"archive": archive, "forecast": forecast}
    plan = plan_requests(
        start, end, today or datetime.now(UTC).date(), archive_delay_days, forecast is not None
    )

    @dlt.resource(
        name="weather_hourly",
        write_disposition="merge",
        primary_key=["site_code", "observed_at"],
        columns={**columns, "observed_at": {"data_type": "timestamp", "nullable": False}},
    )
    def weather_hourly() -> Iterator[list[dict]]:
        for index in range(0, len(sites), SITES_PER_REQUEST):
            group = sites[index : index + SITES_PER_REQUEST]
            for endpoint, first, last in plan:
                client = clients[endpoint]
                assert client is not None
                request, by_site = client.hourly_sites(group, first, last)
                stats.requests.append(request)
                for site in group:
                    rows, problems = incomplete(by_site[site.site_code], first, last)
                    if problems:
                        stats.problems.append(
                            f"{request}: site {site.site_code}: {'; '.join(problems)}"
                        )
                    stats.rows_read += len(rows)
                    yield rows
                codes = ", ".join(site.site_code for site in group)
                logs.event(
                    "weather_api",
                    f"{endpoint} {codes} {first}..{last}: {stats.rows_read:,} hours so far",
                )

    return [weather_hourly]
