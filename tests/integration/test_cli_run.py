"""`python -m loaders run/status` as cron calls them: exit codes, the lock, the logs, alerts.

The command runs in-process through `loaders.cli.main` with its settings in
WINDFARM_* variables, exactly as cron's environment file gives them; the database and the
HTTP servers (weather, alert webhook) are real.
"""

from __future__ import annotations

import json
import logging
import shlex
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from cli import settings_variables
from pytest_httpserver import HTTPServer

from loaders import logs, warehouse
from loaders.cli import main
from loaders.run import runlock
from loaders.settings import Settings

DAY = date(2025, 10, 2)
SECRET_KEY = "pseudonym-SECRET-0123456789abcdef"
SECRET_PASSWORD = "loader-SECRET-password"
SECRET_TOKEN = "hook-SECRET-token-42"


def use(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    for name, value in settings_variables(settings).items():
        monkeypatch.setenv(name, value)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def park_settings(
    settings: Settings, tmp_path: Path, park_warehouse: Callable
) -> Iterator[Settings]:
    """A warehouse of its own with two demo-park days as sources and the weather served."""
    first = date(2025, 10, 1)
    with park_warehouse(settings, tmp_path, "cli", first, DAY, sensor_lookback_days=0) as (
        isolated,
        _,
    ):
        yield isolated


def test_postgres_unreachable_at_start_fails_clearly_and_writes_nothing(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/alert", method="POST").respond_with_data("ok")
    port = closed_port()
    unreachable = replace(
        settings,
        pgport=port,
        dlt_dir=str(tmp_path / "dlt"),
        reports_dir=str(tmp_path / "reports"),
        dbt_target_dir=str(tmp_path / "dbt_target"),
        log_dir=str(tmp_path / "log"),
        alert_webhook_url=httpserver.url_for("/alert"),
    )
    use(monkeypatch, unreachable)

    code = main(["run", "--date", DAY.isoformat()])

    assert code == 1
    error = capsys.readouterr().err
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{port}" in error
    for folder in ("dlt", "reports", "dbt_target"):  # nothing half-written
        assert not (tmp_path / folder).exists(), folder
    (request, _), *_ = httpserver.log
    alert = request.get_json()
    assert (alert["status"], alert["exit_code"]) == ("failed", 1)
    assert f"127.0.0.1:{port}" in alert["errors"]["run"]
    assert alert["date_from"] == alert["date_to"] == DAY.isoformat()
    logged = json_lines((tmp_path / "log" / logs.LOG_FILE_NAME).read_text(encoding="utf-8"))
    assert any(r["level"] == "error" and f"127.0.0.1:{port}" in r["message"] for r in logged)


def test_a_second_run_is_refused_while_another_holds_the_lock(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    received = tmp_path / "alert.json"
    command = (
        f"{shlex.quote(sys.executable)} -c "
        + shlex.quote(
            "import json, os, sys; json.dump({'stdin': json.load(sys.stdin), "
            "'status': os.environ['WINDFARM_ALERT_STATUS'], "
            "'leaked': [k for k in os.environ if k == 'WINDFARM_PSEUDONYM_KEY']}, "
            "open(sys.argv[1], 'w'))"
        )
        + f" {shlex.quote(str(received))}"
    )
    locked = replace(settings, log_dir=str(tmp_path / "log"), alert_command=command)
    use(monkeypatch, locked)
    before = runs_recorded(settings)

    with runlock.hold(settings, "nightly-run-under-test"):
        code = main(["run", "--date", DAY.isoformat()])
        error = capsys.readouterr().err
        assert main(["status", "--days", "1"]) == 0
        status = capsys.readouterr().out

    assert code == 3
    assert f"another run holds the lock on database {settings.database}" in error
    assert "windfarm-elt nightly-run-under-test (PostgreSQL pid" in error
    assert "run in progress: windfarm-elt nightly-run-under-test" in status
    assert runs_recorded(settings) == before  # refused before writing anything
    alert = json.loads(received.read_text(encoding="utf-8"))
    assert alert["status"] == alert["stdin"]["status"] == "locked"
    assert alert["stdin"]["exit_code"] == 3
    assert alert["leaked"] == []  # the project's secrets are not handed to the command


def runs_recorded(settings: Settings) -> int:
    connection = warehouse.connect(settings, "admin")
    try:
        with connection.cursor() as cursor:
            cursor.execute("select count(*) from audit.pipeline_runs")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def test_logs_are_json_lines_for_a_log_system_without_secrets(
    park_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = replace(
        park_settings,
        pseudonym_key=SECRET_KEY,
        loader_password=SECRET_PASSWORD,  # trust authentication ignores it; logs must too
        alert_webhook_url=f"http://127.0.0.1:{closed_port()}/hook/{SECRET_TOKEN}",
    )
    use(monkeypatch, secret)

    code = main(["run", "--date", DAY.isoformat(), "--no-dbt", "--log-json"])

    assert code == 0
    captured = capsys.readouterr()
    records = json_lines(captured.out)  # every stdout line is a JSON object
    log_file = Path(secret.log_dir) / logs.LOG_FILE_NAME
    written = log_file.read_text(encoding="utf-8")
    assert json_lines(written)[-len(records) :] == records
    run_ids = {r["run_id"] for r in records if r["run_id"]}
    assert len(run_ids) == 1
    assert {"ts", "level", "run_id", "step", "source", "rows", "message"} <= records[0].keys()
    loaded = {r["source"]: r["rows"] for r in records if r["message"].startswith("loaded ")}
    assert set(loaded) == {"sensor_db", "production_csv", "weather_api"}
    assert loaded["sensor_db"] > 400 and loaded["weather_api"] == 24
    assert records[-1]["status"] == "success" and records[-1]["exit_code"] == 0
    assert not [r for r in records if r["step"] == "alert"]  # a success does not alert
    for text in (captured.out, captured.err, written):
        for value in (SECRET_KEY, SECRET_PASSWORD, SECRET_TOKEN):
            assert value not in text

    # status: the day just loaded is done, the day before was never loaded
    assert main(["status", "--to", DAY.isoformat(), "--days", "1", "--check"]) == 0
    assert main(["status", "--to", DAY.isoformat(), "--days", "2", "--check", "--json"]) == 1
    status = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert status["days"][DAY.isoformat()]["status"] == "success"
    assert status["days_not_loaded"] == ["2025-10-01"]


def test_a_log_file_on_a_full_disk_does_not_fail_the_run(
    park_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    log_dir = Path(park_settings.log_dir)
    log_dir.mkdir(parents=True)
    (log_dir / logs.LOG_FILE_NAME).symlink_to("/dev/full")  # every write: ENOSPC
    use(monkeypatch, park_settings)

    code = main(["run", "--date", DAY.isoformat(), "--no-dbt"])

    captured = capsys.readouterr()
    assert code == 0
    assert f"cannot write the JSON log file {log_dir / logs.LOG_FILE_NAME}" in captured.err
    assert "No space left on device" in captured.err
    assert "[run]" in captured.out and ": success" in captured.out


def test_secrets_printed_by_any_module_are_masked(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The masking itself: a module that logs a secret or a URL with a password."""
    secret = replace(
        settings,
        log_dir=str(tmp_path / "log"),
        pseudonym_key=SECRET_KEY,
        loader_password=SECRET_PASSWORD,
    )
    with logs.capture(secret, json_stdout=False, command="test"):
        logs.event("sensor_db", f"connecting with key {SECRET_KEY} and {SECRET_PASSWORD}")
        logging.getLogger("loaders.sources.weather_api.client").warning(
            "GET %s", "https://someone:p4ssw0rd@api.example.com/v1/archive"
        )
        logs.event("run", "done", url=f"postgresql://loader:{SECRET_PASSWORD}@db/windfarm")

    out = capsys.readouterr().out
    written = (tmp_path / "log" / logs.LOG_FILE_NAME).read_text(encoding="utf-8")
    for text in (out, written):
        assert SECRET_KEY not in text and SECRET_PASSWORD not in text and "p4ssw0rd" not in text
    assert "[sensor_db] connecting with key *** and ***" in out
    assert "[weather_api] GET https://someone:***@api.example.com" in out
    logged = json_lines(written)
    assert logged[-2]["level"] == "warning" and logged[-2]["source"] == "weather_api"
    assert logged[-1]["url"] == "postgresql://loader:***@db/windfarm"
