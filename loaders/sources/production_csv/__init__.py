"""dlt source for the production department's CSV exports dropped in an inbox folder.

Files stream row by row into Arrow batches (memory does not grow with file size). A row
that cannot be read goes to `<table>__rejected` with file, line, text and reason; a file
whose header lacks required columns is refused whole, moved to `refused/` and named in the
run's errors, and the other files still load. A file is the reload unit: a new version of
a name replaces all the rows of the earlier one, and a version already loaded is skipped
(`inbox.py` has the bookkeeping; `pipeline.load_production_csv` archives after the load).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dlt
import pyarrow as pa

from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.sources.production_csv import inbox, parsing
from loaders.sources.production_csv.specs import (
    EXPORT_TABLES,
    EXTRA_COLUMN,
    REJECTED_COLUMNS,
    REJECTED_SCHEMA,
    Column,
    FileSpec,
)

BATCH_ROWS = 10_000
PROGRESS_ROWS = 100_000
__all__ = ["EXPORT_TABLES", "CsvStats", "production_csv_source"]


@dataclass
class CsvStats:
    """Per-file counts (read = loaded + rejected), the files refused and skipped, with why,
    and the files loaded with their content hash (archived once the load has committed)."""

    rows_read: dict[str, int] = field(default_factory=dict)
    rows_loaded: dict[str, int] = field(default_factory=dict)
    rows_rejected: dict[str, int] = field(default_factory=dict)
    refused_files: dict[str, str] = field(default_factory=dict)
    skipped_files: dict[str, str] = field(default_factory=dict)
    loaded_files: dict[str, str] = field(default_factory=dict)  # name -> sha256
    # name -> headers no spec column names, kept in the rows' _extra_columns
    extra_columns: dict[str, list[str]] = field(default_factory=dict)
    to_archive: dict[str, str] = field(default_factory=dict)  # name -> sha256


class RefusedFileError(ValueError):
    """The file as a whole cannot be loaded (unknown header, missing columns)."""


def _position(column: Column, positions: dict[str, int]) -> int | None:
    """Where the column is in the header: its first header name (or alias) present."""
    return next((positions[key] for key in column.keys if key in positions), None)


def match_spec(
    path: Path, header: list[str], specs: tuple[FileSpec, ...]
) -> tuple[FileSpec, dict[str, int]]:
    """The spec this header belongs to and each column's position, or a refusal; the
    closest spec and its missing columns are named only when the file shares columns
    with it (an unrelated file is not "almost" any export)."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(parsing.header_key(name), index)
    best: tuple[int, FileSpec, list[str]] | None = None
    for spec in specs:
        found = {c.target: _position(c, positions) for c in spec.columns}
        present = {target: index for target, index in found.items() if index is not None}
        missing = [c.header for c in spec.columns if c.required and found[c.target] is None]
        if not missing:
            return spec, present
        if present and (best is None or len(present) > best[0]):
            best = (len(present), spec, missing)
    if best is None:
        known = ", ".join(spec.name or spec.table for spec in specs)
        raise RefusedFileError(
            f"{path.name}: header shares no column with any known export ({known}): "
            f"{', '.join(header)}"
        )
    _, spec, missing = best
    raise RefusedFileError(
        f"{path.name}: header does not match any known export; closest is "
        f"{spec.name or spec.table} ({spec.table}), missing column(s): {', '.join(missing)}"
    )


def _parse_row(
    spec: FileSpec, positions: dict[str, int], fields: list[str], width: int
) -> tuple[dict[str, object], list[str]]:
    """(row, problems) for the fields of one record."""
    if len(fields) != width:
        return {}, [f"expected {width} fields, found {len(fields)}"]
    row: dict[str, object] = {}
    problems = []
    for column in spec.columns:
        index = positions.get(column.target)
        text = fields[index] if index is not None else ""
        try:
            value = column.parse(text)
        except parsing.FieldError as error:
            problems.append(str(error))
            continue
        if value is None and column.required:
            problems.append(f"{column.header}: required value is blank")
        row[column.target] = value
    if spec.interval and not problems:
        start_key, end_key = spec.interval
        start, end = row.get(start_key), row.get(end_key)
        end_text = fields[positions[end_key]] if end_key in positions else ""
        end_column = spec.column(end_key)
        if start and end and end < start and end_column.is_repeated_local_time(end_text):
            row[end_key] = end_column.parse(end_text, fold=1)
    return row, problems


def _records(handle, separator: str) -> Iterator[tuple[int, list[str]]]:  # noqa: ANN001
    """(first line number, fields) of each record after the header (line 1); a quoted
    field may span lines."""
    reader = csv.reader(handle, delimiter=separator)
    previous_end = 1
    for fields in reader:
        yield previous_end + 1, fields
        previous_end = reader.line_num + 1


def read_file(
    path: Path,
    sha256: str,
    encoding: str,
    pseudonymiser: Pseudonymiser,
    stats: CsvStats,
    specs: tuple[FileSpec, ...],
) -> Iterator[tuple[FileSpec, bool, pa.Table]]:
    """Yield (spec, is_rejected, Arrow batch) for one file, streaming."""
    with path.open(encoding=encoding, newline="") as handle:
        header_line = handle.readline()
        separator = parsing.detect_separator(header_line)
        header = next(csv.reader([header_line], delimiter=separator), [])
        spec, positions = match_spec(path, header, specs)
        origin = {"_source_file": path.name, "_source_file_sha256": sha256}
        named = set(positions.values())
        extras = {i: name for i, name in enumerate(header) if i not in named and name.strip()}
        if extras:
            stats.extra_columns[path.name] = list(extras.values())
            print(
                f"[production_csv] {path.name}: columns not in export {spec.name}, kept in "
                f"{EXTRA_COLUMN}: {', '.join(extras.values())}"
            )
        read = loaded = rejected = 0
        good: list[dict] = []
        bad: list[dict] = []
        personal = [
            positions[c.target] for c in spec.columns if c.personal and c.target in positions
        ]
        personal_extras = {parsing.header_key(name) for name in spec.personal_extras}
        personal += [i for i, name in extras.items() if parsing.header_key(name) in personal_extras]
        for line, fields in _records(handle, separator):
            if not any(value.strip() for value in fields):
                continue
            read += 1
            for index in personal:
                if index < len(fields):
                    fields[index] = pseudonymiser.token(fields[index]) or ""
            row, problems = _parse_row(spec, positions, fields, len(header))
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
                if extras:
                    row[EXTRA_COLUMN] = json.dumps(
                        {name: fields[i] for i, name in extras.items()}, ensure_ascii=False
                    )
                good.append({**row, **origin, "_source_line": line})
            if len(good) >= BATCH_ROWS:
                yield spec, False, pa.Table.from_pylist(good, schema=spec.schema)
                good = []
            if len(bad) >= BATCH_ROWS:
                yield spec, True, pa.Table.from_pylist(bad, schema=REJECTED_SCHEMA)
                bad = []
            if read % PROGRESS_ROWS == 0:
                print(f"[production_csv] {path.name}: {read:,} rows read so far")
        if good:
            yield spec, False, pa.Table.from_pylist(good, schema=spec.schema)
        if bad:
            yield spec, True, pa.Table.from_pylist(bad, schema=REJECTED_SCHEMA)
    stats.rows_read[path.name] = read
    stats.rows_loaded[path.name] = loaded
    stats.rows_rejected[path.name] = rejected
    print(
        f"[production_csv] {path.name}: {read:,} rows read, {loaded:,} loaded, "
        f"{rejected:,} rejected"
    )


def _already_loaded(
    name: str, sha256: str, loaded: dict[str, set[str]], seen: dict[str, str]
) -> str | None:
    """Why this file version need not be read again, or None."""
    if loaded.get(name) == {sha256}:
        return f"already loaded (sha256 {sha256[:12]})"
    if sha256 in seen:
        return f"same content as {seen[sha256]}, loaded in this run"
    for other, hashes in loaded.items():
        if other != name and hashes == {sha256}:
            return f"same content as {other}, already loaded"
    return None


@dlt.source(name="production_csv", max_table_nesting=0)
def production_csv_source(
    inbox_dir: str,
    pseudonymiser: Pseudonymiser,
    stats: CsvStats,
    specs: tuple[FileSpec, ...],
    loaded: dict[str, set[str]] | None = None,
) -> list:
    """Every CSV file of the inbox, each to the table its header says (`specs`: the park's
    exports.yaml). `loaded` is {file name: content hashes in the warehouse}; a version
    already there is skipped."""
    folder = Path(inbox_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"CSV inbox {folder} does not exist or is not a folder")
    known = loaded or {}

    @dlt.resource(
        name="production_exports",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        merge_key="_source_file",
    )
    def production_exports() -> Iterator[object]:
        seen: dict[str, str] = {}  # sha256 -> file name, in this run
        for path in inbox.inbox_files(folder):
            sha256, encoding = parsing.inspect_file(path)
            skip = _already_loaded(path.name, sha256, known, seen)
            if skip:
                stats.skipped_files[path.name] = skip
                stats.to_archive[path.name] = sha256
                print(f"[production_csv] {path.name}: skipped, {skip}")
                continue
            seen[sha256] = path.name
            try:
                for spec, is_rejected, batch in read_file(
                    path, sha256, encoding, pseudonymiser, stats, specs
                ):
                    yield dlt.mark.with_hints(
                        batch,
                        dlt.mark.make_hints(
                            table_name=spec.rejected_table if is_rejected else spec.table,
                            write_disposition={"disposition": "merge", "strategy": "delete-insert"},
                            merge_key="_source_file",
                            columns=REJECTED_COLUMNS if is_rejected else spec.column_hints,
                        ),
                        create_table_variant=True,
                    )
            except RefusedFileError as error:
                stats.refused_files[path.name] = str(error)
                moved = inbox.refuse(folder, path, sha256, str(error))
                print(f"[production_csv] refused {error} (moved to {moved})")
                continue
            except OSError as error:  # unreadable now: left in the inbox for the next run
                stats.refused_files[path.name] = f"{path.name}: {error}"
                print(f"[production_csv] could not read {path.name}: {error}")
                continue
            stats.loaded_files[path.name] = sha256
            stats.to_archive[path.name] = sha256

    return [production_exports]
