"""The mapping file: how a historian's columns (or tags) become our canonical signals.

One CSV per historian (`source_name,canonical_name,source_unit`). Key rows name the
historian's key columns:

- `turbine_id` and `measured_at` (required; the unit of `measured_at` is the time zone of
  timestamps stored without an offset, `UTC` when blank);
- `source_row_id` (optional): the table's own key, kept for traceability;
- `signal_tag` and `signal_value` (together): the historian is *narrow*, one row per
  turbine, timestamp and tag. Every other row then maps a tag value, not a column.

Two facts about a historian are not columns and live in the park's `park.yaml`
(loaders/park_config.py): the strptime format of timestamps stored as text in a layout
that is not ISO 8601, and the turbine of a historian that holds one turbine and no turbine
column (then the mapping has no `turbine_id` row).

Every other row maps a signal and its unit. A canonical name, unit or time zone the project
does not know is an error when the file is read, naming the file and the line, not a
silent column of nonsense later. Blank rows and rows whose `source_name` starts with `#`
are comments.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import pyarrow as pa

from loaders.signals import UnknownSignalError, converter

KEY_NAMES = ("source_row_id", "turbine_id", "measured_at", "signal_tag", "signal_value")
WIDE, NARROW = "wide", "narrow"
# the column that carries park.yaml's turbine id for a historian without a turbine column
CONSTANT_TURBINE_COLUMN = "_turbine_id"


@dataclass(frozen=True)
class SignalMapping:
    source_name: str  # the column (wide) or the tag value (narrow)
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
    tag_column: str | None = None
    value_column: str | None = None
    timestamp_format: str = ""  # strptime format of text timestamps; "" = ISO 8601 first
    turbine_id: str = ""  # the one turbine of a historian without a turbine column

    @property
    def layout(self) -> str:
        return NARROW if self.tag_column else WIDE

    @property
    def key_columns(self) -> list[str]:
        keys = [self.row_id_column, self.turbine_column, self.timestamp_column]
        if self.layout == NARROW:
            keys += [self.tag_column, self.value_column]
        return [name for name in keys if name]

    @property
    def source_columns(self) -> list[str]:
        """The columns read from the source table."""
        keys = [name for name in self.key_columns if name != CONSTANT_TURBINE_COLUMN]
        if self.layout == NARROW:
            return keys
        return keys + [s.source_name for s in self.signals]

    def with_turbine(self, rows: pa.RecordBatch | pd.DataFrame) -> pa.RecordBatch | pd.DataFrame:
        """The rows as read, with the turbine column of a one-turbine historian added."""
        if not self.turbine_id:
            return rows
        if isinstance(rows, pd.DataFrame):
            return rows.assign(**{CONSTANT_TURBINE_COLUMN: self.turbine_id})
        column = pa.array([self.turbine_id] * rows.num_rows, pa.string())
        return rows.append_column(CONSTANT_TURBINE_COLUMN, column)

    @property
    def canonical_signals(self) -> list[str]:
        return [signal.canonical_name for signal in self.signals]

    def signal_for(self, source_name: str) -> SignalMapping | None:
        return next((s for s in self.signals if s.source_name == source_name), None)


def _check_zone(path: Path, line_number: int, zone: str) -> None:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownSignalError(
            f"{path}:{line_number}: unknown time zone {zone!r} for measured_at "
            "(an IANA name such as UTC or Europe/Paris)"
        ) from None


def load_mapping(path: Path, timestamp_format: str = "", turbine_id: str = "") -> HistorianMapping:
    """Read and check a mapping file; errors name the file and the line. `timestamp_format`
    and `turbine_id` come from park.yaml (its `historian` section)."""
    keys: dict[str, tuple[str, str]] = {}
    signals: list[SignalMapping] = []
    seen_source: dict[str, int] = {}
    seen_canonical: dict[str, int] = {}
    if not path.is_file():
        raise FileNotFoundError(f"sensor mapping file {path} does not exist")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        expected = {"source_name", "canonical_name", "source_unit"}
        if not expected <= set(reader.fieldnames or []):
            raise UnknownSignalError(
                f"{path}:1: header must be source_name,canonical_name,source_unit"
            )
        for line_number, row in enumerate(reader, start=2):
            source = (row.get("source_name") or "").strip()
            canonical = (row.get("canonical_name") or "").strip()
            unit = (row.get("source_unit") or "").strip()
            if source.startswith("#") or not (source or canonical or unit):
                continue
            if not source or not canonical:
                raise UnknownSignalError(
                    f"{path}:{line_number}: source_name and canonical_name are required"
                )
            if canonical in seen_canonical:
                raise UnknownSignalError(
                    f"{path}:{line_number}: {canonical} is already mapped on line "
                    f"{seen_canonical[canonical]}"
                )
            if source in seen_source:
                raise UnknownSignalError(
                    f"{path}:{line_number}: {source} is already mapped on line "
                    f"{seen_source[source]}"
                )
            seen_canonical[canonical] = seen_source[source] = line_number
            if canonical in KEY_NAMES:
                if canonical == "measured_at" and unit:
                    _check_zone(path, line_number, unit)
                keys[canonical] = (source, unit)
                continue
            try:
                signals.append(SignalMapping(source, canonical, unit, converter(unit, canonical)))
            except UnknownSignalError as error:
                raise UnknownSignalError(f"{path}:{line_number}: {error}") from error
    if turbine_id:
        if "turbine_id" in keys:
            raise UnknownSignalError(
                f"{path}: maps a turbine_id column and park.yaml names the historian's one "
                f"turbine ({turbine_id}): keep one of the two"
            )
        if "signal_tag" in keys:
            raise UnknownSignalError(f"{path}: a narrow historian needs a turbine_id column")
        keys["turbine_id"] = (CONSTANT_TURBINE_COLUMN, "")
    missing = [name for name in ("turbine_id", "measured_at") if name not in keys]
    if ("signal_tag" in keys) != ("signal_value" in keys):
        missing.append("signal_value" if "signal_tag" in keys else "signal_tag")
    if missing:
        raise UnknownSignalError(f"{path}: no mapping for the key column(s) {', '.join(missing)}")
    if not signals:
        raise UnknownSignalError(f"{path}: maps no signal")
    return HistorianMapping(
        turbine_column=keys["turbine_id"][0],
        timestamp_column=keys["measured_at"][0],
        timestamp_zone=keys["measured_at"][1] or "UTC",
        row_id_column=keys.get("source_row_id", (None, ""))[0],
        signals=tuple(signals),
        tag_column=keys.get("signal_tag", (None, ""))[0],
        value_column=keys.get("signal_value", (None, ""))[0],
        timestamp_format=timestamp_format,
        turbine_id=turbine_id,
    )
