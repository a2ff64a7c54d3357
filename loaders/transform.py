"""Running `dbt build` on the project, as the transformer role, and reading its results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from loaders.settings import Settings


@dataclass
class DbtOutcome:
    status: str  # success, failed (models or tests failed), error (dbt could not run)
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
    """Any dbt command on the project, output streamed to ours."""
    project = settings.dbt_project_dir
    command = [
        dbt_executable(), *args,
        "--project-dir", project, "--profiles-dir", project,
        "--target-path", settings.dbt_target_dir,
    ]
    return subprocess.run(command, env=dbt_environment(settings), check=False)


def build(settings: Settings, *extra: str) -> DbtOutcome:
    """`dbt build`; failures are returned with their node and message, never raised."""
    print("[dbt] dbt build")
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
