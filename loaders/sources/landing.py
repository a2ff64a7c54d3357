"""dlt plumbing shared by the three sources: the pipeline that lands a source in `raw` as
the loader role, what to do about packages an earlier run left pending, packages that
can never load, and the outcome a source reports to the run.

dlt reads its own settings from the environment; `apply_dlt_defaults()` sets the ones this
project tunes (each can still be overridden by setting the variable), once, when the
first pipeline is opened rather than when a module is imported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dlt
from dlt.common.destination.exceptions import DestinationTerminalException
from dlt.destinations.impl.postgres.configuration import PostgresCredentials
from dlt.pipeline.exceptions import PipelineStepFailed

from loaders import logs
from loaders.settings import Settings
from loaders.sources.sensor_db import arrow_reader

RAW_DATASET = "raw"
# PostgreSQL error classes that retrying the same rows cannot change: data exceptions
# (a byte the encoding refuses, a value out of range), integrity constraint violations,
# and syntax or access rule violations (a column of another type than the rows').
_PERMANENT_SQLSTATE_CLASSES = ("22", "23", "42")


class PackageSetAside(RuntimeError):
    """The load package could not load for a reason that will not change: it was aborted
    (dlt's `abort_packages`) rather than left pending to be retried on every run.
    `cause`: what PostgreSQL said."""

    def __init__(self, message: str, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


DLT_DEFAULTS = {
    # dlt gzips its intermediate files by default: most of the load time on these volumes.
    "DATA_WRITER__DISABLE_COMPRESSION": "true",
    # Arrow tables skip dlt's row normaliser, and with it the load id: ask for it, as every
    # raw row must say which load brought it.
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "true",
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID": "true",
    # The sensor source makes the row ids of its Arrow tables itself (sensor_db.RowIds): dlt
    # need not rewrite its files to add them, and imports them as they were extracted.
    "WINDFARM_SENSOR_DB__NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID": "false",
    # One file per Arrow batch: the files of a large window load in parallel, two at a
    # time: each load job holds its file's rows in memory, and more jobs than the machine's
    # two cores only added memory (a year of 100 turbines: 1.7 GiB with dlt's default of
    # 20, 0.7 GiB and faster with 2; docs/performance.md).
    "DATA_WRITER__FILE_MAX_ITEMS": str(arrow_reader.BATCH_ROWS),
    "LOAD__WORKERS": "2",
}


def apply_dlt_defaults() -> None:
    """The project's dlt settings, unless the environment sets them already."""
    for name, value in DLT_DEFAULTS.items():
        os.environ.setdefault(name, value)


@dataclass
class SourceOutcome:
    """What one source's load says to the run: rows per raw table, details for the audit
    row, and the error when it failed (in whole, or in part with `ok` False)."""

    name: str
    ok: bool
    rows: dict[str, int] = field(default_factory=dict)
    details: dict[str, object] = field(default_factory=dict)
    error: str | None = None

    def add_pending_notes(self, notes: list[str]) -> SourceOutcome:
        """Record what `dlt_pipeline` did about packages left pending; a discarded
        package fails the source, since its days must be reloaded."""
        if not notes:
            return self
        self.details["pending_packages"] = notes
        discarded = [note for note in notes if note.startswith("discarded")]
        if discarded:
            self.ok = False
            self.error = "; ".join(filter(None, [self.error, *discarded]))[:2000]
        return self


def dlt_pipeline(settings: Settings, name: str) -> tuple[dlt.Pipeline, list[str]]:
    """A dlt pipeline landing in `raw` as the loader role; local state kept per database.

    A load package left pending by an interrupted run is dealt with first, deliberately
    (`_finish_pending`): otherwise dlt would load it and ignore the new data of this run.
    Returns the pipeline and what was done about such packages (for the audit row: see
    `SourceOutcome.add_pending_notes`).
    """
    apply_dlt_defaults()
    credentials = PostgresCredentials()
    credentials.parse_native_representation(settings.sqlalchemy_url("loader"))
    credentials.resolve()  # an empty password is legitimate (trust, peer or cert auth)
    pipeline = dlt.pipeline(
        pipeline_name=f"windfarm_{name}",
        destination=dlt.destinations.postgres(credentials=credentials, create_indexes=False),
        dataset_name=RAW_DATASET,
        pipelines_dir=str(Path(settings.dlt_dir) / settings.database),
        progress="log" if os.environ.get("WINDFARM_DLT_PROGRESS") else None,
    )
    notes = _finish_pending(pipeline, name) if pipeline.has_pending_data else []
    return pipeline, notes


def _finish_pending(pipeline: dlt.Pipeline, name: str) -> list[str]:
    """Finish the packages an earlier run left, or set them aside when they cannot load.

    Finishing is the default: the package holds rows read from the source that the
    warehouse does not have yet (the run was killed, or the database went away during
    its load). A package whose load fails for a reason that will not go away (a row the
    table refuses, a schema that changed under it) is aborted with dlt's `abort_packages`,
    said loudly, and the source is marked failed so that the run is partial: this run
    re-extracts its own window, and the days of that package are reloaded by the next
    runs' lookback or `run --from … --to … --force`. A transient failure (the database
    went away again) keeps the package for the next run.
    """
    pending = [*pipeline.list_extracted_load_packages(), *pipeline.list_normalized_load_packages()]
    logs.event(
        name,
        f"finishing load package(s) {', '.join(pending)} that an earlier run extracted but "
        "did not finish loading (stopped, or the database went away)",
        level="warning",
        source=name,
    )
    try:
        pipeline.normalize()
        pipeline.load()
    except PipelineStepFailed as error:
        if not cannot_load(error):
            raise
        pipeline.abort_packages()
        note = (
            f"discarded load package(s) {', '.join(pending)} left by an earlier run: they "
            f"cannot be loaded ({describe(error)}); their days must be reloaded"
        )
        logs.event(name, note, level="error", source=name)
        return [note]
    return [f"finished load package(s) {', '.join(pending)} left by an earlier run"]


def cannot_load(error: BaseException) -> bool:
    """True when a load failed for a reason that retrying the same package cannot change."""
    for cause in causes(error):
        if isinstance(cause, DestinationTerminalException):
            return True
        # psycopg2 says `pgcode`, the ADBC driver of the Parquet path `sqlstate`
        sqlstate = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate[:2] in _PERMANENT_SQLSTATE_CLASSES:
            return True
    return False


def land(pipeline: dlt.Pipeline, data: object, name: str, **options: object) -> object:
    """`pipeline.run(data)`; a package whose load fails for a reason that will not change
    is aborted at once (never retried by every later run, blocking its source) and
    PackageSetAside says why. Any other failure propagates, the package kept pending."""
    try:
        return pipeline.run(data, **options)  # type: ignore[arg-type]
    except PipelineStepFailed as error:
        if error.step != "load" or not cannot_load(error):
            raise
        load_id, cause = error.load_id, describe(error)
        pipeline.abort_packages()
        note = (
            f"set aside load package {load_id}: PostgreSQL refuses its rows ({cause}); "
            "it will not be retried"
        )
        logs.event(name, note, level="error", source=name)
        raise PackageSetAside(note, cause) from None


def causes(error: BaseException) -> Iterator[BaseException]:
    """The error and what caused it, outermost first (dlt wraps the real cause twice)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        nested = getattr(current, "exception", None)
        if not isinstance(nested, BaseException):
            nested = getattr(current, "client_exception", None)  # dlt's job retries
        if isinstance(nested, BaseException):
            current = nested
        elif current.__cause__ is not None or current.__suppress_context__:
            # `raise … from None`: the error said all there is to say (the weather client's
            # message names the request; the JSON parser's own error does not)
            current = current.__cause__
        else:
            current = current.__context__


def describe(error: BaseException) -> str:
    """The innermost cause, which names the file, the request or the table; plus the dlt
    step it happened in. dlt's own wrapping adds package ids and paths nobody needs."""
    chain = list(causes(error))
    root = chain[-1]
    text = f"{type(root).__name__}: {root}".strip()
    step = next((c.step for c in chain if isinstance(c, PipelineStepFailed)), None)
    return " ".join(text.split()) + (f" (dlt {step} step)" if step else "")


def row_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    info = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
    counts = dict(info.row_counts) if info else {}
    return {table: rows for table, rows in counts.items() if not table.startswith("_dlt")}
