"""Backfill, rebuild and the state of each day: what the daily schedule needs beyond one run.

Backfill (`python -m loaders run --from D --to E`): the range is loaded in day-sized steps,
each an audited run of its own, then modelled by ONE `dbt build` at the end. Why one build:
dbt's cost is mostly fixed (parsing, seeds, a few hundred tests: about 8 s on the demo park)
while a day's extract-load is about a second, so a build per day would make a year's
backfill an hour of dbt instead of seconds; and the incremental models lose nothing by
waiting, since they reprocess every day that a newer load rewrote. Steps after the first
skip the sensor lookback (the previous step has just loaded those days).

Resumable: a day is skipped when the latest run that loaded it ended `success` (the
audit table is the state; `--force` reloads anyway). A backfill killed on day 20 resumes
at day 20: its interrupted row is closed as failed by the next run (loaders/run/recovery.py).

Rebuild (`python -m loaders rebuild`): dbt only, no extraction. `--from D` rebuilds the
incremental models from day D onwards by widening `reprocess_days`; `--full` runs
`dbt build --full-refresh`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from loaders import logs
from loaders.run import pipeline, recovery, reprocess, runlock
from loaders.settings import Settings
from loaders.warehouse import connect

STATUS_ORDER = ("success", "partial", "failed")


@dataclass(frozen=True)
class DayState:
    """The latest run that loaded a day (not a dbt-only run)."""

    day: date
    status: str | None  # None: no run ever loaded this day
    run_id: str | None = None
    errors: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status == "success"


@dataclass
class BackfillOutcome:
    date_from: date
    date_to: date
    skipped: list[date]
    steps: list[pipeline.RunOutcome]
    build: pipeline.RunOutcome | None

    @property
    def status(self) -> str:
        statuses = [step.status for step in self.steps]
        if self.build is not None:
            statuses.append(self.build.status)
        return max(statuses, key=STATUS_ORDER.index, default="success")

    @property
    def exit_code(self) -> int:
        return pipeline.exit_code(self.status)

    def summary(self) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        for step in self.steps:
            for name, error in step.errors().items():
                errors[f"{step.date_from} {name}"] = error
        if self.build is not None:
            errors.update({f"build {k}": v for k, v in self.build.errors().items()})
        return {
            "run_id": self.build.run_id if self.build else None,
            "kind": "backfill",
            "status": self.status,
            "exit_code": self.exit_code,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "days_loaded": {f"{s.date_from}": s.status for s in self.steps},
            "days_skipped": [f"{day}" for day in self.skipped],
            "dbt_status": self.build.dbt.status if self.build else "not run",
            "errors": errors,
            "report_path": self.build.report_path if self.build else None,
        }


def days_between(date_from: date, date_to: date) -> list[date]:
    return [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]


def day_states(settings: Settings, days: list[date]) -> dict[date, DayState]:
    """For each day, the latest run whose range covers it, dbt-only runs left out."""
    if not days:
        return {}
    connection = connect(settings, "transformer")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                """
                select distinct on (day.day) day.day, runs.status, runs.run_id, runs.errors
                  from unnest(%(days)s::date[]) as day (day)
                  left join audit.pipeline_runs as runs
                    on day.day between runs.date_from and runs.date_to
                   and runs.run_id not like %(dbt_only)s
                 order by day.day, runs.started_at desc nulls last, runs.run_id desc
                """,
                {"days": days, "dbt_only": f"%{recovery.DBT_ONLY_SUFFIX}"},
            )
            return {
                day: DayState(day, status, run_id, errors or {})
                for day, status, run_id, errors in cursor.fetchall()
            }
    finally:
        connection.close()


def backfill(
    settings: Settings,
    date_from: date,
    date_to: date,
    *,
    force: bool = False,
    build: bool = True,
    with_report: bool = True,
) -> BackfillOutcome:
    """Load [date_from, date_to] day by day, then one dbt build (see the module doc).

    Raises RunLockedError when another run is in progress and WarehouseError when
    PostgreSQL cannot be reached (at the start, or if it goes away between two days: the
    days done so far stay done, and the same command resumes).
    """
    days = days_between(date_from, date_to)
    with runlock.hold(settings, f"backfill {date_from}..{date_to}") as lock:
        states = {} if force else day_states(settings, days)
        skipped = [day for day in days if states.get(day) and states[day].done]
        to_load = [day for day in days if day not in skipped]
        logs.event(
            "backfill",
            f"{date_from} .. {date_to}: {len(to_load)} day(s) to load, {len(skipped)} already "
            "loaded successfully" + (" (skipped; --force reloads them)" if skipped else ""),
            days_to_load=[f"{day}" for day in to_load],
            days_skipped=[f"{day}" for day in skipped],
        )
        steps: list[pipeline.RunOutcome] = []
        loaded_ok: set[date] = set()
        for day in to_load:
            step_settings = settings
            if day - timedelta(days=1) in loaded_ok:
                step_settings = replace(settings, sensor_lookback_days=0)
            outcome = pipeline.run(
                step_settings, day, day, with_report=False, build=False, lock=lock
            )
            steps.append(outcome)
            if any(s.name == "sensor_db" and s.ok for s in outcome.sources):
                loaded_ok.add(day)
        final = (
            pipeline.build_only(settings, date_from, date_to, with_report=with_report, lock=lock)
            if build
            else None
        )
    result = BackfillOutcome(date_from, date_to, skipped, steps, final)
    logs.event(
        "backfill",
        f"{date_from} .. {date_to}: {result.status} ({len(steps)} day(s) loaded, "
        f"{len(skipped)} skipped, dbt {final.dbt.status if final else 'not run'})",
        level="info" if result.status == "success" else "error",
        status=result.status,
        exit_code=result.exit_code,
    )
    return result


def rebuild(
    settings: Settings,
    date_from: date | None,
    date_to: date | None = None,
    *,
    full: bool = False,
    select: str | None = None,
    with_report: bool = True,
) -> pipeline.RunOutcome:
    """Model again what is already loaded, without touching the sources.

    `full`: `dbt build --full-refresh` (every table from scratch; the cost grows with the
    history). Otherwise the incremental models are rebuilt from `date_from` to the newest
    day: they reprocess `reprocess_days` days before the newest loaded day, so this widens
    that window to start at `date_from` (the other models are tables, rebuilt every time).
    `select` narrows the build to some models (dbt's --select syntax, their tests included).
    """
    first, newest = reprocess.loaded_span(settings)
    today = datetime.now(UTC).date()
    if full:
        extra: tuple[str, ...] = ("--full-refresh",)
        window = (date_from or first or today, date_to or newest or today)
    else:
        if date_from is None:
            raise ValueError("rebuild needs --from DAY (or --full)")
        extra, reprocess_days = reprocess.from_day(newest, date_from)
        window = (date_from, date_to or newest or date_from)
        logs.event(
            "rebuild",
            f"incremental models rebuilt from {date_from} to the newest day {newest} "
            f"(reprocess_days={reprocess_days})",
        )
    if select:
        extra += ("--select", select)
    return pipeline.build_only(settings, window[0], max(window), *extra, with_report=with_report)


def recent_runs(settings: Settings, limit: int = 10) -> list[dict[str, Any]]:
    connection = connect(settings, "transformer")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                """
                select run_id, started_at, ended_at, status, date_from, date_to, dbt_status,
                       errors, code_version, run_by
                  from audit.pipeline_runs
                 order by started_at desc, run_id desc
                 limit %s
                """,
                (limit,),
            )
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()
