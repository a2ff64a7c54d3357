"""Elementary for real, on the demo month: the monitoring build, `edr report`, the run's link.

The released packages (elementary 0.25.1 with dbt_utils, from the folder of released dbt
packages beside the repository: ../shared/vendor/dbt_packages) stand in for the dbt hub:
they are staged as `dbt deps` lays them out, in the dbt_project/monitoring/dbt_packages/
of a private mirror of the repository (its folders linked in, `mirror_of_the_repository`)
and in the dbt_packages/ of edr's internal dbt project, for this module only (removed
afterwards when this module put them there), and the module is skipped with the reason
when that folder is absent. Not in the repository itself: a run elsewhere in the session
(another pytest worker) would find the package and build the monitors too.

One run on a copy of the session's demo warehouse whose weather stopped on STALE_FROM
(as if the API had gone quiet): `pipeline.build_only` over the demo month (Elementary's
models and monitors selected: the demo's models are there already), started from the
mirror's root with a relative WINDFARM_DBT_PROJECT_DIR (the documented setting that used
to break `edr report`), and every HTTP(S) request of dbt and edr sent to a proxy on
loopback that answers none and records them: there must be none.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from warehouse_sql import query

from loaders.demo_park.park import DEMO_END, DEMO_START
from loaders.reports import elementary
from loaders.run import pipeline
from loaders.settings import PROJECT_ROOT, Settings

VENDOR = PROJECT_ROOT.parent / "shared" / "vendor" / "dbt_packages"
MONITORING = PROJECT_ROOT / "dbt_project" / "monitoring"
STALE_FROM = date(2025, 10, 25)  # the weather source's last day is the day before
# Elementary scores a day against the days before it and itself (a z-score over the
# training window): a lone outlier among n days scores at most (n - 1) / sqrt(n), so the
# sensitivity of 3 is reachable from the 11th day of a history on.
MIN_HISTORY_DAYS = 11
CRITICAL_SPIKES = {"wind_speed", "gearbox_oil_temp", "ambient_temp", "generator_stator_temp"}


def _stage(source: Path, target: Path) -> bool:
    """Copy a released package where `dbt deps` puts it; False when it was there already."""
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target)
    return True


def mirror_of_the_repository(root: Path) -> Path:
    """`root` laid out as the repository is for dbt and edr: the main project's files and
    folders, seeds_csv/ and config/ linked in; a monitoring folder of its own (its tracked
    files copied), where the packages are staged. Returns the monitoring folder."""
    for shared in ("seeds_csv", "config"):
        os.symlink(PROJECT_ROOT / shared, root / shared)
    main = PROJECT_ROOT / "dbt_project"
    monitoring = root / "dbt_project" / "monitoring"
    monitoring.mkdir(parents=True)
    for entry in main.iterdir():
        if entry.name not in ("monitoring", "target", "logs", "dbt_packages"):
            os.symlink(entry, root / "dbt_project" / entry.name)
    for name in ("packages.yml", "package-lock.yml", "profiles.yml"):
        shutil.copyfile(MONITORING / name, monitoring / name)
    return monitoring


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The root of the module's mirror of the repository."""
    root = tmp_path_factory.mktemp("repository_mirror")
    mirror_of_the_repository(root)
    return root


@pytest.fixture(scope="module")
def staged(demo, mirror: Path) -> Iterator[None]:  # noqa: ANN001 - the session's demo run
    if not (VENDOR / "elementary-0.25.1" / "dbt_project.yml").is_file():
        pytest.skip(f"the released dbt packages are not in {VENDOR} (offline stand-in for the hub)")
    internal = elementary.edr_internal_packages()
    assert internal is not None, "elementary-data (edr) is pinned in requirements.txt"
    packages = mirror / "dbt_project" / "monitoring" / "dbt_packages"
    placed = [
        target
        for source, target in (
            (VENDOR / "elementary-0.25.1", packages / "elementary"),
            (VENDOR / "dbt_utils-1.4.1", packages / "dbt_utils"),
            (VENDOR / "elementary-0.25.1", internal / "elementary"),
            (VENDOR / "dbt_utils-0.8.6", internal / "dbt_utils"),
        )
        if _stage(source, target)
    ]
    yield
    for target in placed:
        shutil.rmtree(target, ignore_errors=True)
    for folder in {target.parent for target in placed}:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


class RecordingProxy:
    """An HTTP proxy on loopback that answers nothing and remembers each request line."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(2)
                try:
                    first = connection.recv(4096).split(b"\r\n", 1)[0]
                except OSError:
                    first = b"?"
                self.requests.append(first.decode("latin-1"))
                connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        self._server.close()


@dataclass(frozen=True)
class Monitored:
    settings: Settings
    outcome: pipeline.RunOutcome
    page: Path
    report: Path
    outbound: list[str]
    home_before: set[str]


# Elementary's models and monitors only: the demo's models are built already, and the
# whole monitoring build (400 nodes) would add minutes to CI for nothing checked here.
SELECT = ("--select", "package:elementary tag:elementary")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY")


@pytest.fixture(scope="module")
def monitored(
    demo,  # noqa: ANN001
    staged: None,
    mirror: Path,
    database_copy,  # noqa: ANN001
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Monitored]:
    settings, _, _ = demo
    work = tmp_path_factory.mktemp("elementary_run")
    home_edr = Path.home() / ".edr"
    home_before = {p.name for p in home_edr.iterdir()} if home_edr.is_dir() else set()
    with database_copy(settings, "edr") as copy:
        query(copy, "delete from raw.weather_hourly where observed_at >= %s", (STALE_FROM,))
        run_settings = replace(
            copy, dbt_project_dir="dbt_project", reports_dir=str(work / "reports")
        )
        proxy = RecordingProxy()
        saved = {name: os.environ.get(name) for name in (*PROXY_VARIABLES, "NO_PROXY")}
        folder = Path.cwd()
        os.chdir(mirror)  # the relative setting is read from here, as dbt reads it
        os.environ.update({name: proxy.url for name in PROXY_VARIABLES})
        os.environ["NO_PROXY"] = "127.0.0.1,localhost"
        try:
            outcome = pipeline.build_only(run_settings, DEMO_START, DEMO_END, *SELECT)
        finally:
            os.chdir(folder)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            proxy.close()
        assert outcome.report_path, "the run wrote no quality page"
        page = Path(outcome.report_path)
        yield Monitored(
            run_settings,
            outcome,
            page,
            page.parent / elementary.REPORT,
            list(proxy.requests),
            home_before,
        )


def test_the_run_builds_the_monitors_and_links_the_elementary_report(
    monitored: Monitored,
) -> None:
    results = json.loads(
        (Path(monitored.settings.dbt_target_dir) / "run_results.json").read_text(encoding="utf-8")
    )
    monitors = [
        r
        for r in results["results"]
        if r["unique_id"].startswith("test.") and ".elementary_" in r["unique_id"]
    ]
    assert len(monitors) >= 18, "the run did not build the monitoring project"
    assert all(r["status"] in ("pass", "warn") for r in monitors), monitors
    assert monitored.outcome.dbt.status == "success"
    assert monitored.report.is_file(), "edr report wrote nothing"
    html = monitored.page.read_text(encoding="utf-8")
    assert 'data-elementary-status="written"' in html
    assert f'href="{elementary.REPORT}"' in html
    assert monitored.report.stat().st_size > 1_000_000


def anomalies(settings: Settings) -> set[tuple[str, str | None, str, str | None, date]]:
    """(test, column, metric, dimension value, day) of every anomalous bucket Elementary
    stored for the latest run of its tests."""
    rows = query(
        settings,
        """
        select t.test_short_name, t.column_name, r.result_row
          from elementary.test_result_rows r
          join elementary.elementary_test_results t on t.id = r.elementary_test_results_id
        """,
    )
    found = set()
    for test, column, row in rows:
        score = json.loads(row)
        if score.get("is_anomalous"):
            day = datetime.fromisoformat(score["bucket_start"]).date()
            found.add((test, column, score["metric_name"], score.get("dimension_value"), day))
    return found


def test_the_demo_month_is_judged_at_its_own_time(monitored: Monitored) -> None:
    days = query(
        monitored.settings,
        """
        select min(bucket_start)::date, max(bucket_end)::date
          from elementary.data_monitoring_metrics
         where full_table_name ilike '%.core.fct_turbine_measurements'
        """,
    )[0]
    assert days == (DEMO_START, DEMO_END + timedelta(days=1))


def test_the_injected_spikes_are_elementary_anomalies_on_their_day(
    demo,  # noqa: ANN001
    monitored: Monitored,
) -> None:
    _, park, _ = demo
    found = anomalies(monitored.settings)
    expected = set()
    for fault in park.faults:
        signal = (fault.signal or "").removesuffix("_avg")
        day = fault.start_utc.date()
        if fault.kind == "spike" and signal in CRITICAL_SPIKES:
            if (day - DEMO_START).days + 1 >= MIN_HISTORY_DAYS:
                expected.add((f"{signal}_avg", day))
    assert expected, "no spike late enough in the month to be judged: nothing to check"
    seen = {(column, day) for test, column, metric, _, day in found if test == "column_anomalies"}
    assert expected <= seen, f"missing: {expected - seen}; found: {sorted(seen)}"


def test_the_turbine_days_with_a_dropout_fall_below_their_expected_volume(
    demo,  # noqa: ANN001
    monitored: Monitored,
) -> None:
    """Per turbine-day, Elementary counts the periods present on the day of each dropout,
    below the turbine's usual 144."""
    _, park, _ = demo
    counted = {
        (turbine, day): value
        for turbine, day, value in query(
            monitored.settings,
            """
            select dimension_value, bucket_start::date, metric_value
              from elementary.data_monitoring_metrics
             where full_table_name ilike '%.core.fct_turbine_measurements'
               and dimension = 'turbine_id'
            """,
        )
    }
    dropouts = [fault for fault in park.faults if fault.kind == "dropout"]
    assert dropouts
    for fault in dropouts:
        day = fault.start_utc.date()
        assert counted[(fault.turbine_id, day)] < 144, (fault, counted.get((fault.turbine_id, day)))
    usual = [v for (turbine, day), v in counted.items() if day == date(2025, 10, 12)]
    assert usual and set(usual) == {144}


def test_a_stale_source_fails_freshness(monitored: Monitored) -> None:
    rows = query(
        monitored.settings,
        """
        select t.test_short_name, t.table_name, t.status
          from elementary.elementary_test_results t
         where t.test_short_name = 'freshness_anomalies'
        """,
    )
    status = {table: state for _, table, state in rows}
    assert status.get("weather_hourly") in ("warn", "fail"), rows
    assert status.get("scada_measurements") == "pass", rows
    found = anomalies(monitored.settings)
    stale_days = {day for test, _, _, _, day in found if test == "freshness_anomalies"}
    assert stale_days and min(stale_days) >= STALE_FROM, stale_days


# --- private by default -------------------------------------------------------------------


def test_nothing_leaves_the_machine_and_nothing_is_left_in_the_repository(
    monitored: Monitored, mirror: Path
) -> None:
    assert monitored.outbound == [], "dbt or edr sent requests out"
    html = monitored.report.read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in html and "fonts.gstatic.com" not in html
    assert "window.VITE_API_BASE_URL" in html
    listed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", "."],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode == 0:  # a git checkout (a source archive has nothing to check)
        stray = [line for line in listed.stdout.splitlines() if line.startswith("??")]
        assert not stray, stray
    for root in (PROJECT_ROOT, mirror):  # the repository, and where the run was started
        assert not list((root / "dbt_project" / "monitoring").glob(".user.yml"))
        assert not (root / "edr_target").exists()
    home_edr = Path.home() / ".edr"
    after = {p.name for p in home_edr.iterdir()} if home_edr.is_dir() else set()
    assert after == monitored.home_before, "edr wrote into the user's ~/.edr"


# --- seen in a browser ----------------------------------------------------------------------

CHROMIUM = ("/usr/bin/chromium", "chromium", "chromium-browser")
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def test_chromium_draws_the_report_without_any_request_out(
    monitored: Monitored, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The report opened from disk in headless Chromium (driven by Playwright): the
    dashboard, the test results with the anomalies, the lineage graph of a mart; every
    request stays on the machine and none fails. Screenshots: the pytest tmp folder (and
    WINDFARM_TEST_ARTIFACTS when set, as CI keeps them)."""
    chromium = next((found for c in CHROMIUM if (found := shutil.which(c))), None)
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian/Ubuntu: `apt-get install -y chromium`)")
    from playwright.sync_api import sync_playwright

    shots = tmp_path_factory.mktemp("elementary_screenshots")
    requests: list[str] = []
    failed: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.goto(monitored.report.as_uri())
            page.get_by_text("Test results breakdown").wait_for(timeout=60_000)
            page.screenshot(path=shots / "dashboard.png")

            page.get_by_text("Test Results", exact=True).first.click()
            page.get_by_text("column_anomalies").first.wait_for(timeout=60_000)
            page.get_by_text("freshness_anomalies").first.wait_for(timeout=60_000)
            results = page.inner_text("body")
            assert "generator_stator_temp_avg" in results and "weather_hourly" in results
            page.screenshot(path=shots / "test_results.png")

            # a page of its own: the test results page has a search box too
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.goto(monitored.report.as_uri() + "#/report/lineage")
            page.get_by_placeholder("Search").fill("fct_daily_production")
            page.get_by_text("fct_daily_production", exact=True).first.click()
            page.locator(".react-flow__node").nth(2).wait_for(timeout=60_000)
            assert page.locator(".react-flow__edge").count() >= 2
            page.screenshot(path=shots / "lineage.png")
            tree = page.inner_text("body")
            assert "\n..\n" not in tree, "the asset tree shows a '..' folder"
        finally:
            browser.close()
    outside = [url for url in requests if not url.startswith(LOCAL_SCHEMES)]
    assert not outside, outside
    assert not failed, failed
    for name in ("dashboard.png", "test_results.png", "lineage.png"):
        assert (shots / name).stat().st_size > 20_000, f"{name} looks blank"
    artifacts = os.environ.get("WINDFARM_TEST_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        for shot in shots.iterdir():
            shutil.copyfile(shot, Path(artifacts) / f"elementary_{shot.name}")
    print(f"Elementary report screenshots: {shots}")
