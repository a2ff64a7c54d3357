"""Putting the page on disk: atomic writes, the run's dbt results, the `latest` pointer.

A reader (a browser, a web server, a sync job) may open the reports folder while a run
writes it, so every file appears whole or not at all (write beside, then rename), and
`latest` is swapped in one rename. Where symlinks cannot be made (some Windows setups,
some mounted file systems) `latest` is a copy of the run's folder instead.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

LATEST = "latest"
RUN_RESULTS = "run_results.json"
PAGE = "index.html"
_TEMP_PREFIX = ".tmp-"


def write_atomically(path: Path, text: str) -> Path:
    """Write `text` to `path` so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{_TEMP_PREFIX}{secrets.token_hex(4)}-{path.name}")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def copy_atomically(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{_TEMP_PREFIX}{secrets.token_hex(4)}-{target.name}")
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def copy_run_results(source: Path, run_dir: Path) -> Path | None:
    """dbt's run_results.json kept with the run's page (dbt overwrites its own each build)."""
    if not source.is_file():
        return None
    return copy_atomically(source, run_dir / RUN_RESULTS)


def run_folders(reports_dir: Path) -> list[Path]:
    """Run folders holding a page, oldest first.

    Run ids start with their UTC start time (`20251101T020000Z-ab12cd`), so name order is
    time order; `latest` and temporary folders are not runs.
    """
    if not reports_dir.is_dir():
        return []
    return sorted(
        (
            entry
            for entry in reports_dir.iterdir()
            if entry.name != LATEST
            and not entry.name.startswith(".")
            and not entry.is_symlink()
            and (entry / PAGE).is_file()
        ),
        key=lambda entry: entry.name,
    )


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def _swap_in(temporary: Path, latest: Path) -> None:
    """Rename `temporary` to `latest`, in one step when both are symlinks.

    rename() replaces a symlink by a symlink atomically, but cannot put a directory (the
    copy fallback) over a symlink nor anything over a non-empty directory: then the old
    `latest` is renamed aside first and removed after, leaving a moment without `latest`.
    """
    is_real_dir = not temporary.is_symlink() or (latest.is_dir() and not latest.is_symlink())
    if is_real_dir and (latest.exists() or latest.is_symlink()):
        aside = latest.with_name(f".{LATEST}-old-{secrets.token_hex(4)}")
        os.replace(latest, aside)
        try:
            os.replace(temporary, latest)
        finally:
            _remove(aside)
        return
    os.replace(temporary, latest)


def point_latest(reports_dir: Path, run_dir: Path) -> Path:
    """Make `<reports_dir>/latest` show the newest run's folder; returns the folder chosen.

    Newest is decided by run folder names, so re-generating an older run's page does not
    move `latest` backwards. A run folder outside `reports_dir` is taken as given.
    """
    reports_dir.mkdir(parents=True, exist_ok=True)
    newest = run_dir
    if run_dir.resolve().parent == reports_dir.resolve():
        folders = run_folders(reports_dir)
        if folders and folders[-1].name > run_dir.name:
            newest = folders[-1]
    latest = reports_dir / LATEST
    temporary = reports_dir / f".{LATEST}{_TEMP_PREFIX}{secrets.token_hex(4)}"
    target = (
        Path(newest.name) if newest.resolve().parent == reports_dir.resolve() else newest.resolve()
    )
    try:
        os.symlink(target, temporary, target_is_directory=True)
    except (OSError, NotImplementedError):
        _remove(temporary)
        shutil.copytree(newest, temporary, symlinks=False)
    try:
        _swap_in(temporary, latest)
    finally:
        _remove(temporary)
    return newest
