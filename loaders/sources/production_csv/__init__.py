"""dlt source for the production department's CSV exports dropped in an inbox folder.

Files stream row by row (memory does not grow with file size). A row that cannot be read
goes to `<table>__rejected` with file, line, text and reason; a file whose header lacks
required columns is refused whole and named in the run's errors, and the other files
still load. A file is the reload unit: loading it again replaces its earlier rows.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dlt

from loaders.pseudonymise import Pseudonymiser
from loaders.sources.production_csv import parsing
from loaders.sources.production_csv.specs import FILE_SPECS, REJECTED_COLUMNS, FileSpec

BATCH_ROWS = 5_000


@dataclass
class CsvStats:
    """Per-file counts (read = loaded + rejected) and the files refused, with why."""

    rows_read: dict[str, int] = field(default_factory=dict)
    rows_loaded: dict[str, int] = field(default_factory=dict)
    rows_rejected: dict[str, int] = field(default_factory=dict)
    refused_files: dict[str, str] = field(default_factory=dict)


class RefusedFileError(ValueError):
    """The file as a whole cannot be loaded (unknown header, missing columns)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def match_spec(path: Path, header: list[str]) -> tuple[FileSpec, dict[str, int]]:
    """The spec this header belongs to and each column's position, or a refusal naming
    the missing columns of the closest spec."""
    positions = {parsing.header_key(name): index for index, name in enumerate(header)}
    best: tuple[int, FileSpec, list[str]] | None = None
    for spec in FILE_SPECS:
        present = [column for column in spec.columns if column.key in positions]
        missing = [c.header for c in spec.columns if c.required and c.key not in positions]
        if not missing:
            return spec, {column.target: positions[column.key] for column in present}
        if best is None or len(present) > best[0]:
            best = (len(present), spec, missing)
    assert best is not None
    _, spec, missing = best
    raise RefusedFileError(
        f"{path.name}: header does not match any known export; closest is {spec.table}, "
        f"missing column(s): {', '.join(missing)}"
    )


def _read_file(
    path: Path, pseudonymiser: Pseudonymiser, stats: CsvStats
) -> Iterator[tuple[FileSpec, bool, list[dict]]]:
    """Yield (spec, is_rejected, batch of rows) for one file."""
    encoding = parsing.detect_encoding(str(path))
    file_hash = _sha256(path)
    with path.open(encoding=encoding, newline="") as handle:
        header_line = handle.readline()
        separator = parsing.detect_separator(header_line)
        header = next(csv.reader([header_line], delimiter=separator))
        spec, positions = match_spec(path, header)
        origin = {"_source_file": path.name, "_source_file_sha256": file_hash}
        read = loaded = rejected = 0
        good: list[dict] = []
        bad: list[dict] = []
        reader = csv.reader(handle, delimiter=separator)
        for fields in reader:
            line = reader.line_num + 1  # the header was line 1
            if not any(value.strip() for value in fields):
                continue
            read += 1
            for column in spec.columns:
                index = positions.get(column.target)
                if column.personal and index is not None and index < len(fields):
                    fields[index] = pseudonymiser.token(fields[index]) or ""
            row, problems = {}, []
            if len(fields) != len(header):
                problems.append(f"expected {len(header)} fields, found {len(fields)}")
            else:
                for column in spec.columns:
                    index = positions.get(column.target)
                    text = fields[index] if index is not None else ""
                    try:
                        value = column.parse(text, column.header)
                    except parsing.FieldError as error:
                        problems.append(str(error))
                        continue
                    if value is None and column.required:
                        problems.append(f"{column.header}: required value is blank")
                    row[column.target] = value
            if problems:
                rejected += 1
                bad.append(
                    {
                        **origin,
                        "_source_line": line,
                        "raw_line": separator.join(fields),
                        "reason": "; ".join(problems),
                    }
                )
            else:
                loaded += 1
                good.append({**row, **origin, "_source_line": line})
            if len(good) >= BATCH_ROWS:
                yield spec, False, good
                good = []
        if good:
            yield spec, False, good
        if bad:
            yield spec, True, bad
    stats.rows_read[path.name] = read
    stats.rows_loaded[path.name] = loaded
    stats.rows_rejected[path.name] = rejected
    print(
        f"[production_csv] {path.name}: {read:,} rows read, {loaded:,} loaded, "
        f"{rejected:,} rejected"
    )


def inbox_files(inbox: Path) -> list[Path]:
    return sorted(p for p in inbox.iterdir() if p.is_file() and p.suffix.lower() == ".csv")


@dlt.source(name="production_csv", max_table_nesting=0)
def production_csv_source(inbox: str, pseudonymiser: Pseudonymiser, stats: CsvStats) -> list:
    """Every CSV file of the inbox, each to the table its header says."""
    folder = Path(inbox)
    if not folder.is_dir():
        raise FileNotFoundError(f"CSV inbox {folder} does not exist or is not a folder")

    @dlt.resource(
        name="production_exports",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        merge_key="_source_file",
    )
    def production_exports() -> Iterator[object]:
        for path in inbox_files(folder):
            try:
                for spec, is_rejected, rows in _read_file(path, pseudonymiser, stats):
                    table = spec.rejected_table if is_rejected else spec.table
                    yield dlt.mark.with_hints(
                        rows,
                        dlt.mark.make_hints(
                            table_name=table,
                            write_disposition={"disposition": "merge", "strategy": "delete-insert"},
                            merge_key="_source_file",
                            columns=REJECTED_COLUMNS if is_rejected else spec.column_hints,
                        ),
                        create_table_variant=True,
                    )
            except (RefusedFileError, parsing.FieldError, OSError) as error:
                stats.refused_files[path.name] = str(error)
                print(f"[production_csv] refused {error}")

    return [production_exports]
