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
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dlt
import pyarrow as pa

from loaders import logs
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.sources import untrusted
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
# Three letters in a row: a word, so possibly a name or an e-mail address; a mistyped
# number or date ("12,5,3", "32/10/2025", "n/a", "12h30") has none.
_WORD = re.compile(r"[^\W\d_]{3,}")
_KIND_WORDS = {"number": "number", "date": "date", "datetime": "date and time"}
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
    to_archive: dict[str, inbox.InboxFile] = field(default_factory=dict)
    to_refuse: dict[str, inbox.InboxFile] = field(default_factory=dict)

    # name -> what only the reason file beside the refused file says (it may quote the
    # file's content, so it stays with the file, never in the run's errors or logs)
    refused_details: dict[str, str] = field(default_factory=dict)

    def refuse(self, file: inbox.InboxFile, reason: str, detail: str = "") -> None:
        """The file is refused as a whole: its counts go, it is moved to refused/ after
        the load (and any of its rows already handed on are deleted then)."""
        for counts in (self.rows_read, self.rows_loaded, self.rows_rejected):
            counts.pop(file.name, None)
        self.loaded_files.pop(file.name, None)
        self.to_archive.pop(file.name, None)
        self.refused_files[file.name] = reason
        if detail:
            self.refused_details[file.name] = detail
        self.to_refuse[file.name] = file

    # name -> headers no spec column names, kept in the rows' _extra_columns
    extra_columns: dict[str, list[str]] = field(default_factory=dict)

    def fully_rejected(self) -> dict[str, str]:
        """{name: why} for the files read whose every row was rejected: nothing of such a
        file landed, which the run must say as loudly as a refused file."""
        return {
            name: f"{name}: every row rejected ({read:,} rows; the reasons are in its "
            "raw.<table>__rejected table, by _source_file)"
            for name, read in self.rows_read.items()
            if read and not self.rows_loaded.get(name)
        }


class RefusedFileError(ValueError):
    """The file as a whole cannot be loaded (unknown header, missing columns). `detail`
    quotes the file (its first line) for the reason file beside it only: the message goes
    to the run's errors, the audit trail, the logs and the quality page, which must never
    hold a cell of a file, since a file without header puts a data line (a technician's
    name) where the header should be."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


def _position(column: Column, positions: dict[str, int]) -> int | None:
    """Where the column is in the header: its first header name (or alias) present."""
    return next((positions[key] for key in column.keys if key in positions), None)


# target -> its column's position; for a value made from other columns (from_columns),
# theirs; a constant (value) has none
Positions = dict[str, int | tuple[int, ...]]


def _locate(spec: FileSpec, positions: dict[str, int]) -> tuple[Positions, list[str]]:
    """(where each column of the spec is, the headers it needs that the file lacks)."""
    present: Positions = {}
    missing: list[str] = []
    for column in spec.columns:
        if column.constant is not None:
            continue
        if column.sources:
            found = [positions.get(parsing.header_key(name)) for name in column.sources]
            absent = [n for n, i in zip(column.sources, found, strict=True) if i is None]
            missing.extend(absent)
            if not absent:
                present[column.target] = tuple(index for index in found if index is not None)
            continue
        index = _position(column, positions)
        if index is not None:
            present[column.target] = index
        elif column.required:
            missing.append(column.header)
    return present, missing


def match_spec(
    path: Path, header: list[str], specs: tuple[FileSpec, ...]
) -> tuple[FileSpec, Positions]:
    """The spec this header belongs to and each column's position, or a refusal; the
    closest spec and its missing columns are named only when the file shares columns
    with it (an unrelated file is not "almost" any export)."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(parsing.header_key(name), index)
    best: tuple[int, FileSpec, list[str]] | None = None
    for spec in specs:
        present, missing = _locate(spec, positions)
        if not missing:
            return spec, present
        if present and (best is None or len(present) > best[0]):
            best = (len(present), spec, missing)
    if best is None:
        known = ", ".join(spec.name or spec.table for spec in specs)
        raise RefusedFileError(
            f"{path.name}: header shares no column with any known export ({known}); its "
            f"first line ({len(header)} cells, maybe data: a file without header) is "
            "quoted in the refused file's .reason.txt only",
            detail=f"first line as read: {', '.join(header)}",
        )
    _, spec, missing = best
    raise RefusedFileError(
        f"{path.name}: header does not match any known export; closest is "
        f"{spec.name or spec.table} ({spec.table}), missing column(s): {', '.join(missing)}"
    )


def _parse_row(
    spec: FileSpec, positions: Positions, fields: list[str], width: int
) -> tuple[dict[str, object], list[str]]:
    """(row, problems) for the fields of one record."""
    if len(fields) != width:
        return {}, [f"expected {width} fields, found {len(fields)}"]
    row: dict[str, object] = {}
    problems = []
    for column in spec.columns:
        index = positions.get(column.target)
        if column.constant is not None:
            text = column.constant
        elif isinstance(index, tuple):
            text = "".join(fields[i] for i in index)  # checked here, joined below
        else:
            text = fields[index] if index is not None else ""
        control = untrusted.control_character(text)
        if control:
            problems.append(f"{column.header}: control character {control} in the value")
            continue
        try:
            if isinstance(index, tuple):
                text = column.derive([fields[i] for i in index])
            value = column.parse(text)
        except parsing.FieldError as error:
            problems.append(_problem(column, text, error))
            continue
        if value is None and column.required:
            problems.append(f"{column.header}: required value is blank")
        row[column.target] = value
    if spec.interval and not problems:
        start_key, end_key = spec.interval
        start, end = row.get(start_key), row.get(end_key)
        index = positions.get(end_key)
        # an export without the end column (EDP's failure log) has no end to correct
        if start and end and end < start and isinstance(index, int):
            end_column = spec.column(end_key)
            if end_column.is_repeated_local_time(fields[index]):
                row[end_key] = end_column.parse(fields[index], fold=1)
    return row, problems


def _may_name_someone(column: Column, text: str) -> bool:
    """A cell of a number or date column holding a word it cannot be read as: a name or
    an e-mail written in the wrong column is as likely as a typo. Such a cell is kept as
    a token in the rejected line and is not quoted in the reason (the reason reaches the
    quality marts and the quality page, and is kept as long as the rejected line)."""
    if column.kind == "text" or not _WORD.search(text):
        return False
    try:
        column.parse(text)
    except parsing.FieldError:
        return True
    return False  # a date written with a month's name


def _problem(column: Column, text: str, error: parsing.FieldError) -> str:
    """The reason a value is refused, quoting the value unless it may name someone."""
    if not _may_name_someone(column, text):
        return str(error)
    return (
        f"{column.header}: not a {_KIND_WORDS[column.kind]}: a text, not quoted (it may "
        "name someone; the rejected line holds its token)"
    )


def _harmless(text: str) -> bool:
    """A cell that is no personal data whatever its column: blank, or a date (a number may
    be a phone or a badge number)."""
    if not text.strip():
        return True
    for parse in (parsing.parse_date, parsing.parse_local_datetime):
        try:
            parse(text, "")
        except parsing.FieldError:
            continue
        return True
    return False


def _rejected_line(
    spec: FileSpec,
    positions: Positions,
    fields: list[str],
    width: int,
    pseudonymiser: Pseudonymiser,
    separator: str,
) -> str:
    """The record as kept in the rejected table, personal data pseudonymised by meaning:
    in a record of the header's shape, a cell stays in clear only if its column is known
    and not personal (a column the spec does not know may hold anything); in a record of
    another shape no cell's meaning is known, so only blanks and dates stay."""
    if len(fields) == width:
        clear = {
            index
            for column in spec.columns
            if not column.personal
            and isinstance(index := positions.get(column.target), int)
            and not _may_name_someone(column, fields[index])
        }
        cells = [
            cell if index in clear else (pseudonymiser.token(cell) or "")
            for index, cell in enumerate(fields)
        ]
    else:
        cells = [cell if _harmless(cell) else (pseudonymiser.token(cell) or "") for cell in fields]
    return untrusted.printable(separator.join(cells))


def _records(handle, separator: str) -> Iterator[tuple[int, list[str]]]:  # noqa: ANN001
    """(first line number, fields) of each record after the header (line 1); a quoted
    field may span lines. A record the CSV reader refuses refuses the file, naming the line."""
    reader = csv.reader(handle, delimiter=separator)
    previous_end = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise RefusedFileError(
                f"line {previous_end + 1}: the CSV reader refuses the record ({error}); "
                "fix the export and drop it again"
            ) from None
        yield previous_end + 1, fields
        previous_end = reader.line_num + 1


def check_records(path: Path, encoding: str, name: str) -> None:
    """Read every record once without keeping any, so that a file the CSV reader refuses
    is refused before any of its rows is handed on (RefusedFileError naming the line)."""
    with path.open(encoding=encoding, newline="") as handle:
        separator = parsing.detect_separator(handle.readline())
        try:
            for _ in _records(handle, separator):
                pass
        except RefusedFileError as error:
            raise RefusedFileError(f"{name}: {error}") from None


def read_file(
    path: Path,
    sha256: str,
    encoding: str,
    pseudonymiser: Pseudonymiser,
    stats: CsvStats,
    specs: tuple[FileSpec, ...],
    name: str | None = None,
) -> Iterator[tuple[FileSpec, bool, pa.Table]]:
    """Yield (spec, is_rejected, Arrow batch) for one file, streaming. `name`: the file's
    name in the inbox when `path` is the copy read (inbox.take)."""
    name = name or path.name
    check_records(path, encoding, name)
    with path.open(encoding=encoding, newline="") as handle:
        header_line = handle.readline()
        separator = parsing.detect_separator(header_line)
        header = next(csv.reader([header_line], delimiter=separator), [])
        spec, positions = match_spec(Path(name), header, specs)
        origin = {"_source_file": name, "_source_file_sha256": sha256}
        # the cells of a value made from other columns are kept too, unless named
        named = {index for index in positions.values() if isinstance(index, int)}
        extras = {i: column for i, column in enumerate(header) if i not in named and column.strip()}
        if extras:
            stats.extra_columns[name] = list(extras.values())
            logs.event(
                "production_csv",
                f"{name}: columns not in export {spec.name}, kept in {EXTRA_COLUMN}: "
                f"{', '.join(extras.values())}",
                level="warning",
            )
        read = loaded = rejected = 0
        good: list[dict] = []
        bad: list[dict] = []
        personal = [c.target for c in spec.columns if c.personal]
        # An extra column is pseudonymised when the spec says it is personal, and in any
        # export with personal columns (its meaning is unknown: it may hold a name).
        personal_extras = {parsing.header_key(column) for column in spec.personal_extras}
        tokenised_extras = {
            i
            for i, column in extras.items()
            if personal or parsing.header_key(column) in personal_extras
        }
        for line, fields in _records(handle, separator):
            if not any(value.strip() for value in fields):
                continue
            read += 1
            row, problems = _parse_row(spec, positions, fields, len(header))
            if problems:
                rejected += 1
                bad.append(
                    {
                        **origin,
                        "_source_line": line,
                        "raw_line": _rejected_line(
                            spec, positions, fields, len(header), pseudonymiser, separator
                        ),
                        "reason": untrusted.printable("; ".join(problems)),
                    }
                )
            else:
                loaded += 1
                for target in personal:
                    value = row.get(target)
                    row[target] = pseudonymiser.token(value) if isinstance(value, str) else None
                if extras:
                    row[EXTRA_COLUMN] = json.dumps(
                        {
                            column: (pseudonymiser.token(fields[i]) or "")
                            if i in tokenised_extras and not _harmless(fields[i])
                            else fields[i]
                            for i, column in extras.items()
                        },
                        ensure_ascii=False,
                    )
                good.append({**row, **origin, "_source_line": line})
            if len(good) >= BATCH_ROWS:
                yield spec, False, pa.Table.from_pylist(good, schema=spec.schema)
                good = []
            if len(bad) >= BATCH_ROWS:
                yield spec, True, pa.Table.from_pylist(bad, schema=REJECTED_SCHEMA)
                bad = []
            if read % PROGRESS_ROWS == 0:
                logs.event("production_csv", f"{name}: {read:,} rows read so far")
        if good:
            yield spec, False, pa.Table.from_pylist(good, schema=spec.schema)
        if bad:
            yield spec, True, pa.Table.from_pylist(bad, schema=REJECTED_SCHEMA)
    stats.rows_read[name] = read
    stats.rows_loaded[name] = loaded
    stats.rows_rejected[name] = rejected
    logs.event(
        "production_csv", f"{name}: {read:,} rows read, {loaded:,} loaded, {rejected:,} rejected"
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


def take_inbox(folder: Path, stats: CsvStats) -> list[inbox.InboxFile]:
    """Every CSV file of the inbox copied aside and hashed (inbox.take). A file whose name
    cannot be recorded is refused at once; one that cannot be read now stays for the
    next run; both are named in the run's errors."""
    taken = []
    for path in inbox.inbox_files(folder):
        problem = inbox.name_problem(path)
        if problem:
            shown = inbox.shown_name(path)
            moved = inbox.refuse_name(folder, path, f"{shown}: {problem}")
            stats.refused_files[shown] = f"{shown}: {problem}"
            logs.event(
                "production_csv",
                f"refused {shown}: {problem} (moved to {moved.name})",
                level="warning",
            )
            continue
        try:
            taken.append(inbox.take(folder, path))
        except inbox.ChangedWhileReadError as error:
            stats.skipped_files[path.name] = str(error)
            logs.event("production_csv", str(error), level="warning")
        except OSError as error:  # unreadable now: left in the inbox for the next run
            stats.refused_files[path.name] = f"{path.name}: cannot be read now, {error}"
            logs.event("production_csv", f"could not read {path.name}: {error}", level="warning")
    return taken


@dlt.source(name="production_csv", max_table_nesting=0)
def production_csv_source(
    inbox_dir: str,
    pseudonymiser: Pseudonymiser,
    stats: CsvStats,
    specs: tuple[FileSpec, ...],
    loaded: dict[str, set[str]] | None = None,
    files: list[inbox.InboxFile] | None = None,
) -> list:
    """Every CSV file of the inbox (or `files`, taken already), each to the table its
    header says (`specs`: the park's exports.yaml). `loaded` is {file name: content hashes
    in the warehouse}; a version already there is skipped. Whatever a file holds, it is
    refused alone (with why) and the others are read: a refusal before its first row is
    the rule (header, records the CSV reader refuses); a failure later is recorded the same
    way, and the load deletes the rows of that file already handed on."""
    folder = Path(inbox_dir)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"CSV inbox {folder} does not exist or is not a folder: create it or set "
            "WINDFARM_CSV_INBOX"
        )
    known = loaded or {}
    chosen = files if files is not None else take_inbox(folder, stats)

    @dlt.resource(
        name="production_exports",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        merge_key="_source_file",
    )
    def production_exports() -> Iterator[object]:
        seen: dict[str, str] = {}  # sha256 -> file name, in this run
        for file in chosen:
            skip = _already_loaded(file.name, file.sha256, known, seen)
            if skip:
                stats.skipped_files[file.name] = skip
                stats.to_archive[file.name] = file
                logs.event("production_csv", f"{file.name}: skipped, {skip}")
                continue
            seen[file.sha256] = file.name
            try:
                for spec, is_rejected, batch in read_file(
                    file.copy,
                    file.sha256,
                    file.encoding,
                    pseudonymiser,
                    stats,
                    specs,
                    name=file.name,
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
                stats.refuse(file, str(error), error.detail)
                logs.event("production_csv", f"refused {error}", level="warning")
                continue
            except Exception as error:  # noqa: BLE001 - one file must not stop the others
                reason = f"{file.name}: cannot be read: {type(error).__name__}: {error}"
                stats.refuse(file, untrusted.printable(reason)[:2000])
                logs.event("production_csv", f"refused {reason[:500]}", level="warning")
                continue
            stats.loaded_files[file.name] = file.sha256
            stats.to_archive[file.name] = file

    return [production_exports]
