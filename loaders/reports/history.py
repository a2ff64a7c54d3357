"""The run's key figures, kept beside its page, and compared with the previous runs.

The audit row keeps what a run did (rows per source, status, duration) but not what the
warehouse looked like afterwards (completeness, QC flags, test problems): those are
computed when the page is written. Each page therefore leaves `summary.json` in its run
folder, and the next page reads the previous runs' files to compare and to draw trends.
A run without a page (`--no-report`, a crash) still shows in the trend with the figures
the audit row has. The file is plain JSON, so other tools may read it too.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from loaders.reports import publish
from loaders.reports.dbt_results import DbtResults
from loaders.reports.figures import Figures, TrendRun, pct

SUMMARY = "summary.json"
# Version 2: the QC-flag figure counts the fact's newest days, under a new key
# (`qc_flagged_recent_rows`); version 1 counted the whole history as `qc_flagged_rows`. A
# figure whose meaning changes gets a new key, so that no trend or comparison mixes the two.
SUMMARY_VERSION = 2


@dataclass(frozen=True)
class KeyFigures:
    """The figures of one run that the page compares and trends; None = not known."""

    run_id: str
    status: str | None = None
    started_at: str | None = None  # ISO 8601, UTC
    duration_seconds: float | None = None
    rows_loaded: int | None = None
    rows_rejected_this_run: int | None = None
    fact_rows: int | None = None
    pct_present: float | None = None
    pct_non_null: float | None = None
    qc_flagged_recent_rows: int | None = None
    volume_days_outside: int | None = None
    dbt_tests: int | None = None
    dbt_test_problems: int | None = None


@dataclass(frozen=True)
class Measure:
    """How the page shows one key figure: unit, decimals, which direction is better (its
    label is `measure.<key>` in the page's language catalogue)."""

    key: str
    unit: str = ""
    better: str | None = None  # "higher", "lower" or None (neither)
    decimals: int = 0


MEASURES: tuple[Measure, ...] = (
    Measure("rows_loaded"),
    Measure("rows_rejected_this_run", better="lower"),
    Measure("fact_rows"),
    Measure("pct_present", "%", "higher", 2),
    Measure("pct_non_null", "%", "higher", 2),
    Measure("qc_flagged_recent_rows", better="lower"),
    Measure("volume_days_outside", better="lower"),
    Measure("dbt_test_problems", better="lower"),
    Measure("duration_seconds", "s", "lower", 1),
)


def key_figures(figures: Figures, dbt: DbtResults | None) -> KeyFigures:
    """The key figures of the page being written, from what it shows."""
    run = figures.run
    fact = next(
        (m.rows for m in figures.marts if m.qualified_name == "core.fct_turbine_measurements"),
        None,
    )
    per_turbine = {row.turbine_id: row for row in figures.completeness}
    expected = sum(row.expected_periods for row in per_turbine.values())
    present = sum(row.present_periods for row in per_turbine.values())
    signal_expected = sum(row.expected_periods for row in figures.completeness)
    non_null = sum(row.non_null_count for row in figures.completeness)
    this_run = [t.rows_this_run for t in figures.rejected or () if t.rows_this_run is not None]
    duration = run.duration if run else None
    return KeyFigures(
        run_id=figures.run_id,
        status=run.status if run else None,
        started_at=run.started_at.isoformat() if run and run.started_at else None,
        duration_seconds=round(duration.total_seconds(), 3) if duration else None,
        rows_loaded=run.rows_loaded if run else None,
        rows_rejected_this_run=sum(this_run) if this_run else None,
        fact_rows=fact,
        pct_present=pct(present, expected) if expected else None,
        pct_non_null=pct(non_null, signal_expected) if signal_expected else None,
        qc_flagged_recent_rows=figures.qc_flags.total_flagged_rows if figures.qc_flags else None,
        volume_days_outside=(
            sum(len(series.outside_days) for series in figures.volume) if figures.volume else None
        ),
        dbt_tests=len(dbt.tests) if dbt else None,
        dbt_test_problems=len(dbt.test_problems) if dbt else None,
    )


def write_summary(run_dir: Path, figures: KeyFigures) -> Path:
    document = {"summary_version": SUMMARY_VERSION, **asdict(figures)}
    return publish.write_atomically(
        run_dir / SUMMARY, json.dumps(document, indent=2, sort_keys=True) + "\n"
    )


def _from_document(document: Mapping[str, Any]) -> KeyFigures | None:
    """A summary file's figures; unknown keys are ignored, values of the wrong type too."""
    run_id = document.get("run_id")
    if not isinstance(run_id, str):
        return None
    values: dict[str, Any] = {"run_id": run_id}
    for item in fields(KeyFigures):
        value = document.get(item.name)
        if item.name == "run_id" or value is None or isinstance(value, bool):
            continue
        kind = str(item.type)
        if kind.startswith("str") and isinstance(value, str):
            values[item.name] = value
        elif kind.startswith("int") and isinstance(value, int):
            values[item.name] = value
        elif kind.startswith("float") and isinstance(value, int | float):
            values[item.name] = float(value)
    return KeyFigures(**values)


def read_summary(run_dir: Path) -> KeyFigures | None:
    try:
        document = json.loads((run_dir / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return _from_document(document) if isinstance(document, dict) else None


def history(reports_dir: Path, runs: Sequence[TrendRun], current: KeyFigures) -> list[KeyFigures]:
    """Key figures of the recorded runs, newest first: the current run's as computed, the
    others from their summary file, or from the audit row alone when they have none."""
    found = []
    for run in runs:
        if run.run_id == current.run_id:
            found.append(current)
            continue
        summary = read_summary(reports_dir / run.run_id)
        audit = KeyFigures(
            run_id=run.run_id,
            status=run.status,
            started_at=run.started_at.isoformat() if run.started_at else None,
            duration_seconds=round(run.duration.total_seconds(), 3) if run.duration else None,
            rows_loaded=run.rows_loaded,
        )
        if summary is None:
            found.append(audit)
        else:  # the audit row is the authority on what it records (a page may be older)
            found.append(
                KeyFigures(
                    **{
                        **asdict(summary),
                        **{k: v for k, v in asdict(audit).items() if v is not None},
                    }
                )
            )
    if not any(item.run_id == current.run_id for item in found):
        found.insert(0, current)
    return found


@dataclass(frozen=True)
class Comparison:
    """One key figure of this run against the previous run and the previous runs' median."""

    measure: Measure
    current: float | None
    previous: float | None
    median: float | None
    runs_compared: int

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def verdict(self) -> str:
        """'better', 'worse' or 'same' against the previous run ('' when not comparable)."""
        change = self.change
        if change is None or self.measure.better is None:
            return ""
        if abs(change) < 10 ** -(self.measure.decimals + 1):
            return "same"
        improved = change > 0 if self.measure.better == "higher" else change < 0
        return "better" if improved else "worse"


def compare(runs: Sequence[KeyFigures]) -> list[Comparison]:
    """`runs` newest first, the first being this run; previous runs are the others."""
    if not runs:
        return []
    current, previous = runs[0], list(runs[1:])
    comparisons = []
    for measure in MEASURES:
        earlier = [getattr(run, measure.key) for run in previous]
        known = [value for value in earlier if value is not None]
        comparisons.append(
            Comparison(
                measure=measure,
                current=getattr(current, measure.key),
                previous=earlier[0] if earlier else None,
                median=float(statistics.median(known)) if known else None,
                runs_compared=len(known),
            )
        )
    return comparisons
