"""dlt source for hourly weather at each site, from the Open-Meteo archive API.

Requests are chunked by month; rows are keyed by site and hour, so a re-run of the same
days overwrites them (the archive revises recent days).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import dlt

from loaders.sources.weather_api.client import HOURLY_VARIABLES, OpenMeteoClient, Site

CHUNK_DAYS = 31


@dataclass
class WeatherStats:
    rows_read: int = 0
    requests: list[str] = field(default_factory=list)


def date_chunks(start: date, end: date) -> Iterator[tuple[date, date]]:
    """[start, end] inclusive in pieces of at most CHUNK_DAYS days."""
    current = start
    while current <= end:
        last = min(end, current + timedelta(days=CHUNK_DAYS - 1))
        yield current, last
        current = last + timedelta(days=1)


@dlt.source(name="weather_api", max_table_nesting=0)
def weather_api_source(
    base_url: str, sites: list[Site], start: date, end: date, stats: WeatherStats
) -> list:
    client = OpenMeteoClient(base_url)
    columns = {variable: {"data_type": "double", "nullable": True} for variable in HOURLY_VARIABLES}

    @dlt.resource(
        name="weather_hourly",
        write_disposition="merge",
        primary_key=["site_code", "observed_at"],
        columns={**columns, "observed_at": {"data_type": "timestamp", "nullable": False}},
    )
    def weather_hourly() -> Iterator[list[dict]]:
        for site in sites:
            for first, last in date_chunks(start, end):
                request, rows = client.hourly(site, first, last)
                stats.rows_read += len(rows)
                stats.requests.append(request)
                print(f"[weather_api] {site.site_code} {first}..{last}: {len(rows)} hours")
                yield rows

    return [weather_hourly]
