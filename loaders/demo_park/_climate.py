"""Site-level weather truth every 10 minutes: the one atmosphere the three turbines and the
weather API both see, so that the turbine wind and the API's 10 m wind agree.

The shapes are chosen for plausibility, not meteorological accuracy: a slowly wandering wind
vector plus a few fronts (each a burst of wind veering from south-west to north-west, with
rain, a pressure dip and a cold spell behind it), a weak night-time maximum at hub height,
and a diurnal temperature cycle damped under cloud.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loaders.demo_park import park

PERIOD_MINUTES = 10
PERIODS_PER_HOUR = 60 // PERIOD_MINUTES
PERIODS_PER_DAY = 24 * PERIODS_PER_HOUR

MEAN_HUB_WIND_MS = 7.0
PREVAILING_DIRECTION_DEG = 225.0
PREVAILING_SPEED_MS = 2.0


@dataclass(frozen=True)
class SiteClimate:
    """Truth at the site for every 10-minute period of the simulated window (UTC starts)."""

    times: np.ndarray  # datetime64[m], period starts, UTC
    hub_wind_ms: np.ndarray  # smooth hub-height wind, without turbine-scale turbulence
    gustiness: np.ndarray  # common 10-minute turbulence, fraction of the wind speed
    wind_direction_deg: np.ndarray  # where the wind blows from
    ambient_c: np.ndarray
    pressure_hpa: np.ndarray
    precipitation_mm_h: np.ndarray
    relative_humidity_pct: np.ndarray


@dataclass(frozen=True)
class _Front:
    centre_h: float
    width_h: float
    peak_ms: float
    rain_mm_h: float


def ar1(n: int, phi: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """A stationary AR(1) series: the simplest noise with a memory, which is what makes
    weather drift instead of jitter."""
    innovations = rng.normal(0.0, sigma * np.sqrt(1.0 - phi * phi), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sigma)
    for k in range(1, n):
        out[k] = phi * out[k - 1] + innovations[k]
    return out


def _hourly_noise(
    hours: np.ndarray, tau_h: float, sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """AR(1) drawn hourly and interpolated, so that synoptic changes are smooth at 10 min."""
    n_hours = int(np.ceil(hours[-1])) + 2
    knots = ar1(n_hours, float(np.exp(-1.0 / tau_h)), sigma, rng)
    return np.interp(hours, np.arange(n_hours, dtype=float), knots)


def _draw_fronts(
    total_h: float, forced_h: tuple[float, ...], rng: np.random.Generator
) -> list[_Front]:
    """One front every ~6 days, one per equal segment of the window so they never pile up.

    `forced_h` are hours where the story needs a windy spell (a bearing fails under load,
    not in a calm); random fronts within two days of one are dropped.
    """
    count = max(1, round(total_h / 24.0 / 6.0))
    segment = total_h / count
    fronts = [_Front(centre_h=h, width_h=10.0, peak_ms=9.0, rain_mm_h=1.5) for h in forced_h]
    for k in range(count):
        front = _Front(
            centre_h=segment * (k + 0.2 + 0.6 * rng.random()),
            width_h=float(rng.uniform(5.0, 9.0)),
            peak_ms=float(rng.uniform(6.0, 10.0)),
            rain_mm_h=float(rng.uniform(1.0, 3.0)),
        )
        if all(abs(front.centre_h - h) > 48.0 for h in forced_h):
            fronts.append(front)
    return fronts


def _toward_components(speed: np.ndarray, from_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Meteorological 'from' direction to the (u east, v north) vector the air moves along."""
    rad = np.radians(from_deg)
    return -speed * np.sin(rad), -speed * np.cos(rad)


def _day_of_year(times: np.ndarray) -> np.ndarray:
    years = times.astype("datetime64[Y]")
    return (times - years).astype("timedelta64[m]").astype(float) / 1440.0 + 1.0


def simulate_climate(
    times: np.ndarray, rng: np.random.Generator, windy_at: tuple[np.datetime64, ...] = ()
) -> SiteClimate:
    """Build the site's weather over `times` (10-minute UTC period starts), with a front
    peaking at each of `windy_at` that falls inside the window."""
    n = times.size
    hours = (times - times[0]).astype("timedelta64[m]").astype(float) / 60.0
    hour_of_day = (times - times.astype("datetime64[D]")).astype("timedelta64[m]").astype(
        float
    ) / 60.0
    forced = tuple(
        float((t - times[0]) / np.timedelta64(1, "h"))
        for t in windy_at
        if times[0] <= t <= times[-1]
    )
    fronts = _draw_fronts(float(hours[-1]) + 1.0 / PERIODS_PER_HOUR, forced, rng)

    u0, v0 = _toward_components(
        np.array([PREVAILING_SPEED_MS]), np.array([PREVAILING_DIRECTION_DEG])
    )
    u = u0[0] + _hourly_noise(hours, 30.0, 3.5, rng)
    v = v0[0] + _hourly_noise(hours, 30.0, 3.5, rng)
    profiles = []
    for front in fronts:
        x = (hours - front.centre_h) / front.width_h
        profile = np.exp(-0.5 * x * x)
        profiles.append(profile)
        fu, fv = _toward_components(front.peak_ms * profile, 250.0 + 40.0 * np.tanh(x))
        u, v = u + fu, v + fv
    cloud = np.clip(1.2 * np.sum(profiles, axis=0), 0.0, 1.0)

    night_jet = 1.0 + 0.08 * np.cos(2.0 * np.pi * (hour_of_day - 1.0) / 24.0)
    hub_wind = np.hypot(u, v) * night_jet
    hub_wind *= MEAN_HUB_WIND_MS / float(hub_wind.mean())
    direction = np.degrees(np.arctan2(-u, -v)) % 360.0

    ambient_daily = _ambient_daily_mean(times, hours, fronts, rng)
    diurnal = 3.5 * (1.0 - 0.5 * cloud) * np.cos(2.0 * np.pi * (hour_of_day - 13.5) / 24.0)
    ambient = ambient_daily + diurnal

    pressure = 966.0 + _hourly_noise(hours, 72.0, 5.0, rng)
    rain_noise = np.exp(ar1(n, 0.9, 0.6, rng))
    precipitation = np.zeros(n)
    for front, profile in zip(fronts, profiles, strict=True):
        pressure -= 12.0 * np.exp(-0.5 * ((hours - front.centre_h) / (1.5 * front.width_h)) ** 2)
        precipitation += front.rain_mm_h * np.clip((profile - 0.25) / 0.75, 0.0, None)
    precipitation *= rain_noise

    humidity = 78.0 - 3.0 * (ambient - ambient_daily) + 15.0 * cloud
    humidity += _hourly_noise(hours, 6.0, 4.0, rng)
    return SiteClimate(
        times=times,
        hub_wind_ms=hub_wind,
        gustiness=ar1(n, 0.8, 0.05, rng),
        wind_direction_deg=direction,
        ambient_c=ambient,
        pressure_hpa=pressure,
        precipitation_mm_h=precipitation,
        relative_humidity_pct=np.clip(humidity, 35.0, 100.0),
    )


def _ambient_daily_mean(
    times: np.ndarray, hours: np.ndarray, fronts: list[_Front], rng: np.random.Generator
) -> np.ndarray:
    """Seasonal mean (about 14 °C on 1 October, 9 °C on the 31st in north-east France),
    a wandering synoptic anomaly, and a cold spell behind each front."""
    seasonal = 11.0 + 9.5 * np.cos(2.0 * np.pi * (_day_of_year(times) - 200.0) / 365.0)
    anomaly = _hourly_noise(hours, 48.0, 1.8, rng)
    for front in fronts:
        after = hours - front.centre_h
        behind = 0.5 + 0.5 * np.tanh(after / front.width_h)
        anomaly -= 3.0 * behind * np.exp(-np.clip(after, 0.0, None) / 60.0)
    return seasonal + anomaly


def weather_10m_wind(hub_wind_ms: np.ndarray) -> np.ndarray:
    """The 10 m wind a weather model would report for the same air (power-law shear)."""
    return hub_wind_ms / park.HUB_TO_10M_FACTOR
