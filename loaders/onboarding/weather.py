"""`inspect --source weather`: one request to the configured weather API for one day, and
what a load would land from it, read by the loader's own client and parser.

A day defaults to the newest the archive serves (`weather_archive_delay_days` back), so
that the answer is the one a daily run would get. The rows an answer gives outside the
UTC day asked for are counted (a response in local time shows there): the loader drops
them and fails the source for that day, and so does this report (exit code 2).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from loaders import park_config
from loaders.onboarding.sensor_db import InspectError
from loaders.settings import Settings
from loaders.sources.weather_api import SITES_PER_REQUEST, incomplete, plan_requests
from loaders.sources.weather_api.client import HOURLY_VARIABLES, WeatherApiError
from loaders.sources.weather_api.load import registry_sites, weather_clients


def default_day(settings: Settings, today: date | None = None) -> date:
    today = today or datetime.now(UTC).date()
    return today - timedelta(days=settings.weather_archive_delay_days + 1)


def _site_rows(rows: list[dict[str, object]], day: date) -> dict[str, object]:
    """What lands of one site's rows, judged as the loader judges them
    (`weather_api.incomplete`): the hours of the day asked land, hours outside it are
    dropped, and an answer with hours or variables missing fails the source."""
    landing, problems = incomplete(rows, day, day)
    hours = {row["observed_at"].hour for row in landing}  # type: ignore[attr-defined]
    variables: dict[str, object] = {}
    for variable in HOURLY_VARIABLES:
        values = [row[variable] for row in landing if row.get(variable) is not None]
        shown: dict[str, object] = {"values": len(values)}
        if values:
            shown |= {"min": min(values), "max": max(values)}  # type: ignore[type-var]
        variables[variable] = shown
    observed = sorted(str(row["observed_at"]) for row in rows)
    return {
        "would_land": len(landing),
        "rows_outside_day": len(rows) - len(landing),
        "hours_missing": sorted(set(range(24)) - hours),
        "problems": problems,
        "time_range": [observed[0], observed[-1]] if observed else [],
        "empty_variables": [v for v, s in variables.items() if not s["values"]],  # type: ignore[index]
        "variables": variables,
    }


def inspect_weather(
    settings: Settings, day: date | None = None, today: date | None = None
) -> dict[str, object]:
    """The sites, the request of one day and what it would land, per site."""
    park = park_config.park_of(settings)
    today = today or datetime.now(UTC).date()
    day = day or default_day(settings, today)
    try:
        sites = registry_sites(settings)
    except (ValueError, FileNotFoundError) as error:
        raise InspectError(f"weather sites: {error}") from None
    archive, forecast = weather_clients(settings)
    endpoint = plan_requests(
        day, day, today, settings.weather_archive_delay_days, forecast is not None
    )[0][0]
    client = archive if endpoint == "archive" else forecast
    assert client is not None
    report: dict[str, object] = {
        "source": "weather",
        "park": park.name,
        "day": day.isoformat(),
        "endpoint": f"{client.base_url}/{endpoint}",
        "sites": [
            {"code": s.site_code, "latitude": s.latitude, "longitude": s.longitude} for s in sites
        ],
    }
    requests: list[str] = []
    by_site: dict[str, object] = {}
    errors: list[str] = []
    for index in range(0, len(sites), SITES_PER_REQUEST):
        group = sites[index : index + SITES_PER_REQUEST]
        try:
            request, rows = client.hourly_sites(group, day, day)
        except WeatherApiError as error:
            errors.append(str(error))
            continue
        requests.append(request)
        for site in group:
            by_site[site.site_code] = _site_rows(rows[site.site_code], day)
    report |= {"requests": requests, "tables": {"weather_hourly": by_site}}
    if errors:
        report["errors"] = errors
    return report
