"""One pipeline run: extract-load every source, `dbt build`, the quality page, the audit row.

A source that fails is recorded and the others still load; the run is then `partial`, as
it is when a source fails in part (a CSV file refused, or read with every row rejected; a
turbine's day of sensor rows every one of which was rejected: the source's error names
them) and while rows are held aside because the configuration does not know their turbine,
site, alarm code, intervention type or component (loaders/run/held_aside.py).
Exit codes: 0 success, 2 partial (a source failed in whole or in part, or rows are held
aside), 1 failed (dbt failed or nothing loaded), 3 refused (another run holds the lock:
nothing was done).
docs/operations.md has the rest:
backfill (loaders/run/scheduling.py), recovery after a killed run (loaders/run/recovery.py).

The skeleton is written once (`_audited`): lock -> audit row opened -> the work (load the
sources and/or `dbt build`) -> status -> audit row closed -> quality page.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from loaders import logs, park_config
from loaders.privacy import keys, retention, rights
from loaders.reports import elementary, write_report
from loaders.run import audit, held_aside, recovery, reprocess, runlock, security_checks
from loaders.settings import Settings
from loaders.sources.landing import SourceOutcome, causes, describe
from loaders.sources.production_csv.load import load_production_csv
from loaders.sources.sensor_db.load import load_sensor_db
from loaders.sources.weather_api.load import load_weather
from loaders.transform import dbt

EXIT_SUCCESS, EXIT_FAILED, EXIT_PARTIAL, EXIT_LOCKED = 0, 1, 2, 3
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


@dataclass
class RunOutcome:
    run_id: str
    status: str
    sources: list[SourceOutcome]
    dbt: dbt.DbtOutcome
    report_path: str | None
    date_from: date | None = None
    date_to: date | None = None
    # the values the configuration does not know, when the build held rows aside
    held_aside: str | None = None

    @property
    def exit_code(self) -> int:
        return exit_code(self.status)

    def errors(self) -> dict[str, object]:
        errors: dict[str, object] = {s.name: s.error for s in self.sources if s.error}
        if self.dbt.failures:
            errors["dbt"] = [f"{f['node']}: {f['status']}" for f in self.dbt.failures]
        elif self.dbt.status not in ("success", "deferred"):
            errors["dbt"] = f"dbt build {self.dbt.status}"
        if self.held_aside:
            errors["held_aside"] = self.held_aside
        return errors

    def summary(self) -> dict[str, Any]:
        """What an alert or `--log-json` says about the run."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "exit_code": self.exit_code,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "sources": {
                s.name: {"ok": s.ok, "rows": sum(s.rows.values()), "error": s.error}
                for s in self.sources
            },
            "dbt_status": self.dbt.status,
            "errors": self.errors(),
            "report_path": self.report_path,
        }


def exit_code(status: str) -> int:
    return {"success": EXIT_SUCCESS, "partial": EXIT_PARTIAL}.get(status, EXIT_FAILED)


def new_run_id(suffix: str = "") -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}{suffix}"


def _guarded(
    name: str, load: Callable[[], SourceOutcome], settings: Settings | None = None
) -> SourceOutcome:
    """Run one source; any failure is recorded with its cause, never raised.

    Interruptions (SIGTERM, Ctrl-C: KeyboardInterrupt and dlt's SignalReceivedException) are
    not failures of the source: they propagate and end the run.
    """
    logs.event(name, "loading", source=name)
    try:
        outcome = load()
    except Exception as error:  # noqa: BLE001 - one source must not stop the others
        message = describe(error)
        if settings is not None:
            message += _storage_hint(settings, name, error)
        logs.event(name, f"FAILED: {message}", level="error", source=name)
        if os.environ.get("WINDFARM_DEBUG"):
            traceback.print_exc()
        return SourceOutcome(name, ok=False, error=message[:2000])
    rows = sum(outcome.rows.values())
    tables = ", ".join(f"{table} {count:,}" for table, count in sorted(outcome.rows.items()))
    level = "info" if outcome.ok else "error"
    text = f"loaded {rows:,} rows ({tables or 'no table'})"
    if not outcome.ok:
        text += f"; FAILED in part: {outcome.error}"
    logs.event(name, text, level=level, source=name, rows=rows, tables=outcome.rows)
    return outcome


def _storage_hint(settings: Settings, name: str, error: BaseException) -> str:
    """A full disk or a refused write often comes without a file name (a write, not an
    open): say which of the folders the source writes to is short of space, or which it is."""
    root = list(causes(error))[-1]
    if not isinstance(root, OSError) or root.filename or root.errno not in _STORAGE_ERRNOS:
        return ""
    folders = {"dlt working folder": Path(settings.dlt_dir) / settings.database}
    if name == "production_csv":
        folders["CSV inbox"] = Path(settings.csv_inbox)
    described = []
    for label, folder in folders.items():
        existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if existing is None:
            continue
        free = shutil.disk_usage(existing).free
        described.append(f"{label} {folder}: {free / 1e6:,.1f} MB free")
    return f" (writing to: {'; '.join(described)})" if described else ""


@contextmanager
def _run_lock(settings: Settings, owner: str, held: runlock.RunLock | None) -> Iterator[None]:
    """The caller's lock (a backfill holds one for all its days) or one for this run."""
    if held is not None:
        yield
        return
    with runlock.hold(settings, owner):
        yield


def _status(
    sources: list[SourceOutcome], dbt_outcome: dbt.DbtOutcome, held: str | None = None
) -> str:
    failed_sources = [s for s in sources if not s.ok]
    if dbt_outcome.status not in ("success", "deferred") or (
        sources and len(failed_sources) == len(sources)
    ):
        return "failed"
    return "partial" if failed_sources or held else "success"


def _build(settings: Settings, date_from: date, date_to: date) -> dbt.DbtOutcome:
    """The run's `dbt build`; when it publishes an alarm code, intervention type or
    component held aside until now, whose rows start before the run's days, a second
    build rewrites the incremental models from that first day (held_aside.py: the states
    and labels of those periods change too), as `rebuild --from` would by hand. Its
    monitors still judge the run's own days."""
    before = held_aside.first_days(settings)
    outcome = elementary.build(settings, date_from, date_to)
    if outcome.status != "success":
        return outcome
    learnt = held_aside.published_since(settings, before)
    older = {key: day for key, day in learnt.items() if day < date_from}
    if not older:
        return outcome
    first = min(older.values())
    _, newest = reprocess.loaded_span(settings)
    extra, reprocess_days = reprocess.from_day(max(newest or date_to, date_to), first)
    named = ", ".join(f"{column} {value}" for column, value in sorted(older))
    logs.event(
        "dbt",
        f"now known, published from {first}: {named}; the incremental models are built "
        f"again from that day (reprocess_days={reprocess_days})",
    )
    return elementary.build(settings, date_from, date_to, *extra)


def _held_aside(settings: Settings, dbt_outcome: dbt.DbtOutcome) -> str | None:
    """After a successful build: the values whose rows the marts hold aside (the whole
    mart, not only this run's days: rows stay held aside until the configuration knows
    them, and every run says so)."""
    if dbt_outcome.status != "success":
        return None
    try:
        held = held_aside.message(settings)
    except Exception as error:  # noqa: BLE001 - the page and the audit row still matter
        logs.event("run", f"could not read the held-aside rows: {error}", level="warning")
        return None
    if held:
        logs.event("run", held, level="warning")
    return held


def _weather_catch_up(settings: Settings, run_id: str, date_from: date) -> list[date]:
    """Earlier days to ask the weather API for again: covered by an earlier run but still
    without complete weather (the API was down that night). The request then starts at
    the first of them."""
    try:
        missing = recovery.weather_days_to_catch_up(settings, run_id, date_from)
    except Exception as error:  # noqa: BLE001 - catching up is a bonus, never a failure
        logs.event("weather_api", f"could not look for days to catch up: {error}", level="warning")
        return []
    if missing:
        logs.event(
            "weather_api",
            f"catching up {', '.join(f'{day}' for day in missing)}: covered by an earlier "
            "run but without complete weather",
            source="weather_api",
            catch_up=[f"{day}" for day in missing],
        )
    return missing


def _purge_expired(settings: Settings, run_id: str) -> None:
    """Retention (loaders/privacy/retention.py): what outlived its period goes, before dbt
    builds on it. A purge that fails is logged and retried by the next run; it never fails
    the day's data."""
    try:
        report = retention.purge(settings, reference=run_id)
    except Exception as error:  # noqa: BLE001 - retention is retried tomorrow
        logs.event("retention", f"purge failed: {error}", level="warning")
        return
    level = "warning" if report.errors else "info"
    logs.event("retention", "; ".join(report.lines()), level=level, purged=report.purged)


Work = Callable[[str], tuple[list[SourceOutcome], dbt.DbtOutcome]]


def _audited(
    settings: Settings,
    run_id: str,
    date_from: date,
    date_to: date,
    work: Work,
    *,
    headline: str,
    with_report: bool,
    lock: runlock.RunLock | None,
) -> RunOutcome:
    """The run skeleton, once for every kind of run: lock -> interrupted runs closed ->
    audit row opened -> `work(run_id)` -> status -> audit row closed -> quality page.

    An interruption or a bug inside `work` closes the audit row as failed, then propagates."""
    with _run_lock(settings, run_id, lock), logs.run_scope(run_id):
        logs.event(
            "run",
            f"{run_id}: {headline}",
            date_from=date_from,
            date_to=date_to,
            database=settings.database,
        )
        for closed in recovery.close_interrupted_runs(settings, run_id):
            logs.event("run", f"run {closed} never finished: recorded as failed", level="warning")
        audit.record_start(settings, run_id, date_from, date_to)
        try:
            sources, dbt_outcome = work(run_id)
        except BaseException as error:  # an interruption or a bug: close the audit row first
            _record_interruption(settings, run_id, error)
            raise
        held = _held_aside(settings, dbt_outcome)
        status = _status(sources, dbt_outcome, held)
        report_path = report_file(settings, run_id) if with_report else None
        outcome = RunOutcome(
            run_id,
            status,
            sources,
            dbt_outcome,
            str(report_path) if report_path else None,
            date_from,
            date_to,
            held,
        )
        errors = outcome.errors()
        if dbt_outcome.failures:
            errors["dbt"] = dbt_outcome.failures
        audit.record_end(
            settings,
            run_id,
            status=status,
            rows_by_source={s.name: {"tables": s.rows, **s.details} for s in sources},
            errors=errors,
            dbt_status=dbt_outcome.status,
            report_path=str(report_path) if report_path else None,
        )
        if with_report:  # the daily run and rebuilds: what an auditor would check
            security_checks.run(settings, run_id)
        if report_path and not _write_report(settings, run_id):
            outcome.report_path = None
        logs.event(
            "run",
            f"{run_id}: {status}",
            level="info" if status == "success" else "error",
            status=status,
            exit_code=outcome.exit_code,
        )
        return outcome


def run(
    settings: Settings,
    date_from: date,
    date_to: date,
    *,
    with_report: bool = True,
    build: bool = True,
    lock: runlock.RunLock | None = None,
) -> RunOutcome:
    """The whole day (or range) in one step: what cron calls through `python -m loaders run`.

    Holds the run lock for its duration (RunLockedError if another run has it) unless the
    caller already holds it; `build=False` loads only (dbt deferred to the caller, as a
    backfill does). Raises WarehouseError, before anything is written, when PostgreSQL
    cannot be reached, and ParkConfigError when the park's configuration is not valid.
    """
    park_config.check(settings)  # the whole folder, before any source loads

    # Refused before anything is written; people who objected or are restricted load blank.
    pseudonymiser = keys.pseudonymiser(settings, rights.suppressed(settings))

    def load_and_build(run_id: str) -> tuple[list[SourceOutcome], dbt.DbtOutcome]:
        catch_up = _weather_catch_up(settings, run_id, date_from)
        weather_from = min([date_from, *catch_up])
        sources = [
            _guarded(
                "sensor_db",
                lambda: load_sensor_db(settings, date_from, date_to, pseudonymiser),
                settings,
            ),
            _guarded(
                "production_csv",
                lambda: load_production_csv(settings, pseudonymiser),
                settings,
            ),
            _guarded(
                "weather_api",
                lambda: load_weather(settings, weather_from, date_to),
                settings,
            ),
        ]
        if catch_up:
            sources[-1].details["caught_up_days"] = [f"{day}" for day in catch_up]
        _purge_expired(settings, run_id)
        if not build:
            logs.event("dbt", "dbt build deferred: the caller builds once for all its days")
            return sources, dbt.DbtOutcome(status="deferred")
        return sources, _build(settings, date_from, date_to)

    return _audited(
        settings,
        new_run_id(),
        date_from,
        date_to,
        load_and_build,
        headline=f"{date_from} .. {date_to} into {settings.database}",
        with_report=with_report,
        lock=lock,
    )


def build_only(
    settings: Settings,
    date_from: date,
    date_to: date,
    *extra: str,
    with_report: bool = True,
    lock: runlock.RunLock | None = None,
) -> RunOutcome:
    """`dbt build` (with `extra` arguments) as a run of its own: audited, reported, locked.
    Its run_id ends in `-dbt`: it loads nothing, so it says nothing about a day's sources."""
    return _audited(
        settings,
        new_run_id(recovery.DBT_ONLY_SUFFIX),
        date_from,
        date_to,
        lambda _run_id: ([], elementary.build(settings, date_from, date_to, *extra)),
        headline=f"dbt build for {date_from} .. {date_to}",
        with_report=with_report,
        lock=lock,
    )


def _record_interruption(settings: Settings, run_id: str, error: BaseException) -> None:
    """Close the audit row of a run that stops half-way; if even that fails (the database
    is what went away), the next run closes it (recovery.close_interrupted_runs)."""
    reason = "interrupted" if isinstance(error, KeyboardInterrupt) else "crashed"
    message = f"{reason}: {type(error).__name__}: {error}".strip()[:2000]
    logs.event("run", f"{run_id}: failed, {message}", level="error", stream="stderr")
    try:
        audit.record_end(
            settings,
            run_id,
            status="failed",
            rows_by_source={},
            errors={"run": message},
            dbt_status="not run",
            report_path=None,
        )
    except Exception as audit_error:  # noqa: BLE001 - the original error matters more
        logs.event("run", f"could not close the audit row: {audit_error}", level="error")


def report_file(settings: Settings, run_id: str) -> Path:
    return Path(settings.reports_dir) / run_id / "index.html"


def _write_report(settings: Settings, run_id: str) -> bool:
    """The quality page, written after the audit row so that it shows this run's outcome.
    Its failure is reported but does not fail the data."""
    try:
        write_report(settings, run_id, report_file(settings, run_id))
    except Exception as error:  # noqa: BLE001
        logs.event(
            "report",
            f"could not write the quality page: {type(error).__name__}: {error}",
            level="warning",
        )
        return False
    return True
