"""The quality page written after every run: `reports/<run_id>/index.html` and `reports/latest`.

The pipeline calls `write_report` after the run's audit row is final, so the page shows
the run's real outcome. The page is one static HTML file that opens from disk with no
network (inline style, inline SVG charts); beside it the run's dbt `run_results.json`,
kept because dbt overwrites its own copy on the next build, the run's key figures
(`summary.json`, which the next runs compare against), and Elementary's report when the
Elementary dbt package is installed (`elementary_report.html`). The page also shows the
auditor's checks the run journalled (grants, audit chain, personal-data scan).

Modules: `figures` reads the warehouse (the `quality` marts, the audit row, Elementary's
results), `volume` judges daily volumes, `dbt_results` reads dbt's results, `history`
keeps and compares key figures, `elementary` runs `edr report`, `charts` draws SVG,
`page` renders the Jinja2 templates (`templates/`, style in `static/`) in the language
of the setting `report_language` (`language`, words in `messages/`), `publish` puts
files on disk atomically. What each figure means: docs/quality.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from loaders.reports import dbt_results, elementary, figures, history, page, publish
from loaders.reports.language import language
from loaders.run import security_checks
from loaders.settings import Settings

__all__ = ["write_report"]


def write_report(settings: Settings, run_id: str, path: Path) -> Path:
    """Write the run's quality page at `path` (`<reports_dir>/<run_id>/index.html`).

    Also copies dbt's run_results.json into the run's folder when it exists, writes the
    run's `summary.json`, runs `edr report` there when Elementary is installed (one line
    saying why not otherwise), and points `<reports_dir>/latest` at the newest run's
    folder. Returns `path`.
    """
    path = Path(path)
    lang = language(settings.report_language)
    run_dir = path.parent
    run_dir.mkdir(parents=True, exist_ok=True)
    collected = figures.collect(settings, run_id)
    # The run's own dbt target folder (`--target-path`), where this build wrote its results.
    source_results = Path(settings.dbt_target_dir) / publish.RUN_RESULTS
    copied = publish.copy_run_results(source_results, run_dir)
    reports_dir = Path(settings.reports_dir)
    dbt = dbt_results.load(copied) if copied else None
    key_figures = history.key_figures(collected, dbt)
    history.write_summary(run_dir, key_figures)
    context = page.PageContext(
        dbt=dbt,
        dbt_results_file=publish.RUN_RESULTS if copied else None,
        run_pages=frozenset(folder.name for folder in publish.run_folders(reports_dir)),
        generated_at=datetime.now(UTC),
        history=tuple(history.history(reports_dir, collected.trend, key_figures)),
        elementary=elementary.report(settings, run_dir),
        security=security_checks.recorded(settings, run_id),
    )
    publish.write_atomically(path, page.render(collected, context, lang))
    publish.point_latest(reports_dir, run_dir)
    return path
