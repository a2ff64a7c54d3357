"""Load the production department's CSV inbox into `raw`, then tidy the inbox: rows of
superseded file versions removed (clean and rejected alike), processed files archived,
refused files set aside. A file refused, or read with every row rejected, fails the
source in part: the run is `partial` and names it.

Reading, parsing and landing are apart, so that no file can block another or a later run:
every file is copied aside and hashed first (`take_inbox`); the source parses the copies
and refuses a file alone, with why; and if PostgreSQL still refuses the rows of the load
package (a reason that will not change), the package is set aside (`landing.land`) and
the files are landed one by one, so that only the file(s) it refuses are refused.
"""

from __future__ import annotations

from pathlib import Path

import dlt

from loaders import logs, warehouse
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import Settings
from loaders.sources import landing
from loaders.sources.landing import RAW_DATASET, SourceOutcome, dlt_pipeline, row_counts
from loaders.sources.production_csv import (
    EXPORT_TABLES,
    CsvStats,
    production_csv_source,
    take_inbox,
)
from loaders.sources.production_csv import inbox as csv_inbox
from loaders.sources.production_csv.specs import FileSpec, specs_of


def _land(
    pipeline: dlt.Pipeline,
    inbox_dir: Path,
    pseudonymiser: Pseudonymiser,
    stats: CsvStats,
    specs: tuple[FileSpec, ...],
    loaded: dict[str, set[str]],
    files: list[csv_inbox.InboxFile],
) -> dict[str, int]:
    """Land the files in one package; if PostgreSQL refuses it for good, one package per
    file, each file it still refuses refused alone. Returns rows per table."""

    def source(chosen: list[csv_inbox.InboxFile]) -> object:
        return production_csv_source(
            str(inbox_dir), pseudonymiser, stats, specs, loaded, files=chosen
        )

    try:
        landing.land(pipeline, source(files), "production_csv")
        return row_counts(pipeline)
    except landing.PackageSetAside as error:
        logs.event("production_csv", f"{error}; landing the files one by one", level="warning")
    rows: dict[str, int] = {}
    for file in files:
        if file.name in stats.to_refuse:
            continue
        try:
            landing.land(pipeline, source([file]), "production_csv")
        except landing.PackageSetAside as error:
            stats.refuse(file, f"{file.name}: PostgreSQL refuses its rows ({error.cause})")
            continue
        for table, count in row_counts(pipeline).items():
            rows[table] = rows.get(table, 0) + count
    return rows


def load_production_csv(settings: Settings, pseudonymiser: Pseudonymiser) -> SourceOutcome:
    """The inbox's new file versions; then earlier versions' rows are removed and every
    processed file is archived (only once the load has committed: a failed run leaves the
    inbox as it was)."""
    specs = specs_of(settings)  # the park's exports.yaml, checked before any file is read
    stats = CsvStats()
    pipeline, notes = dlt_pipeline(settings, "production_csv")
    inbox_dir = Path(settings.csv_inbox)
    if not inbox_dir.is_dir():
        raise FileNotFoundError(
            f"CSV inbox {inbox_dir} does not exist or is not a folder: create it or set "
            "WINDFARM_CSV_INBOX"
        )
    csv_inbox.clear_reading(inbox_dir)
    files = take_inbox(inbox_dir, stats)
    try:
        connection = warehouse.connect(settings, "loader")
        try:
            loaded = csv_inbox.loaded_versions(connection, RAW_DATASET, EXPORT_TABLES)
            connection.rollback()
            rows = _land(pipeline, inbox_dir, pseudonymiser, stats, specs, loaded, files)
            purged = csv_inbox.purge_superseded(
                connection, RAW_DATASET, EXPORT_TABLES, stats.loaded_files
            )
            csv_inbox.purge_file_versions(
                connection,
                RAW_DATASET,
                EXPORT_TABLES,
                {name: file.sha256 for name, file in stats.to_refuse.items()},
            )
        finally:
            connection.close()
        if purged:
            logs.event("production_csv", f"{purged:,} rows of earlier file versions removed")
        for file in stats.to_archive.values():
            csv_inbox.archive(inbox_dir, file)
        for name, file in stats.to_refuse.items():
            reason = "\n".join(
                filter(None, (stats.refused_files[name], stats.refused_details.get(name)))
            )
            moved = csv_inbox.refuse(inbox_dir, file, reason)
            logs.event("production_csv", f"{name} moved to {moved.parent.name}/{moved.name}")
    finally:
        csv_inbox.clear_reading(inbox_dir)
    fully_rejected = stats.fully_rejected()
    for reason in fully_rejected.values():
        logs.event("production_csv", reason, level="error")
    problems = [*stats.refused_files.values(), *fully_rejected.values()]
    error = "; ".join(problems) if problems else None
    outcome = SourceOutcome(
        "production_csv",
        ok=not problems,
        rows=rows,
        details={
            "rows_read": stats.rows_read,
            "rows_loaded": stats.rows_loaded,
            "rows_rejected": stats.rows_rejected,
            "refused_files": stats.refused_files,
            "fully_rejected_files": sorted(fully_rejected),
            "extra_columns": stats.extra_columns,
            "skipped_files": stats.skipped_files,
            "files_loaded": {name: sha[:12] for name, sha in stats.loaded_files.items()},
            "rows_of_earlier_versions_removed": purged,
        },
        error=error,
    )
    return outcome.add_pending_notes(notes)
