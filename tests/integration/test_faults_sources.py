"""A source that fails for a whole night: the run is partial, the other sources load, the
error names what failed, and the next runs catch up. Real database, real HTTP servers."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from cli import settings_variables
from pytest_httpserver import HTTPServer
from warehouse_sql import query

from loaders.cli import main
from loaders.run import pipeline
from loaders.settings import PROJECT_ROOT, Settings

FIRST, LAST = date(2025, 10, 1), date(2025, 10, 4)


@pytest.fixture
def sources_settings(
    settings: Settings, tmp_path: Path, park_warehouse: Callable
) -> Iterator[Settings]:
    """A warehouse of its own, four demo-park days as sources, the weather served."""
    with park_warehouse(settings, tmp_path, "sources", FIRST, LAST, sensor_lookback_days=0) as (
        isolated,
        _,
    ):
        yield isolated


def weather_hours_by_day(settings: Settings) -> dict[str, int]:
    rows = query(
        settings,
        "select observed_date::text, count(*) from raw.weather_hourly group by 1 order by 1",
    )
    return dict(rows)


def source_rows(settings: Settings, day: str) -> int:
    """The day's rows in the sensor database (the demo park rejects none of them)."""
    with sqlite3.connect(Path(settings.sensor_db_url.removeprefix("sqlite:///"))) as source:
        return source.execute(
            "select count(*) from scada_10min where ts_utc like ?", (f"{day}%",)
        ).fetchone()[0]


def environment(settings: Settings) -> dict[str, str]:
    return {**os.environ, **settings_variables(settings)}


def test_weather_api_down_for_a_whole_run_is_caught_up_the_next_day(
    sources_settings: Settings,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Down for maintenance: 503 with Retry-After 0, so the client's retries are quick.
    httpserver.expect_request("/v1/archive").respond_with_data(
        "Service Unavailable", status=503, headers={"Retry-After": "0"}
    )
    httpserver.expect_request("/alert", method="POST").respond_with_data("ok")
    down = replace(
        sources_settings,
        weather_base_url=httpserver.url_for("/v1"),
        alert_webhook_url=httpserver.url_for("/alert"),
    )
    for name, value in settings_variables(down).items():
        monkeypatch.setenv(name, value)

    code = main(["run", "--date", "2025-10-02", "--no-dbt"])

    assert code == 2  # partial
    assert "[weather_api] FAILED" in capsys.readouterr().out
    status, errors = query(
        sources_settings,
        "select status, errors from audit.pipeline_runs order by started_at desc limit 1",
    )[0]
    assert status == "partial" and set(errors) == {"weather_api"}
    assert "HTTP 503" in errors["weather_api"] and "start_date=2025-10-02" in errors["weather_api"]
    alert = next(r.get_json() for r, _ in httpserver.log if r.path == "/alert")
    assert (alert["status"], alert["exit_code"]) == ("partial", 2)
    assert alert["sources"]["sensor_db"]["ok"] and not alert["sources"]["weather_api"]["ok"]
    assert query(sources_settings, "select count(*) from raw.scada_measurements") == [
        (source_rows(sources_settings, "2025-10-02"),)
    ]

    # The API is back the next night: the missed day is asked again with the new one.
    back = pipeline.run(sources_settings, date(2025, 10, 3), date(2025, 10, 3), build=False)

    assert back.status == "success"
    weather = next(s for s in back.sources if s.name == "weather_api")
    assert weather.details["rows_read"] == 48 and weather.rows == {"weather_hourly": 48}
    assert weather.details["caught_up_days"] == ["2025-10-02"]
    assert weather_hours_by_day(sources_settings) == {"2025-10-02": 24, "2025-10-03": 24}
    # The day after, nothing is missing any more: only its own day is asked.
    third = pipeline.run(sources_settings, LAST, LAST, build=False, with_report=False)
    weather = next(s for s in third.sources if s.name == "weather_api")
    assert weather.details["rows_read"] == 24 and "caught_up_days" not in weather.details
    assert weather_hours_by_day(sources_settings) == {
        "2025-10-02": 24,
        "2025-10-03": 24,
        "2025-10-04": 24,
    }
    assert query(
        sources_settings,
        "select count(*) from (select site_code, observed_at from raw.weather_hourly "
        "group by 1, 2 having count(*) > 1) as doubled",
    ) == [(0,)]


def _without_file_permission_bypass() -> list[str]:
    """A prefix that makes permission bits bind: root ignores them (CAP_DAC_OVERRIDE), so
    the command runs without that capability (setpriv, util-linux); others need nothing."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv, "running as root: setpriv (util-linux) is needed to drop CAP_DAC_OVERRIDE"
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]


def test_an_unreadable_inbox_is_named_and_the_other_sources_still_load(
    sources_settings: Settings,
) -> None:
    inbox = Path(sources_settings.csv_inbox)
    inbox.chmod(0)
    try:
        completed = subprocess.run(
            [
                *_without_file_permission_bypass(),
                sys.executable,
                "-m",
                "loaders",
                "run",
                "--date",
                "2025-10-02",
                "--no-dbt",
            ],
            cwd=PROJECT_ROOT,
            env=environment(sources_settings),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        inbox.chmod(0o755)

    output = completed.stdout + completed.stderr
    assert completed.returncode == 2, output
    (failure,) = [line for line in completed.stdout.splitlines() if "[production_csv] FAIL" in line]
    assert str(inbox) in failure and "Permission denied" in failure, failure
    (errors,) = query(
        sources_settings,
        "select errors from audit.pipeline_runs order by started_at desc limit 1",
    )[0]
    assert set(errors) == {"production_csv"} and str(inbox) in errors["production_csv"]
    assert query(sources_settings, "select count(*) from raw.scada_measurements") == [
        (source_rows(sources_settings, "2025-10-02"),)
    ]
    assert weather_hours_by_day(sources_settings) == {"2025-10-02": 24}


def _full_disk_prefix(folder: Path) -> list[str]:
    """A prefix running the command with `folder` on a 16 kB tmpfs of its own (a private
    mount namespace: nothing outside the command sees it). Needs root with CAP_SYS_ADMIN."""
    unshare = shutil.which("unshare")
    script = 'mount -t tmpfs -o size=16k tmpfs "$1" && shift && exec "$@"'
    prefix = [unshare or "unshare", "-m", "sh", "-c", script, "sh", str(folder)]
    probe = (
        subprocess.run([*prefix, "true"], capture_output=True, timeout=30, check=False)
        if unshare and os.geteuid() == 0
        else None
    )
    if probe is None or probe.returncode != 0:
        pytest.skip("a full disk is simulated with a tmpfs, which needs root and CAP_SYS_ADMIN")
    return prefix


def test_a_full_disk_under_the_dlt_folder_names_the_folder_and_writes_nothing(
    sources_settings: Settings,
) -> None:
    dlt_folder = Path(sources_settings.dlt_dir)
    dlt_folder.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [
            *_full_disk_prefix(dlt_folder),
            sys.executable,
            "-m",
            "loaders",
            "run",
            "--date",
            "2025-10-02",
            "--no-dbt",
        ],
        cwd=PROJECT_ROOT,
        env=environment(sources_settings),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 1, completed.stdout + completed.stderr  # every source failed
    failures = [line for line in completed.stdout.splitlines() if "FAILED" in line]
    assert len(failures) == 3, completed.stdout
    for line in failures:
        assert "No space left on device" in line
        assert f"dlt working folder {dlt_folder / sources_settings.database}: 0.0 MB free" in line
    status, errors = query(
        sources_settings,
        "select status, errors from audit.pipeline_runs order by started_at desc limit 1",
    )[0]
    assert status == "failed" and set(errors) == {"sensor_db", "production_csv", "weather_api"}
    assert query(sources_settings, "select to_regclass('raw.scada_measurements')") == [(None,)]
