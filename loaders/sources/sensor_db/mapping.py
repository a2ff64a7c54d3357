"""The mapping file: how a historian's columns become our canonical signals.

One CSV per historian (`source_name,canonical_name,source_unit`). Three rows name the
keys (`turbine_id`, `measured_at` with the time zone of naive timestamps as its unit,
and optionally `source_row_id`); every other row maps a signal and its unit. A canonical
name or unit the project does not know is an error when the file is read, not a silent
column of nonsense later.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loaders.signals import UnknownSignalError, converter

KEY_NAMES = ("source_row_id", "turbine_id", "measured_at")


@dataclass(frozen=True)
class SignalMapping:
    source_name: str
    canonical_name: str
    source_unit: str
    convert: Callable[[float], float] | None


@dataclass(frozen=True)
class HistorianMapping:
    turbine_column: str
    timestamp_column: str
    timestamp_zone: str
    row_id_column: str | None
    signals: tuple[SignalMapping, ...]

    @property
    def source_columns(self) -> list[str]:
        keys = [self.row_id_column, self.turbine_column, self.timestamp_column]
        return [name for name in keys if name] + [s.source_name for s in self.signals]

    @property
    def canonical_signals(self) -> list[str]:
        return [signal.canonical_name for signal in self.signals]


def load_mapping(path: Path) -> HistorianMapping:
    """Read and check a mapping file; errors name the file and the line."""
    keys: dict[str, tuple[str, str]] = {}
    signals: list[SignalMapping] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line_number, row in enumerate(csv.DictReader(handle), start=2):
            source = (row.get("source_name") or "").strip()
            canonical = (row.get("canonical_name") or "").strip()
            unit = (row.get("source_unit") or "").strip()
            if not source or not canonical:
                raise UnknownSignalError(
                    f"{path}:{line_number}: source_name and canonical_name are required"
                )
            if canonical in KEY_NAMES:
                keys[canonical] = (source, unit)
                continue
            try:
                signals.append(SignalMapping(source, canonical, unit, converter(unit, canonical)))
            except UnknownSignalError as error:
                raise UnknownSignalError(f"{path}:{line_number}: {error}") from error
    missing = [name for name in ("turbine_id", "measured_at") if name not in keys]
    if missing:
        raise UnknownSignalError(f"{path}: no mapping for the key column(s) {', '.join(missing)}")
    return HistorianMapping(
        turbine_column=keys["turbine_id"][0],
        timestamp_column=keys["measured_at"][0],
        timestamp_zone=keys["measured_at"][1] or "UTC",
        row_id_column=keys.get("source_row_id", (None, ""))[0],
        signals=tuple(signals),
    )
