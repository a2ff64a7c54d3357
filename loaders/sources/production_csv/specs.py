"""The export files we know: their columns, how each is read, and which are personal data.

A file is recognised by its header, not its name; the spec whose required columns are
all present wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from loaders.sources.production_csv import parsing


@dataclass(frozen=True)
class Column:
    header: str  # as the export writes it
    target: str  # column in raw
    parse: Callable[[str, str], object]
    required: bool = True  # a blank value rejects the row
    personal: bool = False  # pseudonymised before anything is written

    @property
    def key(self) -> str:
        return parsing.header_key(self.header)

    @property
    def data_type(self) -> str:
        """dlt's type for the column, declared so that an all-blank batch still creates it."""
        return _DATA_TYPES[self.parse]


_DATA_TYPES = {
    parsing.parse_date: "date",
    parsing.parse_text: "text",
    parsing.parse_number: "double",
    parsing.parse_local_datetime: "timestamp",
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
    """One export: its table, its columns, and `interval`, the (start, end) targets of a
    period whose end is read again as the second occurrence of a repeated autumn hour
    when it would otherwise fall before the start."""

    table: str
    columns: tuple[Column, ...]
    interval: tuple[str, str] | None = None

    @property
    def rejected_table(self) -> str:
        return f"{self.table}__rejected"

    @property
    def column_hints(self) -> dict[str, dict[str, object]]:
        declared = {c.target: {"data_type": c.data_type, "nullable": True} for c in self.columns}
        return {**declared, **ORIGIN_COLUMNS}

    @property
    def schema(self) -> pa.Schema:
        return arrow_schema(self.column_hints)


PRODUCTION_DAILY = FileSpec(
    table="production_daily",
    columns=(
        Column("Date", "production_date", parsing.parse_date),
        Column("Eolienne", "turbine_id", parsing.parse_text),
        Column("Energie produite (kWh)", "energy_kwh", parsing.parse_number),
        Column("Disponibilite (%)", "availability_pct", parsing.parse_number, required=False),
        Column("Heures de production", "operating_hours", parsing.parse_number, required=False),
    ),
)

MAINTENANCE_LOG = FileSpec(
    table="maintenance_log",
    columns=(
        Column("N° intervention", "intervention_id", parsing.parse_text),
        Column("Eolienne", "turbine_id", parsing.parse_text),
        Column("Début", "started_at", parsing.parse_local_datetime),
        Column("Fin", "ended_at", parsing.parse_local_datetime, required=False),
        Column("Type", "intervention_type", parsing.parse_text),
        Column("Composant", "component", parsing.parse_text),
        Column("Description", "description", parsing.parse_text, required=False),
        Column("Technicien", "technician_pseudonym", parsing.parse_text, False, personal=True),
        Column(
            "Email technicien",
            "technician_email_pseudonym",
            parsing.parse_text,
            False,
            personal=True,
        ),
    ),
    interval=("started_at", "ended_at"),
)

FILE_SPECS = (PRODUCTION_DAILY, MAINTENANCE_LOG)
