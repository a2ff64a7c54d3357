"""Running `dbt build` on the project, as the transformer role, and reading its results.

dbt's output is streamed line by line through the run's log (loaders/logs.py), so that the
JSON log has dbt's lines too, each at the level dbt gave it (dbt writes JSON lines to us,
`--log-format json`; its own log file beside its target folder keeps its usual form). If
the run is interrupted (SIGTERM from systemd, Ctrl-C), dbt is stopped with it: a dbt left
running would keep writing to the warehouse after the run ended.

The days a build's tests check (only those the incremental models can have rewritten, so
that a daily run's tests cost the same after a month or after years: docs/architecture.md,
"Incremental models") are dbt's own business: an on-run-start hook works them out from
the reprocess rule (dbt_project/macros/test_window.sql). `build` only passes the day
Elementary's monitors need the tests to reach (`tests_from_at_most`).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from loaders import logs
from loaders.settings import Settings

STOP_GRACE_SECONDS = 10
# dbt's levels as `logging` names them; a line that is not dbt's JSON (a Python warning, a
# crash's traceback) is a warning: dbt did not say what it is
_DBT_LEVELS = {"debug": "debug", "info": "info", "warn": "warning", "error": "error"}


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


def dbt_command(settings: Settings, *args: str) -> list[str]:
    """A dbt command line on the project, with its profile, target and log folders."""
    project = settings.dbt_project_dir
    return [
        dbt_executable(),
        "--no-use-colors",
        "--log-format",
        "json",
        "--log-format-file",
        "debug",  # dbt's default for its file, which would follow --log-format otherwise
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


def run_dbt(
    settings: Settings, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Any dbt command on the project, its output streamed to our log (`env`: variables
    added to dbt's environment)."""
    command = dbt_command(settings, *args)
    process = subprocess.Popen(
        command,
        env={**dbt_environment(settings), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    try:
        assert process.stdout is not None
        for text in process.stdout:
            log_dbt_line(text)
        process.wait()
    except BaseException:
        _stop(process)
        raise
    return subprocess.CompletedProcess(command, process.returncode)


def log_dbt_line(text: str) -> None:
    """One line of dbt's JSON log through ours, at dbt's level; dbt's spacer lines dropped."""
    try:
        info = json.loads(text)["info"]
        message, level = str(info["msg"]), _DBT_LEVELS.get(str(info["level"]), "info")
    except (ValueError, KeyError, TypeError):
        message, level = text, "warning"
    if message.strip():
        logs.line("dbt", message.rstrip(), level=level)


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


def dbt_vars(extra: tuple[str, ...]) -> dict:
    """The `--vars` of a dbt command line (the last one wins, as in dbt)."""
    found: dict = {}
    for flag, value in zip(extra, extra[1:], strict=False):
        if flag == "--vars":
            try:
                parsed = yaml.safe_load(value)
            except yaml.YAMLError:
                continue
            if isinstance(parsed, dict):
                found = parsed
    return found


class DbtError(Exception):
    """dbt could not answer (its output says why)."""


def _explained(result: dict) -> str | None:
    """dbt's message, and for a failed test what failed and how to see the rows (dbt says
    only `Got 2 results, configured to fail if != 0`)."""
    message = result.get("message")
    node = str(result.get("unique_id", ""))
    if not node.startswith("test.") or not result.get("failures"):
        return message
    name = node.split(".")[2] if node.count(".") >= 2 else node
    return (
        f"{result['failures']} row(s) break test {name}; list them with "
        f"`dbt test --project-dir dbt_project --select {name} --store-failures` "
        f"(dbt: {message})"
    )


def build(
    settings: Settings,
    *extra: str,
    variables: dict | None = None,
    tests_from_at_most: str | None = None,
) -> DbtOutcome:
    """`dbt build` (with the `dbt_build_args` setting, then `extra`); failures are returned
    with their node and message, never raised.

    `variables`: dbt vars added under those of the command line (one `--vars` reaches
    dbt: it keeps only the last one given). `tests_from_at_most`: a day the big tables'
    tests start on or before (Elementary's monitors read their own window of days)."""
    extra = (*shlex.split(settings.dbt_build_args), *extra)
    if variables:
        extra = (*extra, "--vars", json.dumps({**variables, **dbt_vars(extra)}))
    env = {"WINDFARM_TESTS_FROM_AT_MOST": tests_from_at_most} if tests_from_at_most else {}
    logs.event("dbt", " ".join(("dbt build", *extra)))
    results_path = Path(settings.dbt_target_dir) / "run_results.json"
    results_path.unlink(missing_ok=True)  # never read an earlier run's results
    completed = run_dbt(settings, "build", *extra, env=env)
    if not results_path.exists():
        return DbtOutcome(status="error")
    results = json.loads(results_path.read_text(encoding="utf-8"))
    failures = [
        {"node": r["unique_id"], "status": r["status"], "message": _explained(r)}
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
