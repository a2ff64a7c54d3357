"""A mapping proposed from a source's column names and units, for a person to check.

Matching is by name only, never by the values: a column's name is read as a signal, a
statistic and a unit (`Ws_avg`, `Wind Speed (m/s)`, `Gen_Bear_Temp_Avg`), and the signal
is looked up among the names of the vocabulary (canonical name, IEC tag, label, and the
spellings of signal_names.yml). The values are used only to warn: a column whose range
does not fit the signal's plausible range (seeds_csv/sensor_bounds.csv) in the proposed
unit is flagged, since a wrong unit is the usual cause.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from loaders.settings import PROJECT_ROOT
from loaders.signals import CANONICAL_UNITS, DBT_PROJECT_FILE, UnknownSignalError, converter
from loaders.signals import normalise_unit as _normalise_unit

NAMES_FILE = Path(__file__).with_name("signal_names.yml")
BOUNDS_FILE = PROJECT_ROOT / "seeds_csv" / "sensor_bounds.csv"
STATISTIC_WORDS = {
    "avg": "avg",
    "mean": "avg",
    "average": "avg",
    "min": "min",
    "minimum": "min",
    "max": "max",
    "maximum": "max",
    "std": "std",
    "stdev": "std",
    "stddev": "std",
    "sd": "std",
}
TURBINE_NAMES = {"turbineid", "turbine", "wtg", "windturbinename", "turbinename", "wt", "asset"}
ROW_ID_NAMES = {"id", "rowid", "recordid"}
_UNIT = re.compile(r"\s*[\(\[]([^\)\]]*)[\)\]]\s*$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def compact(name: str) -> str:
    """Lower case, letters and digits only: `WMET.HorWdSpd` and `wmet_horwdspd` are one."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^0-9a-z]+", _CAMEL.sub("_", name).lower()) if w]


@cache
def _signal_names() -> dict[str, str]:
    """{compact spelling: canonical signal}, from the vocabulary and signal_names.yml."""
    with DBT_PROJECT_FILE.open(encoding="utf-8") as handle:
        entries = yaml.safe_load(handle)["vars"]["signals"]
    names: dict[str, str] = {}
    for entry in entries:
        signal = str(entry["signal"])
        for spelling in (signal, str(entry.get("iec", "")), str(entry.get("label", ""))):
            if spelling:
                names.setdefault(compact(spelling), signal)
    extra = yaml.safe_load(NAMES_FILE.read_text(encoding="utf-8")) or {}
    for signal, spellings in extra.items():
        if signal not in CANONICAL_UNITS:
            raise UnknownSignalError(f"{NAMES_FILE}: {signal!r} is not a canonical signal")
        for spelling in spellings:
            names.setdefault(compact(str(spelling)), signal)
    return names


@cache
def plausible_ranges() -> dict[str, tuple[float, float]]:
    """The widest plausible range of each signal over the turbine models of the seed."""
    ranges: dict[str, tuple[float, float]] = {}
    if not BOUNDS_FILE.is_file():
        return ranges
    with BOUNDS_FILE.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            try:
                low, high = float(row["min_value"]), float(row["max_value"])
            except (KeyError, ValueError):
                continue
            old = ranges.get(row["signal"], (low, high))
            ranges[row["signal"]] = (min(low, old[0]), max(high, old[1]))
    return ranges


def normalise_unit(text: str) -> str | None:
    try:
        return _normalise_unit(text)
    except UnknownSignalError:
        return None


@dataclass(frozen=True)
class Proposal:
    """A column read as a canonical signal; `notes` say what to check."""

    source_name: str
    canonical_name: str
    source_unit: str
    match: str  # "name" (a known spelling) or "partial" (a known spelling inside the name)
    notes: tuple[str, ...] = ()


def _split(name: str) -> tuple[str, str | None, str]:
    """(base name, statistic or None, unit text) of a column name."""
    unit = ""
    found = _UNIT.search(name)
    if found:
        unit, name = found.group(1).strip(), name[: found.start()]
    words = _words(name)
    statistic = None
    if len(words) > 1 and words[-1] in STATISTIC_WORDS:
        statistic = STATISTIC_WORDS[words.pop()]
    return "".join(words), statistic, unit


def _signal_of(base: str) -> tuple[str, str] | None:
    """(signal, how) for a compact base name: a known spelling, else the longest known
    spelling of at least 8 letters that the name contains."""
    names = _signal_names()
    if base in names:
        return names[base], "name"
    inside = [spelling for spelling in names if len(spelling) >= 8 and spelling in base]
    if not inside:
        return None
    return names[max(inside, key=len)], "partial"


def propose_signal(
    name: str, low: float | None = None, high: float | None = None
) -> Proposal | None:
    """The canonical signal a column of this name probably holds, or None.
    `low`/`high`: the column's values, to flag a range that does not fit."""
    base, statistic, unit_text = _split(name)
    found = _signal_of(base)
    if found is None:
        return None
    signal, how = found
    if how == "partial" and unit_text and normalise_unit(unit_text) is None:
        return None  # a name that only resembles a signal, in a unit of something else
    notes = []
    if statistic is None:
        statistic = "avg"
        notes.append("no statistic in the name: _avg assumed")
    canonical = f"{signal}_{statistic}"
    unit = normalise_unit(unit_text) if unit_text else None
    if unit_text and unit is None:
        notes.append(f"unit {unit_text!r} not known: {CANONICAL_UNITS[signal]} assumed")
    if not unit_text:
        notes.append(f"no unit in the name: {CANONICAL_UNITS[signal]} assumed")
    unit = unit or CANONICAL_UNITS[signal]
    try:
        convert = converter(unit, canonical)
    except UnknownSignalError:
        notes.append(f"no conversion from {unit} to {CANONICAL_UNITS[signal]}")
        unit, convert = CANONICAL_UNITS[signal], None
    bounds = plausible_ranges().get(signal)
    if bounds and low is not None and high is not None and statistic != "std":
        values = (convert(low), convert(high)) if convert else (low, high)
        if values[0] < bounds[0] or values[1] > bounds[1]:
            notes.append(
                f"values {values[0]:g}..{values[1]:g} {CANONICAL_UNITS[signal]} outside "
                f"{bounds[0]:g}..{bounds[1]:g}, the widest range of sensor_bounds.csv: "
                "check the unit (or add the turbine model's bounds)"
            )
    if how == "partial":
        notes.append("matched on part of the name: check it")
    return Proposal(name, canonical, unit, how, tuple(notes))


def is_turbine_column(name: str) -> bool:
    return compact(name) in TURBINE_NAMES


def is_row_id_column(name: str) -> bool:
    return compact(name) in ROW_ID_NAMES


def is_time_column(name: str) -> bool:
    words = set(_words(name))
    return bool(words & {"time", "timestamp", "datetime", "date", "ts", "utc"}) or compact(
        name
    ) in {"datetime", "timestamp", "tsutc", "measuredat"}
