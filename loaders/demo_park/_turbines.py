"""What one turbine does, every 10 minutes, given the site's weather and when it is stopped.

This is the physical truth, before the historian's faults (gaps, spikes, duplicates) are
applied: the production CSV comes from the turbine's own meter, so it is built from this
truth and not from what the historian kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loaders.demo_park import park
from loaders.demo_park._climate import PERIOD_MINUTES, SiteClimate, ar1

# Per-turbine differences, so the three are alike but not clones: wind speed-up on the
# ridge, wind-vane offset, ambient-sensor bias.
_WIND_FACTOR = (1.00, 0.97, 1.03)
_VANE_OFFSET_DEG = (1.5, -2.0, 0.5)
_AMBIENT_BIAS_C = (0.0, 0.3, -0.2)

# Tip-speed-ratio tracking below rated: rpm = lambda * v / R * 60 / (2 pi), lambda ~ 8.
_RPM_PER_MS = 8.0 / (park.ROTOR_DIAMETER_M / 2.0) * 60.0 / (2.0 * np.pi)

_POWER_CURVE = np.array(park.POWER_CURVE)


@dataclass(frozen=True)
class TurbineTruth:
    """One turbine's 10-minute averages, in the units the canonical names use (°C, kW)."""

    wind_speed_ms: np.ndarray
    wind_direction_deg: np.ndarray
    power_kw: np.ndarray
    rotor_rpm: np.ndarray
    pitch_deg: np.ndarray
    gearbox_oil_c: np.ndarray
    gearbox_bearing_c: np.ndarray
    generator_stator_c: np.ndarray
    nacelle_c: np.ndarray
    ambient_c: np.ndarray
    auxiliary_w: np.ndarray
    is_stopped: np.ndarray  # stopped by a fault, the grid or maintenance: unavailable


def lag(signal: np.ndarray, tau_minutes: float) -> np.ndarray:
    """First-order thermal lag: metal and oil follow the load with a delay, not instantly."""
    alpha = 1.0 - np.exp(-PERIOD_MINUTES / tau_minutes)
    out = np.empty_like(signal, dtype=float)
    level = float(signal[0])
    for k, value in enumerate(signal):
        level += alpha * (value - level)
        out[k] = level
    return out


def power_curve_kw(wind_ms: np.ndarray) -> np.ndarray:
    """Power the curve promises at a wind speed; outside cut-in..cut-out it promises 0."""
    power = np.interp(wind_ms, _POWER_CURVE[:, 0], _POWER_CURVE[:, 1], left=0.0, right=0.0)
    return np.where(wind_ms > park.CUT_OUT_MS, 0.0, power)


def simulate_turbine(
    index: int,
    climate: SiteClimate,
    is_stopped: np.ndarray,
    bearing_excess: np.ndarray,
    rng: np.random.Generator,
) -> TurbineTruth:
    """Simulate turbine `index` of park.TURBINES.

    `bearing_excess` is the extra heat (°C at full load) of a failing gearbox bearing; zeros
    for a healthy one.
    """
    n = climate.times.size
    own_gusts = ar1(n, 0.6, 0.05, rng)
    wind = climate.hub_wind_ms * _WIND_FACTOR[index] * (1.0 + climate.gustiness + own_gusts)
    wind = np.clip(wind, 0.2, None)
    direction = climate.wind_direction_deg + _VANE_OFFSET_DEG[index] + rng.normal(0, 3.0, n)
    ambient = climate.ambient_c + _AMBIENT_BIAS_C[index] + rng.normal(0.0, 0.15, n)

    is_idle = ~is_stopped & (wind < park.CUT_IN_MS)
    is_cut_out = ~is_stopped & (wind > park.CUT_OUT_MS)
    is_producing = ~(is_stopped | is_idle | is_cut_out)
    power, rotor, pitch = _operating_point(wind, is_idle, is_producing, rng)

    load = np.clip(power, 0.0, None) / park.RATED_POWER_KW
    available = lag((~is_stopped).astype(float), 360.0)
    oil = ambient + 14.0 + 8.0 * available + 33.0 * lag(load, 120.0) + rng.normal(0, 0.25, n)
    bearing_heat = 3.0 + 10.0 * load + bearing_excess * (0.4 + 0.6 * load)
    bearing = oil + lag(bearing_heat, 80.0) + rng.normal(0.0, 0.25, n)
    stator = ambient + 18.0 + 6.0 * available + 75.0 * lag(load, 45.0) ** 1.2
    stator += rng.normal(0.0, 0.4, n)
    nacelle_load = lag(load, 40.0)
    nacelle = ambient + 6.0 + 3.0 * available + 9.0 * nacelle_load + rng.normal(0, 0.3, n)
    auxiliary = 4500.0 + 2500.0 * available + 16000.0 * nacelle_load
    auxiliary += 700.0 * np.clip(8.0 - ambient, 0.0, None) + 5000.0 * is_stopped
    auxiliary += rng.normal(0.0, 500.0, n)
    return TurbineTruth(
        wind_speed_ms=wind,
        wind_direction_deg=direction % 360.0,
        power_kw=power,
        rotor_rpm=rotor,
        pitch_deg=pitch,
        gearbox_oil_c=oil,
        gearbox_bearing_c=bearing,
        generator_stator_c=stator,
        nacelle_c=nacelle,
        ambient_c=ambient,
        auxiliary_w=np.clip(auxiliary, 3500.0, 32000.0),
        is_stopped=is_stopped.copy(),
    )


def _operating_point(
    wind: np.ndarray, is_idle: np.ndarray, is_producing: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Power, rotor speed and pitch for each operating region.

    Stopped and cut-out: feathered at ~90°, rotor still, power 0. Idle below cut-in: pitch
    45° and a few kW drawn from the grid (as the La Haute Borne MM82s show). Producing: the
    power curve with scatter, never above rated; pitch leaves fine pitch near rated.
    """
    n = wind.size
    power = np.zeros(n)
    rotor = np.abs(rng.normal(0.0, 0.03, n))
    pitch = 90.0 - np.abs(rng.normal(0.0, 0.15, n))

    power[is_idle] = -np.abs(rng.normal(1.5, 0.8, int(is_idle.sum())))
    rotor[is_idle] = np.abs(rng.normal(1.0, 0.5, int(is_idle.sum())))
    pitch[is_idle] = 45.0 + rng.normal(0.0, 0.05, int(is_idle.sum()))

    k = int(is_producing.sum())
    w = wind[is_producing]
    curve = power_curve_kw(w * (1.0 + rng.normal(0.0, 0.015, k)))
    produced = curve + rng.normal(0.0, 12.0, k)
    produced = np.minimum(produced, park.RATED_POWER_KW - np.abs(rng.normal(0.0, 3.0, k)))
    power[is_producing] = np.maximum(produced, 0.5)
    rpm = np.clip(_RPM_PER_MS * w, park.ROTOR_SPEED_MIN_RPM, park.ROTOR_SPEED_MAX_RPM)
    rotor[is_producing] = rpm + rng.normal(0.0, 0.15, k)
    pitch[is_producing] = -1.0 + 3.0 * np.clip(w - 11.0, 0.0, None) ** 0.85
    pitch[is_producing] += rng.normal(0.0, 0.1, k)
    return power, rotor, pitch
