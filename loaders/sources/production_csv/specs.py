"""The export files of a park: read from its `exports.yaml`, never written in code.

An operator describes each export layout it sends (docs/sources.md): the raw table it
fills, and for each target column the header names the file may use, whether a blank
value rejects the row, how values are written (decimal mark, a unit or `%` suffix, a date
format, the time zone of local times) and whether the column is personal data. The raw
tables and their columns are the project's contract with dbt staging (TABLES below), so
a spec can only name targets that staging reads; a file is recognised by its header, not
its name, and columns a spec does not name are kept as JSON in `_extra_columns`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import pyarrow as pa
from pydantic import Field, field_validator, model_validator

from loaders.park_config import ParkConfigError, Strict, check_zone, park_of, validated
from loaders.settings import Settings
from loaders.sources.production_csv import parsing

# The raw tables the exports land in: target column -> (kind, is a key). Keys must be
# mapped by every spec of the table and are always required.
TABLES: dict[str, dict[str, tuple[str, bool]]] = {
    "production_daily": {
        "production_date": ("date", True),
        "turbine_id": ("text", True),
        "energy_kwh": ("number", True),
        "availability_pct": ("number", False),
        "operating_hours": ("number", False),
    },
    "maintenance_log": {
        "intervention_id": ("text", True),
        "turbine_id": ("text", True),
        "started_at": ("datetime", True),
        "ended_at": ("datetime", False),
        "intervention_type": ("text", True),
        "component": ("text", True),
        "description": ("text", False),
        "technician_pseudonym": ("text", False),
        "technician_email_pseudonym": ("text", False),
    },
}
# (start, end) of a period whose end is read again as the second occurrence of a repeated
# autumn hour when it would otherwise fall before the start.
INTERVALS = {"maintenance_log": ("started_at", "ended_at")}
EXTRA_COLUMN = "_extra_columns"

_DATA_TYPES = {"date": "date", "text": "text", "number": "double", "datetime": "timestamp"}
_BLANKS = re.compile(r"[\s\u00a0\u202f'’]")


class ColumnConfig(Strict):
    header: str | list[str]
    required: bool | None = None  # default: keys required, other columns optional
    decimal: Literal["auto", ",", "."] = "auto"
    suffix: str = ""  # a unit written after each value (`%`, `kWh`), removed before reading
    format: str = ""  # strptime format of a date or a date and time; "" = dd/mm/yyyy or ISO
    personal: bool = False

    @property
    def headers(self) -> list[str]:
        return [self.header] if isinstance(self.header, str) else list(self.header)

    @field_validator("header")
    @classmethod
    def _some_header(cls, value: str | list[str]) -> str | list[str]:
        names = [value] if isinstance(value, str) else value
        if not names or not all(name.strip() for name in names):
            raise ValueError("a column needs at least one header name, none blank")
        return value


class ExportConfig(Strict):
    name: str = Field(min_length=1)
    table: Literal["production_daily", "maintenance_log"]
    time_zone: str = ""  # of times written without an offset; "" = the park's
    columns: dict[str, ColumnConfig]
    personal_extras: list[str] = []  # headers of unnamed columns that are personal data

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value) if value else value

    @model_validator(mode="after")
    def _targets(self) -> ExportConfig:
        contract = TABLES[self.table]
        unknown = [target for target in self.columns if target not in contract]
        if unknown:
            raise ValueError(
                f"{self.table} has no column(s) {', '.join(unknown)} (known: {', '.join(contract)})"
            )
        keys = [target for target, (_, is_key) in contract.items() if is_key]
        missing = [target for target in keys if target not in self.columns]
        if missing:
            raise ValueError(f"{self.table} needs its key column(s) {', '.join(missing)}")
        optional_keys = [t for t in keys if self.columns[t].required is False]
        if optional_keys:
            raise ValueError(f"key column(s) {', '.join(optional_keys)} cannot be optional")
        return self


class ExportsFile(Strict):
    exports: list[ExportConfig] = Field(min_length=1)


@dataclass(frozen=True)
class Column:
    headers: tuple[str, ...]  # as exports write it, first the usual one
    target: str  # column in raw
    kind: str  # date, text, number, datetime
    required: bool = True  # a blank value rejects the row
    personal: bool = False  # pseudonymised before anything is written
    decimal: str = "auto"
    suffix: str = ""
    format: str = ""
    zone: ZoneInfo = parsing.LOCAL_ZONE

    @property
    def header(self) -> str:
        return self.headers[0]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(parsing.header_key(name) for name in self.headers)

    @property
    def data_type(self) -> str:
        """dlt's type for the column, declared so that an all-blank batch still creates it."""
        return _DATA_TYPES[self.kind]

    def parse(self, text: str, fold: int = 0) -> object:
        """The value of one field; FieldError (naming the column and the value) if none."""
        return _PARSERS[self.kind](self, text or "", fold)

    def is_repeated_local_time(self, text: str) -> bool:
        """True for a wall-clock time of the repeated autumn hour (it happens twice)."""
        first, second = self.parse(text), self.parse(text, fold=1)
        # in the missing spring hour the second reading is earlier, not later
        return isinstance(first, datetime) and isinstance(second, datetime) and second > first


def _number(column: Column, text: str, _fold: int) -> float | None:
    cleaned = _BLANKS.sub("", text)
    if column.suffix and cleaned.casefold().endswith(_BLANKS.sub("", column.suffix).casefold()):
        cleaned = cleaned[: len(cleaned) - len(_BLANKS.sub("", column.suffix))]
    if column.decimal == ",":
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif column.decimal == ".":
        cleaned = cleaned.replace(",", "")
    return parsing.parse_number(cleaned, column.header) if cleaned else None


def _strptime(column: Column, text: str) -> datetime:
    try:
        return datetime.strptime(text.strip(), column.format)
    except ValueError:
        raise parsing.FieldError(
            f"{column.header}: not in the format {column.format}: {text!r}"
        ) from None


def _date(column: Column, text: str, _fold: int) -> date | None:
    if not text.strip():
        return None
    if column.format:
        return _strptime(column, text).date()
    return parsing.parse_date(text, column.header)


def _datetime(column: Column, text: str, fold: int) -> datetime | None:
    if not text.strip():
        return None
    if not column.format:
        return parsing.parse_local_datetime(text, column.header, fold, column.zone)
    value = _strptime(column, text)
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return value.replace(tzinfo=column.zone, fold=fold).astimezone(UTC)


def _text(_column: Column, text: str, _fold: int) -> str | None:
    return parsing.parse_text(text, "")


_PARSERS: dict[str, Callable[[Column, str, int], object]] = {
    "number": _number,
    "date": _date,
    "datetime": _datetime,
    "text": _text,
}
ORIGIN_COLUMNS = {
    "_source_file": {"data_type": "text", "nullable": False},
    "_source_file_sha256": {"data_type": "text", "nullable": False},
    "_source_line": {"data_type": "bigint", "nullable": False},
}
REJECTED_COLUMNS = {
    **ORIGIN_COLUMNS,
    "raw_line": {"data_type": "text", "nullable": True},
    "reason": {"data_type": "text", "nullable": False},
}


_ARROW_TYPES = {
    "date": pa.date32(),
    "text": pa.string(),
    "double": pa.float64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "bigint": pa.int64(),
}


def arrow_schema(columns: dict[str, dict[str, object]]) -> pa.Schema:
    """The Arrow schema of a table's declared columns: rows go to dlt as Arrow tables (its
    row-by-row normaliser is the slow path), typed even when a batch holds only blanks."""
    return pa.schema(
        [
            pa.field(name, _ARROW_TYPES[str(hint["data_type"])], bool(hint.get("nullable", True)))
            for name, hint in columns.items()
        ]
    )


REJECTED_SCHEMA = arrow_schema(REJECTED_COLUMNS)


@dataclass(frozen=True)
class FileSpec:
    """One export layout: its name, its table, its columns, and `interval` (INTERVALS)."""

    table: str
    columns: tuple[Column, ...]
    interval: tuple[str, str] | None = None
    name: str = ""
    personal_extras: tuple[str, ...] = ()

    @property
    def rejected_table(self) -> str:
        return f"{self.table}__rejected"

    @property
    def column_hints(self) -> dict[str, dict[str, object]]:
        declared = {c.target: {"data_type": c.data_type, "nullable": True} for c in self.columns}
        extras = {EXTRA_COLUMN: {"data_type": "text", "nullable": True}}
        return {**declared, **extras, **ORIGIN_COLUMNS}

    @property
    def schema(self) -> pa.Schema:
        return arrow_schema(self.column_hints)

    def column(self, target: str) -> Column:
        return next(column for column in self.columns if column.target == target)


# Every table the exports land in, clean and rejected, whatever the park's specs.
EXPORT_TABLES = tuple(t for table in TABLES for t in (table, f"{table}__rejected"))


def load_specs(path: Path, park_zone: str) -> tuple[FileSpec, ...]:
    """The export specs of `exports.yaml`, checked; errors name the file and the line."""
    exports, _ = validated(ExportsFile, path)
    names = [export.name for export in exports.exports]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ParkConfigError(f"{path}: export name(s) used twice: {', '.join(repeated)}")
    specs = []
    for export in exports.exports:
        zone = ZoneInfo(export.time_zone or park_zone)
        columns = []
        for target, config in export.columns.items():
            kind, is_key = TABLES[export.table][target]
            columns.append(
                Column(
                    headers=tuple(config.headers),
                    target=target,
                    kind=kind,
                    required=is_key if config.required is None else config.required,
                    personal=config.personal,
                    decimal=config.decimal,
                    suffix=config.suffix,
                    format=config.format,
                    zone=zone,
                )
            )
        specs.append(
            FileSpec(
                table=export.table,
                columns=tuple(columns),
                interval=INTERVALS.get(export.table),
                name=export.name,
                personal_extras=tuple(export.personal_extras),
            )
        )
    return tuple(specs)


def specs_of(settings: Settings) -> tuple[FileSpec, ...]:
    """The export specs of the configured park; none when it sends no export."""
    park = park_of(settings)
    if park.exports is None:
        return ()
    return load_specs(park.exports, park.time_zone)
