"""Which project a run builds, the data time its Elementary monitors count back from, and
the page's privacy clean-up: pure functions, on real files in a temporary folder."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from loaders.reports import elementary
from loaders.settings import PROJECT_ROOT, load_settings


def test_a_month_is_judged_at_the_end_of_its_last_day() -> None:
    now = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    assert elementary.monitor_vars(date(2025, 10, 1), date(2025, 10, 31), now) == {
        "custom_run_started_at": "2025-11-01T00:00:00",
        "backfill_days": 31,
        "days_back": 31,
    }


def test_a_daily_run_is_judged_on_two_days_within_sixteen() -> None:
    now = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    assert elementary.monitor_vars(date(2026, 12, 2), date(2026, 12, 2), now) == {
        "custom_run_started_at": "2026-12-03T00:00:00",
        "backfill_days": 2,
        "days_back": 16,
    }


def test_a_day_still_going_is_judged_up_to_now() -> None:
    now = datetime(2026, 12, 3, 9, 30, 12, 345, tzinfo=UTC)
    variables = elementary.monitor_vars(date(2026, 12, 3), date(2026, 12, 3), now)
    assert variables["custom_run_started_at"] == "2026-12-03T09:30:12"


def test_a_relative_project_dir_is_read_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = replace(load_settings(), dbt_project_dir="dbt_project")
    monkeypatch.chdir(PROJECT_ROOT)
    assert elementary.monitoring_dir(settings) == PROJECT_ROOT / "dbt_project" / "monitoring"
    pointed = replace(settings, dbt_project_dir=os.path.join("dbt_project", "monitoring"))
    assert elementary.monitoring_dir(pointed) == PROJECT_ROOT / "dbt_project" / "monitoring"
    monkeypatch.chdir(tmp_path)
    assert elementary.monitoring_dir(settings) == tmp_path / "dbt_project" / "monitoring"


def test_without_the_package_the_run_builds_the_main_project(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    (project / "monitoring").mkdir(parents=True)
    settings = replace(load_settings(), dbt_project_dir=str(project))
    assert elementary.build_settings(settings) is settings
    package = project / "monitoring" / "dbt_packages" / "elementary"
    package.mkdir(parents=True)
    (package / "dbt_project.yml").write_text("name: elementary\n", encoding="utf-8")
    assert elementary.build_settings(settings).dbt_project_dir == str(project / "monitoring")


def test_the_page_asks_nothing_of_the_network_and_its_tree_has_no_dot_dot(
    tmp_path: Path,
) -> None:
    data = {"models": {"m": {"normalized_full_path": "windfarm/seeds/../seeds_csv/x.csv"}}}
    encoded = base64.b64encode(json.dumps(data).encode()).decode()
    page = tmp_path / "report.html"
    page.write_text(
        f"<script>window.elementaryData = JSON.parse(atob('{encoded}'));</script>"
        '<html><head><link rel="icon" href="./favicon-x.svg" />'
        '<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin />\n'
        '<link\n  href="https://fonts.googleapis.com/css2?family=Geist"\n  rel="stylesheet"\n/>'
        '<link rel="stylesheet" href="local.css" /></head>'
        "<body><a href='https://docs.example.org'>docs</a></body></html>",
        encoding="utf-8",
    )
    elementary.tidy_report(page)
    html = page.read_text(encoding="utf-8")
    assert "fonts.g" not in html and "favicon" not in html
    assert '<link rel="stylesheet" href="local.css" />' in html
    assert "https://docs.example.org" in html  # links people click stay
    assert html.startswith("<script>window.VITE_API_BASE_URL")
    found = elementary._REPORT_DATA.search(html)
    assert found
    tidy = json.loads(base64.b64decode(found.group(1)))
    assert tidy["models"]["m"]["normalized_full_path"] == "windfarm/seeds_csv/x.csv"


def test_install_says_once_when_the_hub_does_not_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "dbt_project"
    (project / "monitoring").mkdir(parents=True)
    settings = replace(load_settings(), dbt_project_dir=str(project))
    # a loopback port nobody listens on: refused at once
    status = elementary.install(settings, hub_url="http://127.0.0.1:9/api/v1/index.json")
    assert status == "unreachable"
    printed = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(printed) == 1 and printed[0].startswith("[elementary] the dbt hub did not answer")
    assert not (project / "monitoring" / "dbt_packages").exists()
