"""Hostile command lines and settings: each exits with its own code (64 usage, 78
configuration; never 2, which means partial) and a message naming the option or the
setting, never a traceback, and nothing is done."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from loaders.cli import EXIT_CONFIG, EXIT_USAGE
from loaders.settings import PROJECT_ROOT
from loaders.sources.sensor_db import source_engine
from loaders.transform import dbt


def run_cli(*args: str, tmp_path: Path, **environment: str) -> subprocess.CompletedProcess:
    """`python -m loaders …` as cron runs it, in a process of its own."""
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "WINDFARM_LOG_DIR": str(tmp_path / "log"),
        **environment,
    }
    return subprocess.run(
        [sys.executable, "-m", "loaders", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["run", "--date", "2025-02-30"], "not a date (YYYY-MM-DD): '2025-02-30'"),
        (["run", "--date", "yesterday"], "not a date (YYYY-MM-DD): 'yesterday'"),
        (["run", "--from", "2025-10-03", "--to", "2025-10-01"], "--to 2025-10-01 is before"),
        (["run", "--date", "2025-10-01", "--from", "2025-10-01"], "use --date or --from/--to"),
        (["rebuild"], "rebuild needs --from DAY"),
        (["status", "--days", "many"], "invalid int value: 'many'"),
        (["unload"], "invalid choice: 'unload'"),
        ([], "the following arguments are required"),
    ],
)
def test_usage_errors_exit_64_and_say_what_is_wrong(
    args: list[str], said: str, tmp_path: Path
) -> None:
    completed = run_cli(*args, tmp_path=tmp_path, WINDFARM_PGPORT="1")

    assert completed.returncode == EXIT_USAGE, completed.stderr
    assert said in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("WINDFARM_PGPORT", "abc", "setting pgport (WINDFARM_PGPORT"),
        ("WINDFARM_SENSOR_LOOKBACK_DAYS", "3 days", "setting sensor_lookback_days"),
        ("WINDFARM_PGHOST", "db host", "the PostgreSQL connection settings (WINDFARM_PGHOST"),
        ("WINDFARM_DATABASE", "ware house", "do not make a connection string"),
    ],
)
def test_a_malformed_setting_exits_78_naming_it(
    setting: str, value: str, said: str, tmp_path: Path
) -> None:
    completed = run_cli("status", "--days", "1", tmp_path=tmp_path, **{setting: value})

    assert completed.returncode == EXIT_CONFIG, completed.stderr
    assert said in completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_malformed_sensor_url_names_the_setting_and_hides_its_password() -> None:
    with pytest.raises(ValueError, match=r"sensor_db_url \(WINDFARM_SENSOR_DB_URL\)") as raised:
        source_engine("historian:user:hunter2-secret@host/db with spaces")
    assert "hunter2-secret" not in str(raised.value)
    with pytest.raises(FileNotFoundError, match="WINDFARM_SENSOR_DB_URL"):
        source_engine("sqlite:////nonexistent/folder/sensor.db")


def test_a_failed_dbt_test_says_how_many_rows_and_how_to_list_them() -> None:
    result = {
        "unique_id": "test.windfarm.not_null_fct_turbine_measurements_turbine_id.1a2b3c",
        "status": "fail",
        "failures": 2,
        "message": "Got 2 results, configured to fail if != 0",
    }

    said = dbt._explained(result)

    assert said is not None and said.startswith(
        "2 row(s) break test not_null_fct_turbine_measurements_turbine_id; list them with "
        "`dbt test --project-dir dbt_project --select not_null_fct_turbine_measurements_"
    )
    assert dbt._explained({"unique_id": "model.windfarm.x", "message": "boom"}) == "boom"
