"""Running `dbt build` on the project, as the transformer role, and reading its results.

dbt's output is streamed line by line through the run's log (loaders/logs.py), so that the
JSON log has dbt's lines too; dbt's own log file goes beside its target folder rather than
into the project. If the run is interrupted (SIGTERM from systemd, Ctrl-C), dbt is stopped
with it: a dbt left running would keep writing to the warehouse after the run ended.

`build` also tells dbt which days its tests need to check (env var
WINDFARM_TEST_WINDOW_FROM): the days the incremental models can have rewritten, so that a
daily run's tests cost the same after a month or after years (docs/architecture.md,
"Incremental models").
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

import psycopg2
import yaml

from loaders import logs, warehouse
from loaders.settings import Settings

STOP_GRACE_SECONDS = 10
# WINDFARM_TEST_WINDOW_FROM when every day is to be checked
ALL_DAYS = "1900-01-01"
# days before the first rewritten day that the tests check too (the model windows write
# one day before the reprocess window; one more for the tests)
TEST_WINDOW_MARGIN_DAYS = 2
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


def run_dbt(
    settings: Settings, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Any dbt command on the project, its output streamed to our log (`env`: variables
    added to dbt's environment)."""
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
        env={**dbt_environment(settings), **(env or {})},
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


def project_var(settings: Settings, name: str, default: object) -> object:
    """A var of dbt_project.yml."""
    path = Path(settings.dbt_project_dir) / "dbt_project.yml"
    try:
        project = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return default
    return (project.get("vars") or {}).get(name, default)


# The first day the incremental models rewrite, as dbt's macro reprocess_from_date finds
# it (dbt_project/macros/reprocess_window.sql), but for the whole build: the newest loaded
# day minus reprocess_days, or the oldest day of a SCADA load newer than the newest load
# the SCADA fact holds, or of an alarm, maintenance or weather load after the fact's last
# build. Index look-ups only.
_EVENT_SOURCES = (
    ("raw.scada_alarms", "started_at"),
    ("raw.maintenance_log", "started_at"),
    ("raw.weather_hourly", "observed_at"),
)


def test_window_from(settings: Settings, reprocess_days: int) -> str:
    """First day the tests of the big tables check on an incremental build: the first day
    the incremental models can rewrite, minus TEST_WINDOW_MARGIN_DAYS; ALL_DAYS when the
    warehouse has no fact or no raw measurements yet (a first build checks everything)."""
    connection = warehouse.connect(settings, "transformer")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                "select to_regclass('raw.scada_measurements') is not null, "
                "to_regclass('core.fct_turbine_measurements') is not null"
            )
            has_raw, has_fact = cursor.fetchone()
            if not (has_raw and has_fact):
                return ALL_DAYS
            cursor.execute("select max(dlt_load_id) from core.fct_turbine_measurements")
            seen = cursor.fetchone()[0] or "0"
            # the events loaded after the fact's last build (its `analyze` post-hook)
            cursor.execute(
                "select to_char(extract(epoch from last_analyze), 'FM0000000000.000000') "
                "from pg_stat_user_tables where relid = 'core.fct_turbine_measurements'::regclass"
            )
            found = cursor.fetchone()
            built = (found[0] if found else None) or seen
            candidates = [
                "(select max(measured_date) from raw.scada_measurements) - %(days)s",
                # through the load-id index (offset 0), as in the macro: not a walk of
                # the measured_date index through the whole history
                "(select min(measured_date) from (select measured_date "
                "from raw.scada_measurements where _dlt_load_id > %(seen)s offset 0) as newer)",
            ]
            for table, column in _EVENT_SOURCES:
                cursor.execute("select to_regclass(%s) is not null", (table,))
                if cursor.fetchone()[0]:
                    candidates.append(
                        f"(select min(({column} at time zone 'UTC')::date) from {table} "
                        "where _dlt_load_id > %(built)s)"
                    )
            cursor.execute(
                f"select least({', '.join(candidates)}) - 1 - %(margin)s",
                {
                    "days": reprocess_days,
                    "seen": seen,
                    "built": built,
                    "margin": TEST_WINDOW_MARGIN_DAYS,
                },
            )
            first = cursor.fetchone()[0]
    finally:
        connection.close()
    return ALL_DAYS if first is None else first.isoformat()


def build(
    settings: Settings,
    *extra: str,
    test_window: str | None = None,
    variables: dict | None = None,
    tests_from_at_most: str | None = None,
) -> DbtOutcome:
    """`dbt build` (with the `dbt_build_args` setting, then `extra`); failures are returned
    with their node and message, never raised.

    `test_window`: the first day the big tables' tests check (WINDFARM_TEST_WINDOW_FROM);
    by default the days this build can rewrite, read from the warehouse, and every day on
    a `--full-refresh` or with `--vars '{full_tests: true}'`.
    `variables`: dbt vars added under those of the command line (one `--vars` reaches
    dbt: it keeps only the last one given). `tests_from_at_most`: a day the test window
    starts on or before (Elementary's monitors read their own window of days)."""
    extra = (*shlex.split(settings.dbt_build_args), *extra)
    if variables:
        extra = (*extra, "--vars", json.dumps({**variables, **dbt_vars(extra)}))
    if test_window is None:
        variables = dbt_vars(extra)
        if "--full-refresh" in extra or variables.get("full_tests"):
            test_window = ALL_DAYS
        else:
            days = variables.get("reprocess_days", project_var(settings, "reprocess_days", 3))
            try:
                test_window = test_window_from(settings, int(days))
            except (warehouse.WarehouseError, psycopg2.Error) as error:
                # dbt will report what is wrong with the warehouse; its tests check all
                logs.event("dbt", f"test window unknown, every day checked: {error}")
                test_window = ALL_DAYS
    if tests_from_at_most is not None:
        test_window = min(test_window, tests_from_at_most)
    logs.event("dbt", " ".join(("dbt build", *extra)) + f" (tests from {test_window})")
    results_path = Path(settings.dbt_target_dir) / "run_results.json"
    results_path.unlink(missing_ok=True)  # never read an earlier run's results
    completed = run_dbt(settings, "build", *extra, env={"WINDFARM_TEST_WINDOW_FROM": test_window})
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
