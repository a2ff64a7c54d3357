"""Load the production department's CSV inbox into `raw`, then tidy the inbox: rows of
superseded file versions removed, processed files archived."""

from __future__ import annotations

from pathlib import Path

from loaders import warehouse
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import Settings
from loaders.sources.landing import RAW_DATASET, SourceOutcome, dlt_pipeline, row_counts
from loaders.sources.production_csv import EXPORT_TABLES, CsvStats, production_csv_source
from loaders.sources.production_csv import inbox as csv_inbox
from loaders.sources.production_csv.specs import specs_of


def load_production_csv(settings: Settings, pseudonymiser: Pseudonymiser) -> SourceOutcome:
    """The inbox's new file versions; then earlier versions' rows are removed and every
    processed file is archived (only once the load has committed: a failed run leaves the
    inbox as it was)."""
    specs = specs_of(settings)  # the park's exports.yaml, checked before any file is read
    stats = CsvStats()
    pipeline, notes = dlt_pipeline(settings, "production_csv")
    inbox_dir = Path(settings.csv_inbox)
    connection = warehouse.connect(settings, "loader")
    try:
        loaded = csv_inbox.loaded_versions(connection, RAW_DATASET, EXPORT_TABLES)
        connection.rollback()
        pipeline.run(production_csv_source(str(inbox_dir), pseudonymiser, stats, specs, loaded))
        purged = csv_inbox.purge_superseded(
            connection, RAW_DATASET, EXPORT_TABLES, stats.loaded_files
        )
    finally:
        connection.close()
    if purged:
        print(f"[production_csv] {purged:,} rows of earlier file versions removed")
    for name, sha256 in stats.to_archive.items():
        csv_inbox.archive(inbox_dir, inbox_dir / name, sha256)
    error = "; ".join(stats.refused_files.values()) if stats.refused_files else None
    outcome = SourceOutcome(
        "production_csv",
        ok=not stats.refused_files,
        rows=row_counts(pipeline),
        details={
            "rows_read": stats.rows_read,
            "rows_loaded": stats.rows_loaded,
            "rows_rejected": stats.rows_rejected,
            "refused_files": stats.refused_files,
            "extra_columns": stats.extra_columns,
            "skipped_files": stats.skipped_files,
            "files_loaded": {name: sha[:12] for name, sha in stats.loaded_files.items()},
            "rows_of_earlier_versions_removed": purged,
        },
        error=error,
    )
    return outcome.add_pending_notes(notes)
