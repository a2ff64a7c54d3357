"""Running `dbt build` on the project, as the transformer role, and reading its results.

dbt's output is streamed line by line through the run's log (loaders/logs.py), so that the
JSON log has dbt's lines too; dbt's own log file goes beside its target folder rather than
into the project. If the run is interrupted (SIGTERM from systemd, Ctrl-C), dbt is stopped
with it: a dbt left running would keep writing to the warehouse after the run ended.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from loaders import logs
from loaders.settings import Settings

STOP_GRACE_SECONDS = 10
_BLANK_DBT_LINE = re.compile(r"^(\d\d:\d\d:\d\d)?\s*$")  # dbt's spacer lines


@dataclass
class DbtOutcome:
    # success; failed (models or tests failed); error (dbt could not run); deferred (not run
    # in this step: a backfill builds once after all its days)
    status: str
    failures: list[dict] = field(default_factory=list)
    run_results: Path | None = None


def dbt_executable() -> str:
    beside_python = Path(sys.executable).parent / "dbt"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("dbt")
    if found is None:
        raise FileNotFoundError("dbt is not installed: run `make install`")
    return found


def dbt_environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        **settings.dbt_env(),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def run_dbt(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    """Any dbt command on the project, its output streamed to our log."""
    project = settings.dbt_project_dir
    command = [
        dbt_executable(),
        "--no-use-colors",
        *args,
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--target-path",
        settings.dbt_target_dir,
        "--log-path",
        str(Path(settings.dbt_target_dir) / "logs"),
    ]
    process = subprocess.Popen(
        command,
        env=dbt_environment(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    try:
        assert process.stdout is not None
        for text in process.stdout:
            if not _BLANK_DBT_LINE.match(text):
                logs.line("dbt", text.rstrip("\n"))
        process.wait()
    except BaseException:
        _stop(process)
        raise
    return subprocess.CompletedProcess(command, process.returncode)


def _stop(process: subprocess.Popen) -> None:
    """Stop dbt the way it stops cleanly (SIGTERM cancels its queries), then for good."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def build(settings: Settings, *extra: str) -> DbtOutcome:
    """`dbt build` (with the `dbt_build_args` setting, then `extra`); failures are returned
    with their node and message, never raised."""
    extra = (*shlex.split(settings.dbt_build_args), *extra)
    logs.event("dbt", " ".join(("dbt build", *extra)))
    results_path = Path(settings.dbt_target_dir) / "run_results.json"
    results_path.unlink(missing_ok=True)  # never read an earlier run's results
    completed = run_dbt(settings, "build", *extra)
    if not results_path.exists():
        return DbtOutcome(status="error")
    results = json.loads(results_path.read_text(encoding="utf-8"))
    failures = [
        {"node": r["unique_id"], "status": r["status"], "message": r.get("message")}
        for r in results.get("results", [])
        if r["status"] in ("error", "fail", "runtime error")
    ]
    if completed.returncode == 0:
        status = "success"
    elif failures:
        status = "failed"
    else:
        status = "error"
    return DbtOutcome(status=status, failures=failures, run_results=results_path)
