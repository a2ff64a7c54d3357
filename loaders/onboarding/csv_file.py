"""`inspect --source csv FILE`: an export file profiled, matched against the park's export
specs (exports.yaml), and read by the CSV loader itself without landing anything.

The dry run calls the loader's own `read_file`: the same spec matching, parsing and
pseudonymisation, so its counts and reasons are those a load would give. The file stays
where it is (a load would archive or refuse it); the warehouse is only read, to say
whether this version of the file is already loaded.
"""

from __future__ import annotations

import contextlib
import csv
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import psycopg2

from loaders import park_config, warehouse
from loaders.onboarding.profile import column_profile
from loaders.onboarding.sensor_db import REASON_EXAMPLES, InspectError, dry_run_key, propose_mapping
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import Settings
from loaders.sources.landing import RAW_DATASET
from loaders.sources.production_csv import (
    CsvStats,
    RefusedFileError,
    match_spec,
    parsing,
    read_file,
)
from loaders.sources.production_csv import inbox as csv_inbox
from loaders.sources.production_csv.specs import EXPORT_TABLES, EXTRA_COLUMN, TABLES, specs_of

PROFILE_ROWS = 50_000
REASONS_SHOWN = 20


def _header_and_sample(path: Path, encoding: str) -> tuple[str, list[str], list[list[str]]]:
    """(separator, header, the first PROFILE_ROWS records of the header's width)."""
    with path.open(encoding=encoding, newline="") as handle:
        header_line = handle.readline()
        separator = parsing.detect_separator(header_line)
        header = next(csv.reader([header_line], delimiter=separator), [])
        records = []
        for fields in csv.reader(handle, delimiter=separator):
            if len(fields) == len(header):
                records.append(fields)
            if len(records) >= PROFILE_ROWS:
                break
    return separator, header, records


def profile_file(header: list[str], records: list[list[str]]) -> list[dict[str, object]]:
    frame = pd.DataFrame(records, columns=range(len(header)), dtype="object")
    frame = frame.apply(lambda column: column.str.strip()).replace("", pd.NA)
    return [column_profile(name, frame[index]) for index, name in enumerate(header)]


def _spec_match(path: Path, header: list[str], settings: Settings) -> dict[str, object]:
    """Which export spec the header is, which of its columns are found, what is extra."""
    specs = specs_of(settings)
    if not specs:
        return {"refused": "the park sends no production export (exports in park.yaml is '')"}
    try:
        spec, positions = match_spec(path, header, specs)
    except RefusedFileError as error:
        return {"refused": str(error)}
    named = set(positions.values())
    targets = {c.target for c in spec.columns}
    return {
        "spec": spec.name,
        "table": spec.table,
        "columns": {
            c.target: header[positions[c.target]] for c in spec.columns if c.target in positions
        },
        "absent_optional": [c.target for c in spec.columns if c.target not in positions],
        "targets_not_in_spec": [t for t in TABLES[spec.table] if t not in targets],
        "personal": [
            header[positions[c.target]]
            for c in spec.columns
            if c.personal and c.target in positions
        ],
        "extra_columns": [n for i, n in enumerate(header) if i not in named and n.strip()],
        "extras_kept_in": EXTRA_COLUMN,
    }


def _already_loaded(settings: Settings, name: str, sha256: str) -> str | None:
    """Whether the warehouse holds this version of the file (read only), or None."""
    try:
        connection = warehouse.connect(settings, "loader")
    except (psycopg2.Error, warehouse.WarehouseError) as error:
        return f"not checked: the warehouse does not answer ({' '.join(str(error).split())})"
    try:
        versions = csv_inbox.loaded_versions(connection, RAW_DATASET, EXPORT_TABLES)
    finally:
        connection.rollback()
        connection.close()
    if sha256 in versions.get(name, set()):
        return "this version is already loaded: a run would skip it"
    if name in versions:
        return "another version is loaded: a run would replace its rows with this file's"
    return None


def dry_run(settings: Settings, path: Path, sha256: str, encoding: str) -> dict[str, object]:
    """Per table, the rows a load of this file would land and reject, and why."""
    stats = CsvStats()
    landed: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    reasons: Counter[tuple[str, str]] = Counter()
    lines: dict[tuple[str, str], list[int]] = {}
    pseudonymiser = Pseudonymiser(dry_run_key(settings))
    try:
        for spec, is_rejected, batch in read_file(
            path, sha256, encoding, pseudonymiser, stats, specs_of(settings)
        ):
            if not is_rejected:
                landed[spec.table] += batch.num_rows
                continue
            rejected[spec.rejected_table] += batch.num_rows
            for reason, line in zip(
                batch.column("reason").to_pylist(),
                batch.column("_source_line").to_pylist(),
                strict=True,
            ):
                key = (spec.rejected_table, reason)
                reasons[key] += 1
                shown = lines.setdefault(key, [])
                if len(shown) < REASON_EXAMPLES:
                    shown.append(int(line))
    except RefusedFileError as error:
        return {"refused": str(error), "would_move_to": csv_inbox.REFUSED_DIR}
    tables: dict[str, dict[str, object]] = {}
    for table in sorted(set(landed) | {t.removesuffix("__rejected") for t in rejected}):
        rejected_table = f"{table}__rejected"
        tables[table] = {
            "would_land": landed[table],
            "would_reject": rejected[rejected_table],
            "reasons": [
                {"reason": reason, "rows": n, "lines": lines[(t, reason)]}
                for (t, reason), n in reasons.most_common()
                if t == rejected_table
            ][:REASONS_SHOWN],
        }
    return {
        "rows_read": stats.rows_read.get(path.name, 0),
        "tables": tables,
        "extra_columns": stats.extra_columns.get(path.name, []),
    }


def inspect_csv(settings: Settings, path: Path) -> dict[str, object]:
    """Profile, spec match and dry run of one export file."""
    park = park_config.park_of(settings)
    if not path.is_file():
        raise InspectError(f"{path}: no such file")
    sha256, encoding = parsing.inspect_file(path)
    separator, header, records = _header_and_sample(path, encoding)
    profiles = profile_file(header, records)
    report: dict[str, object] = {
        "source": "csv",
        "park": park.name,
        "file": str(path),
        "sha256": sha256,
        "encoding": encoding,
        "separator": separator,
        "profiled_rows": len(records),
        "columns": profiles,
        "empty_columns": [p["name"] for p in profiles if p["empty"]],
        "spec_match": _spec_match(path, header, settings),
    }
    if specs_of(settings):
        with contextlib.redirect_stdout(sys.stderr):  # the loader's progress lines
            report["dry_run"] = dry_run(settings, path, sha256, encoding)
    loaded = _already_loaded(settings, path.name, sha256)
    if loaded:
        report["warehouse"] = loaded
    if "refused" in report["spec_match"]:  # type: ignore[operator]
        # not an export: perhaps a historian's export, mapped by the park's historian.csv
        proposed = propose_mapping(profiles, park)
        if len(proposed["rows"]) > 2:  # type: ignore[arg-type]
            report["proposed_historian_mapping"] = proposed
    return report
