"""The canonical signal vocabulary and unit conversions, shared by every SCADA source.

Names follow IEC 61400-25 in spirit but read as plain English (docs/architecture.md);
each canonical signal has one SI unit, and a source's unit is converted to it on load.
"""

from __future__ import annotations

from collections.abc import Callable

CANONICAL_UNITS: dict[str, str] = {
    "wind_speed": "m/s",
    "wind_direction": "deg",
    "nacelle_direction": "deg",
    "relative_wind_direction": "deg",  # wind vane: wind direction minus nacelle direction
    "active_power": "kW",
    "reactive_power": "kVAr",
    "rotor_speed": "rpm",
    "generator_speed": "rpm",
    "pitch_angle": "deg",
    "gearbox_oil_temp": "degC",
    "gearbox_bearing_temp": "degC",
    "generator_bearing_temp": "degC",
    "generator_stator_temp": "degC",
    "gearbox_inlet_temp": "degC",
    "rotor_bearing_temp": "degC",
    "nacelle_temp": "degC",
    "ambient_temp": "degC",
    "auxiliary_consumption": "kW",
}
STATISTICS = ("avg", "min", "max", "std")

# Spellings seen in historians and APIs, reduced to one token per unit.
UNIT_ALIASES: dict[str, str] = {
    "m/s": "m/s",
    "ms": "m/s",
    "m/sec": "m/s",
    "m.s-1": "m/s",
    "km/h": "km/h",
    "kmh": "km/h",
    "kn": "kn",
    "kt": "kn",
    "knots": "kn",
    "mph": "mph",
    "mp/h": "mph",  # Open-Meteo's spelling in hourly_units
    "deg": "deg",
    "°": "deg",
    "degree": "deg",
    "degrees": "deg",
    "degc": "degC",
    "deg_c": "degC",
    "°c": "degC",
    "c": "degC",
    "celsius": "degC",
    "degf": "degF",
    "deg_f": "degF",
    "°f": "degF",
    "f": "degF",
    "fahrenheit": "degF",
    "k": "K",
    "kelvin": "K",
    "w": "W",
    "kw": "kW",
    "mw": "MW",
    "var": "VAr",
    "kvar": "kVAr",
    "mvar": "MVAr",
    "rpm": "rpm",
    "1/min": "rpm",
}


def _affine(scale: float, offset: float = 0.0) -> Callable[[float], float]:
    return lambda value: value * scale + offset


CONVERSIONS: dict[tuple[str, str], Callable[[float], float]] = {
    ("km/h", "m/s"): _affine(1 / 3.6),
    ("kn", "m/s"): _affine(1852 / 3600),
    ("mph", "m/s"): _affine(1609.344 / 3600),
    ("degF", "degC"): lambda value: (value - 32.0) * 5.0 / 9.0,
    ("K", "degC"): _affine(1.0, -273.15),
    ("W", "kW"): _affine(1e-3),
    ("MW", "kW"): _affine(1e3),
    ("VAr", "kVAr"): _affine(1e-3),
    ("MVAr", "kVAr"): _affine(1e3),
}


class UnknownSignalError(ValueError):
    """A mapping names a signal or unit the project does not know."""


def normalise_unit(unit: str) -> str:
    key = unit.strip().lower().replace(" ", "")
    if key not in UNIT_ALIASES:
        raise UnknownSignalError(f"unknown unit {unit!r}")
    return UNIT_ALIASES[key]


def split_signal(name: str) -> tuple[str, str]:
    """`gearbox_bearing_temp_avg` → (`gearbox_bearing_temp`, `avg`), or an error."""
    base, _, statistic = name.rpartition("_")
    if base not in CANONICAL_UNITS or statistic not in STATISTICS:
        raise UnknownSignalError(
            f"{name!r} is not a canonical signal: expected one of "
            f"{sorted(CANONICAL_UNITS)} followed by _{'/_'.join(STATISTICS)}"
        )
    return base, statistic


def converter(source_unit: str, canonical_name: str) -> Callable[[float], float] | None:
    """The function taking a value in `source_unit` to the signal's unit; None if equal.

    A standard deviation scales but does not shift: K and °C deviations are the same.
    """
    base, statistic = split_signal(canonical_name)
    source = normalise_unit(source_unit)
    target = CANONICAL_UNITS[base]
    if source == target:
        return None
    if (source, target) not in CONVERSIONS:
        raise UnknownSignalError(
            f"no conversion from {source_unit!r} to {target} for {canonical_name}"
        )
    convert = CONVERSIONS[(source, target)]
    if statistic == "std":
        scale = convert(1.0) - convert(0.0)
        return _affine(scale)
    return convert


def canonical_averages() -> list[str]:
    """The 10-minute average column of every canonical signal, in vocabulary order.

    raw.scada_measurements always has all of them (null where a historian has no such
    signal), so that every historian lands one shape and dbt staging never misses a column.
    """
    return [f"{name}_avg" for name in CANONICAL_UNITS]
