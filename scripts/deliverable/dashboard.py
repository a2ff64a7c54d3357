"""The quality dashboard: the latest run's page, its screenshot, the Elementary report.

The page is the one the pipeline wrote (`<reports_dir>/latest/`, else the newest run
folder); it is copied whole, links resolved, so it opens from the zip without a server.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from loaders.reports.publish import LATEST, PAGE, run_folders
from loaders.settings import PROJECT_ROOT, Settings
from scripts.deliverable import tools

SCREEN = (1280, 2000)  # the delivered capture: the page's first screens
REPORT_SCREEN = (1280, 1150)  # the report's figure: the run's summary, legible on A4


class DashboardError(RuntimeError):
    """No quality page to deliver; the message says how to get one."""


def latest_page_dir(settings: Settings) -> Path:
    reports = Path(settings.reports_dir)
    latest = reports / LATEST
    if (latest / PAGE).is_file():
        return latest.resolve()
    folders = run_folders(reports)
    if folders:
        return folders[-1]
    raise DashboardError(
        f"no quality page under {reports}: run the pipeline first "
        "(`make demo`, or `python -m loaders run`)"
    )


def elementary_reports(settings: Settings, page_dir: Path) -> list[Path]:
    """Elementary's HTML report where `edr report` or the pipeline leaves it, if built."""
    candidates = [
        *page_dir.glob("elementary*.html"),
        *Path(settings.reports_dir).glob("elementary*/*.html"),
        *Path(settings.reports_dir).glob("elementary*.html"),
        *(PROJECT_ROOT / "edr_target").glob("*.html"),
        *(Path(settings.dbt_project_dir) / "edr_target").glob("*.html"),
    ]
    return sorted({path.resolve() for path in candidates if path.is_file()})


def copy_page(settings: Settings, target: Path) -> Path:
    """Copy the latest run's folder (page, run_results.json…) into `target`."""
    source = latest_page_dir(settings)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=False)
    return source


def screenshot(page: Path, png: Path, work: Path, size: tuple[int, int] = SCREEN) -> Path:
    """The page as a browser shows it (headless Chromium), `size` pixels from its top."""
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    completed = tools.chromium(
        work / "chromium-profile",
        f"--window-size={size[0]},{size[1]}",
        f"--screenshot={png}",
        page.resolve().as_uri(),
    )
    if not png.is_file():
        raise tools.ToolError(f"Chromium took no screenshot of {page}: {completed.stderr[-2000:]}")
    return png
