"""The warehouse explorer (loaders/explore/) on the demo month.

Each view is run with Streamlit's own app testing (`streamlit.testing.v1.AppTest`):
no exception, its charts and tables drawn from the marts. Then the real server is
started on loopback and driven by headless Chromium: every view is opened, with no
console error and no request leaving the machine; screenshots are kept under the test's
temporary folder (pytest prints where on failure). The app reads as the analyst role:
that role cannot read raw, where the sources land with their pseudonymised identities."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import psycopg2
import pytest

from loaders import explore
from loaders.explore import queries
from loaders.settings import Settings

APP = str(explore.APP)
VIEWS = ("Fleet", "Turbine", "Power curve", "ML mart", "Ingestion")


def app_environment(settings: Settings) -> dict[str, str]:
    return {
        "WINDFARM_PGHOST": settings.pghost,
        "WINDFARM_PGPORT": str(settings.pgport),
        "WINDFARM_DATABASE": settings.database,
    }


@pytest.fixture
def app_settings(demo, monkeypatch: pytest.MonkeyPatch) -> Settings:  # noqa: ANN001
    settings, _, _ = demo
    for name, value in app_environment(settings).items():
        monkeypatch.setenv(name, value)
    return settings


def run_view(view: str):  # noqa: ANN201
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.sidebar.radio(key="view").set_value(view).run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    return app


def charts(app) -> list:  # noqa: ANN001
    return app.get("vega_lite_chart")


def test_fleet_view_draws_completeness_flags_energy_states_and_availability(app_settings) -> None:  # noqa: ANN001
    app = run_view("Fleet")
    titles = [s.value for s in app.subheader]
    assert any("completeness" in t.lower() for t in titles)
    assert any("availability" in t.lower() for t in titles) or len(charts(app)) >= 4
    assert len(charts(app)) >= 4
    tables = [frame.value for frame in app.dataframe]
    failed_days = next(t for t in tables if "completeness" in t.columns)
    # the demo park's injected gaps and flags mark days of every turbine
    assert set(failed_days["turbine_id"]) >= {"MTC-T01", "MTC-T02", "MTC-T03"}
    availability = next(t for t in tables if "time_based_availability" in t.columns)
    lowest = availability.sort_values("time_based_availability").iloc[0]
    assert lowest["turbine_id"] == "MTC-T02"  # the gearbox bearing failure
    assert lowest["lost_forced_outage_kwh"] > 10_000


def test_turbine_view_draws_signals_events_and_labels(app_settings) -> None:  # noqa: ANN001
    app = run_view("Turbine")
    assert "10 min grain" in app.caption[0].value  # a week: the 10-minute fact
    assert len(charts(app)) >= 1
    app.sidebar.selectbox(key="compare").set_value("MTC-T02").run()
    assert not app.exception
    app.sidebar.date_input(key="turbine_days").set_value(
        (
            app.sidebar.date_input(key="turbine_days").min,
            app.sidebar.date_input(key="turbine_days").max,
        )
    ).run()
    assert not app.exception
    assert "hour grain" in app.caption[0].value  # a month: the hourly fact


def test_power_curve_view_draws_valid_and_flagged_periods(app_settings) -> None:  # noqa: ANN001
    app = run_view("Power curve")
    assert len(charts(app)) == 1
    assert "periods" in app.caption[0].value


def test_ml_view_applies_the_split_rule(app_settings) -> None:  # noqa: ANN001
    app = run_view("ML mart")
    assert len(charts(app)) == 2
    splits = app.table[0].value if app.table else app.dataframe[0].value
    assert {"train", "test"} <= set(splits.index)


def test_ingestion_view_lists_the_runs(app_settings) -> None:  # noqa: ANN001
    app = run_view("Ingestion")
    runs = app.dataframe[0].value
    assert len(runs) >= 1 and set(runs["status"]) <= {"success", "partial", "failed"}


def test_the_explorer_reads_as_a_role_that_sees_no_raw_data(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    assert len(queries.turbines(settings)) == 3
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        queries.read(settings, "select count(*) from raw.scada_measurements")
    with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
        queries.read(settings, "create temporary table t (x int)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(demo, tmp_path: Path) -> Iterator[str]:  # noqa: ANN001
    settings, _, _ = demo
    port = free_port()
    log = (tmp_path / "streamlit.log").open("w")
    process = subprocess.Popen(
        explore.streamlit_command(port),
        env={**os.environ, **app_environment(settings)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                health = f"{url}/_stcore/health"  # http on loopback, built here
                with urllib.request.urlopen(health, timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"the explorer did not start: see {tmp_path / 'streamlit.log'}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_chromium_opens_every_view_with_no_error_and_no_outside_request(
    server: str, tmp_path: Path
) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("Chromium is not installed: `apt-get install -y chromium` (CI does)")
    from playwright.sync_api import sync_playwright

    console_errors: list[str] = []
    outside: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on(
            "request",
            lambda r: (
                outside.append(r.url)
                if urlparse(r.url).hostname not in ("127.0.0.1", "localhost", None)
                and not r.url.startswith(("data:", "blob:"))
                else None
            ),
        )
        page.goto(server, timeout=120_000)
        for view in VIEWS:
            page.get_by_text(view, exact=True).first.click(timeout=120_000)
            # exact: the view before may still show a heading that contains the name
            # ("Availability and lost energy per turbine") while this one is drawn
            page.get_by_role("heading", name=view, exact=True).wait_for(timeout=60_000)
            page.wait_for_load_state("networkidle")
            if view != "Ingestion":
                page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60_000)
            # Streamlit greys the page while the script runs: wait until it is done
            page.locator("[data-testid='stStatusWidget']").wait_for(
                state="detached", timeout=60_000
            )
            page.screenshot(path=str(tmp_path / f"explorer_{view.replace(' ', '_')}.png"))
        browser.close()
    assert not outside, outside
    assert not console_errors, console_errors
    assert len(list(tmp_path.glob("explorer_*.png"))) == len(VIEWS)
