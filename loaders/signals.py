"""The canonical signal vocabulary and unit conversions, shared by every SCADA source.

Names follow IEC 61400-25 in spirit but read as plain English (docs/architecture.md);
each canonical signal has one SI unit, and a source's unit is converted to it on load.
The vocabulary itself lives in one place that dbt reads too: the `signals` and
`signal_statistics` vars of dbt_project/dbt_project.yml.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import yaml

DBT_PROJECT_FILE = Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml"


@cache
def _vocabulary() -> tuple[dict[str, str], tuple[str, ...]]:
    with DBT_PROJECT_FILE.open(encoding="utf-8") as handle:
        variables = yaml.safe_load(handle)["vars"]
    units = {str(entry["signal"]): str(entry["unit"]) for entry in variables["signals"]}
    return units, tuple(str(statistic) for statistic in variables["signal_statistics"])


CANONICAL_UNITS: dict[str, str] = _vocabulary()[0]
STATISTICS: tuple[str, ...] = _vocabulary()[1]

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


def canonical_columns() -> list[str]:
    """Every statistic column of every canonical signal (`wind_speed_avg`, `wind_speed_min`
    ...), in vocabulary order.

    raw.scada_measurements always has all of them (null where a historian has no such
    signal or statistic), so that every historian lands one shape and dbt staging, which
    reads them all, never misses a column.
    """
    return [f"{name}_{statistic}" for name in CANONICAL_UNITS for statistic in STATISTICS]
