"""The export files of a park: read from its `exports.yaml`, never written in code.

An operator describes each export layout it sends (docs/sources.md): the raw table it
fills, and for each target column the header names the file may use, whether a blank
value rejects the row, how values are written (decimal mark, a unit or `%` suffix, a date
format, the time zone of local times) and whether the column is personal data. The raw
tables and their columns are the project's contract with dbt staging (TABLES below), so
a spec can only name targets that staging reads; a file is recognised by its header, not
its name, and columns a spec does not name are kept as JSON in `_extra_columns`. A file of
another shape (a failure log) maps by the same file: a column may be a constant (`value`),
an id made from other cells (`from_columns`), or map the file's codes to the project's
vocabulary (`values`, an unknown code rejecting its row).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
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
# between the cells of a value made from several columns (from_columns)
SOURCE_SEPARATOR = "|"

_DATA_TYPES = {"date": "date", "text": "text", "number": "double", "datetime": "timestamp"}
_BLANKS = re.compile(r"[\s\u00a0\u202f'’]")


class ColumnConfig(Strict):
    """Where a target column's value comes from: the file's column (`header`), a constant
    for every row (`value`), or an id made from other cells (`from_columns`); exactly one.
    `values` maps the file's codes to the project's vocabulary."""

    header: str | list[str] | None = None
    value: str | None = None  # a constant, for a column the file does not have
    values: dict[str, str] | None = None  # the file's code -> canonical value
    from_columns: list[str] | None = None  # headers whose cells, joined, make the value
    required: bool | None = None  # default: keys required, other columns optional
    decimal: Literal["auto", ",", "."] = "auto"
    suffix: str = ""  # a unit written after each value (`%`, `kWh`), removed before reading
    format: str = ""  # strptime format of a date or a date and time; "" = dd/mm/yyyy or ISO
    personal: bool = False

    @property
    def headers(self) -> list[str]:
        if self.header is None:
            return []
        return [self.header] if isinstance(self.header, str) else list(self.header)

    @field_validator("header")
    @classmethod
    def _some_header(cls, value: str | list[str] | None) -> str | list[str] | None:
        if value is None:
            return value
        names = [value] if isinstance(value, str) else value
        if not names or not all(name.strip() for name in names):
            raise ValueError("a column needs at least one header name, none blank")
        return value

    @field_validator("value")
    @classmethod
    def _some_value(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("a constant value cannot be blank")
        return value

    @field_validator("values")
    @classmethod
    def _some_values(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return value
        if not value:
            raise ValueError("values needs at least one `code: canonical value` pair")
        blank = [code for code, canonical in value.items() if not code.strip() or not canonical]
        if blank or not all(canonical.strip() for canonical in value.values()):
            raise ValueError("values cannot map a blank code or map a code to a blank value")
        return value

    @field_validator("from_columns")
    @classmethod
    def _some_columns(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not all(name.strip() for name in value)):
            raise ValueError("from_columns needs at least one header name, none blank")
        return value

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnConfig:
        given = [
            key
            for key, present in (
                ("header", self.header is not None),
                ("value", self.value is not None),
                ("from_columns", self.from_columns is not None),
            )
            if present
        ]
        if len(given) > 1:
            raise ValueError(
                f"{' and '.join(given)} together: a column comes from the file's column "
                "(header), a constant (value) or other columns (from_columns), only one"
            )
        if not given:
            raise ValueError("a column needs a header (or a constant value, or from_columns)")
        if self.values is not None and self.header is None:
            raise ValueError("values maps the codes of a file's column: it needs a header")
        return self


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
        for target, column in self.columns.items():
            kind = contract[target][0]
            if (column.values is not None or column.from_columns is not None) and kind != "text":
                raise ValueError(
                    f"{target}: values and from_columns apply to text columns only ({target} "
                    f"is a {kind})"
                )
        # an id made of personal cells would carry them in clear
        personal = {parsing.header_key(name) for name in self.personal_extras} | {
            parsing.header_key(name)
            for column in self.columns.values()
            if column.personal
            for name in column.headers
        }
        for target, column in self.columns.items():
            leaking = [n for n in column.from_columns or [] if parsing.header_key(n) in personal]
            if leaking:
                raise ValueError(
                    f"{target}: from_columns names personal column(s) {', '.join(leaking)}"
                )
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
    constant: str | None = None  # the value of every row (the file has no such column)
    codes: dict[str, str] | None = field(default=None, hash=False)  # file's code -> canonical
    sources: tuple[str, ...] = ()  # headers whose cells, joined by SOURCE_SEPARATOR, are the value

    @property
    def header(self) -> str:
        """The name errors use: the file's usual header, else the target column."""
        return self.headers[0] if self.headers else self.target

    def derive(self, cells: list[str]) -> str:
        """The value made from the cells of `sources` (from_columns): their trimmed text
        joined, so that a file loaded again gives the same ids; FieldError if one is blank."""
        blank = [name for name, cell in zip(self.sources, cells, strict=True) if not cell.strip()]
        if blank:
            raise parsing.FieldError(
                f"{self.target}: made from {', '.join(self.sources)}, but "
                f"{', '.join(blank)} is blank"
            )
        return SOURCE_SEPARATOR.join(cell.strip() for cell in cells)

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


def _text(column: Column, text: str, _fold: int) -> str | None:
    value = parsing.parse_text(text, "")
    if value is None or column.codes is None:
        return value
    if value not in column.codes:
        raise parsing.FieldError(
            f"{column.header}: {value!r} is not a code of the export's values mapping "
            f"({', '.join(column.codes)})"
        )
    return column.codes[value]


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
        # every column of the table's contract, mapped or not: staging reads them all, and
        # an export without one (EDP's failure log has no end time) leaves it null
        declared = {
            target: {"data_type": _DATA_TYPES[kind], "nullable": True}
            for target, (kind, _) in TABLES[self.table].items()
        }
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
                    constant=config.value,
                    codes=dict(config.values) if config.values is not None else None,
                    sources=tuple(config.from_columns or ()),
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
