"""Load the weather API into `raw`: the sites to ask for, the clients with their
credentials, and the hourly rows of the run's days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import requests
import sqlalchemy as sa

from loaders import park_config
from loaders.settings import Settings, mask_url_password
from loaders.sources.landing import SourceOutcome, dlt_pipeline, land, row_counts
from loaders.sources.sensor_db import reflect, source_engine
from loaders.sources.weather_api import WeatherStats, oauth2, parse_sites, weather_api_source
from loaders.sources.weather_api.client import OpenMeteoClient, Site


def registry_sites(settings: Settings) -> list[Site]:
    """The sites to ask weather for: `weather_sites` when set, else the park's
    (park.yaml), else the mean position of each site's turbines in the sensor database's
    registry."""
    if settings.weather_sites:
        return parse_sites(settings.weather_sites)
    configured = park_config.park_of(settings).weather_sites
    if configured:
        return [Site(site.code, site.latitude, site.longitude) for site in configured]
    try:
        return _registry_sites(settings)
    except Exception as error:  # noqa: BLE001 - whatever it is, it is the sensor database's
        said = mask_url_password(" ".join(str(error).split()))[:300] or type(error).__name__
        raise ValueError(
            "no weather sites: WINDFARM_WEATHER_SITES is not set and park.yaml names none, "
            "so the sites come from the sensor database's turbine registry, which cannot be "
            f"read ({said}); fix the sensor database, or set weather sites in park.yaml or "
            "WINDFARM_WEATHER_SITES=CODE=latitude,longitude;..."
        ) from None


def _registry_sites(settings: Settings) -> list[Site]:
    engine = source_engine(settings.sensor_db_url)
    try:
        registry = (
            reflect(engine, settings.sensor_turbine_table)
            if settings.sensor_turbine_table
            else None
        )
        if registry is None:
            raise ValueError(
                "no site coordinates: the sensor database has no turbine registry "
                f"({settings.sensor_turbine_table!r}); set WINDFARM_WEATHER_SITES "
                "(CODE=latitude,longitude;...) or WINDFARM_SENSOR_TURBINE_TABLE"
            )
        query = (
            sa.select(
                registry.c.site_code,
                sa.func.avg(registry.c.latitude).label("latitude"),
                sa.func.avg(registry.c.longitude).label("longitude"),
            )
            .group_by(registry.c.site_code)
            .order_by(registry.c.site_code)
        )
        frame = pd.read_sql(query, engine)
    finally:
        engine.dispose()
    return [
        Site(row.site_code, float(row.latitude), float(row.longitude)) for row in frame.itertuples()
    ]


def weather_clients(settings: Settings) -> tuple[OpenMeteoClient, OpenMeteoClient | None]:
    """The archive client and, unless weather_forecast_url is "", the forecast client; both
    carry the configured credentials (an API key query parameter, or the session of
    `oauth2.api_session`: API key header or OAuth2 client credentials)."""
    if settings.weather_api_key_param:
        session = requests.Session()
        key = {"api_key": settings.weather_api_key, "api_key_param": settings.weather_api_key_param}
    else:
        session = oauth2.api_session(settings)
        key = {}
    archive = OpenMeteoClient(settings.weather_base_url, session, endpoint="archive", **key)
    forecast = None
    if settings.weather_forecast_url:
        forecast = OpenMeteoClient(
            settings.weather_forecast_url, session, endpoint="forecast", **key
        )
    return archive, forecast


def load_weather(settings: Settings, date_from: date, date_to: date) -> SourceOutcome:
    stats = WeatherStats()
    pipeline, notes = dlt_pipeline(settings, "weather_api")
    archive, forecast = weather_clients(settings)
    source = weather_api_source(
        archive,
        registry_sites(settings),
        date_from,
        date_to,
        stats,
        forecast=forecast,
        archive_delay_days=settings.weather_archive_delay_days,
        today=datetime.now(UTC).date(),
    )
    land(pipeline, source, "weather_api")
    error = None
    if stats.problems:
        error = (
            "incomplete weather answer(s) (days still missing hours are asked again by the "
            "next run): " + " | ".join(stats.problems)
        )[:2000]
    outcome = SourceOutcome(
        "weather_api",
        ok=not stats.problems,
        rows=row_counts(pipeline),
        details={
            "rows_read": stats.rows_read,
            "requests": stats.requests,
            "incomplete_answers": stats.problems,
        },
        error=error,
    )
    return outcome.add_pending_notes(notes)
