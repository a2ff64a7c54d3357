"""A maker's alarm catalogue becomes a park's alarm_codes.csv, by configuration alone.

Turbine makers ship their alarm lists in their own shapes: a CSV, a JSON table stored row
by row or column by column, their own names for the columns and their own systems and
subsystems instead of our component vocabulary. The park's `alarm_catalogue.yaml` says
how one such file maps onto `reference/alarm_codes.csv` (the alarm_codes seed), with the
words of exports.yaml (`header`, `from_columns`, `value`, `values`) and ordered `rules`
for what the catalogue does not say (severity, stop, failure):

    python -m loaders alarm-catalogue <catalogue file> --park config/<park> [--check]

The file written is generated: the same catalogue and configuration give the same bytes,
and `--check` says whether the committed file is still what they give. Nothing here
knows a maker: a new one is a new configuration (docs/sources.md, "An alarm catalogue of
another maker").
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from loaders.park_config import REFERENCE_DIR, REFERENCE_FILES, ParkConfigError, Strict, validated
from loaders.settings import PROJECT_ROOT

CATALOGUE_CONFIG = "alarm_catalogue.yaml"
ALARM_CODES = "alarm_codes.csv"
COLUMNS = tuple(REFERENCE_FILES[ALARM_CODES])
SEVERITIES = ("info", "warning", "fault", "critical")
BOOLEANS = ("true", "false")
COMPONENTS_SEED = PROJECT_ROOT / "seeds_csv" / "components.csv"

Target = Literal["alarm_code", "description", "severity", "component", "is_stop", "is_failure"]


class CatalogueColumn(Strict):
    """Where one column of alarm_codes.csv comes from (exactly one of header,
    from_columns, value), and, for a column read from the file, the mapping of its
    values (`values`: a value outside it is an error naming it)."""

    header: str | None = None
    from_columns: list[str] | None = Field(default=None, min_length=1)
    value: str | None = None
    values: dict[str, str] | None = None

    @model_validator(mode="after")
    def _one_origin(self) -> CatalogueColumn:
        given = [self.header is not None, self.from_columns is not None, self.value is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of header, from_columns, value")
        if self.values is not None and self.value is not None:
            raise ValueError("values maps a column read from the file, not a value")
        return self


class Rule(Strict):
    """Sets columns of the codes whose catalogue cells match every pattern of `when`
    (Python regular expressions, searched in the cell's text)."""

    when: dict[str, str] = Field(min_length=1)
    set: dict[Target, str] = Field(min_length=1)

    @field_validator("when")
    @classmethod
    def _patterns(cls, when: dict[str, str]) -> dict[str, str]:
        for column, pattern in when.items():
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"{column}: not a regular expression: {error}") from None
        return when


class CatalogueConfig(Strict):
    # JSON: where the table is in the document (keys joined by "."), "" = the document
    table: str = ""
    # CSV: the field separator
    delimiter: str = ","
    columns: dict[Target, CatalogueColumn]
    # applied in order to every code; a later rule overrides an earlier one
    rules: list[Rule] = []

    @model_validator(mode="after")
    def _complete(self) -> CatalogueConfig:
        missing = [name for name in COLUMNS if name not in self.columns]
        if missing:
            raise ValueError(f"columns: no mapping for {', '.join(missing)}")
        for name in ("alarm_code", "description"):
            if self.columns[name].value is not None:  # type: ignore[index]
                raise ValueError(f"columns.{name}: must come from the catalogue file")
        return self


def cell_text(value: object) -> str:
    """A catalogue cell as text: numbers as their digits (a JSON 1379 or 1379.0 is the
    code "1379", as the alarm loader reads it), nothing as "", text trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(path: Path, config: CatalogueConfig) -> list[dict[str, str]]:
    """The catalogue's rows as text cells: a CSV, or a JSON table found at `table` and
    stored either as a list of records or column-wise (a list of values per column)."""
    if not path.is_file():
        raise ParkConfigError(f"{path}: catalogue file does not exist")
    if path.suffix.lower() == ".json":
        document: object = json.loads(path.read_text(encoding="utf-8"))
        for key in filter(None, config.table.split(".")):
            if not isinstance(document, dict) or key not in document:
                raise ParkConfigError(f"{path}: no key {key!r} on the way to {config.table!r}")
            document = document[key]
        if isinstance(document, dict) and all(isinstance(v, list) for v in document.values()):
            lengths = {len(v) for v in document.values()}
            if len(lengths) > 1:
                raise ParkConfigError(f"{path}: the columns of {config.table!r} differ in length")
            names = list(document)
            count = lengths.pop() if lengths else 0
            return [{n: cell_text(document[n][i]) for n in names} for i in range(count)]
        if isinstance(document, list) and all(isinstance(r, dict) for r in document):
            return [{str(k): cell_text(v) for k, v in record.items()} for record in document]
        raise ParkConfigError(
            f"{path}: {config.table or 'the document'!r} is neither a list of records nor "
            "a list of values per column"
        )
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=config.delimiter)
    return [{k: cell_text(v) for k, v in row.items() if k is not None} for row in reader]


def _components() -> set[str]:
    with COMPONENTS_SEED.open(encoding="utf-8", newline="") as handle:
        return {row["component"] for row in csv.DictReader(handle)}


def _cell(row: dict[str, str], name: str, path: Path) -> str:
    if name not in row:
        known = ", ".join(row)
        raise ParkConfigError(f"{path}: the catalogue has no column {name!r} (it has {known})")
    return row[name]


def convert(catalogue: Path, park: Path) -> str:
    """The text of the park's alarm_codes.csv made from `catalogue` by the park's
    alarm_catalogue.yaml; every problem (an unmapped value, an unknown component, a
    repeated code) is listed, naming the code, and nothing is written."""
    config_path = park / CATALOGUE_CONFIG
    config, _ = validated(CatalogueConfig, config_path)
    rows = read_table(catalogue, config)
    components = _components()
    problems: list[str] = []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    seen: set[str] = set()
    for row in rows:
        record: dict[str, str] = {}
        for name in COLUMNS:
            spec = config.columns[name]  # type: ignore[index]
            if spec.value is not None:
                value = spec.value
            elif spec.header is not None:
                value = _cell(row, spec.header, catalogue)
            else:
                value = "|".join(_cell(row, c, catalogue) for c in spec.from_columns or [])
            if spec.values is not None:
                if value not in spec.values:
                    known = ", ".join(sorted(spec.values))
                    problems.append(f"{name}: {value!r} is not in values (known: {known})")
                    continue
                value = spec.values[value]
            record[name] = value
        if len(record) < len(COLUMNS):
            continue
        for rule in config.rules:
            if all(re.search(p, _cell(row, c, catalogue)) for c, p in rule.when.items()):
                record.update(rule.set)
        code = record["alarm_code"]
        where = f"code {code!r}"
        if not code:
            problems.append(f"a row without a code: {row}")
        elif code in seen:
            problems.append(f"{where}: repeated")
        seen.add(code)
        if not record["description"]:
            problems.append(f"{where}: no description")
        if record["severity"] not in SEVERITIES:
            problems.append(f"{where}: severity {record['severity']!r} not in {SEVERITIES}")
        if record["component"] not in components:
            problems.append(
                f"{where}: component {record['component']!r} is not in seeds_csv/components.csv"
            )
        for flag in ("is_stop", "is_failure"):
            record[flag] = record[flag].lower()
            if record[flag] not in BOOLEANS:
                problems.append(f"{where}: {flag} {record[flag]!r} is not true or false")
        writer.writerow([record[name] for name in COLUMNS])
    if problems:
        raise ParkConfigError(
            f"{catalogue} with {config_path}:\n" + "\n".join(dict.fromkeys(problems))
        )
    return out.getvalue()


def write(catalogue: Path, park: Path, check: bool = False) -> tuple[Path, bool]:
    """(the park's alarm_codes.csv, whether it holds what the catalogue gives). Written
    unless `check`."""
    target = park / REFERENCE_DIR / ALARM_CODES
    text = convert(catalogue, park)
    current = target.read_text(encoding="utf-8") if target.is_file() else None
    if not check and current != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return target, current == text
