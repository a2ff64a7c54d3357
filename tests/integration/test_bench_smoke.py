"""The fleet benchmark (scripts/bench) on a tiny fleet: it runs every step on real
PostgreSQL and a real weather server, and writes its figures. Speed itself is never
asserted here (the benchmark measures it; tests only check that it can)."""

from __future__ import annotations

import json
import secrets
import sqlite3
from datetime import date
from pathlib import Path

from warehouse_sql import scalar

from loaders.settings import Settings
from scripts.bench import report, run_bench
from scripts.bench.fleet import PERIODS_PER_DAY, generate_fleet


def test_fleet_has_the_historian_schema_and_is_deterministic(tmp_path: Path) -> None:
    first = generate_fleet(tmp_path / "a", turbines=3, first_day=date(2025, 3, 1), days=2)
    again = generate_fleet(tmp_path / "b", turbines=3, first_day=date(2025, 3, 1), days=2)
    with sqlite3.connect(first.sensor_db) as conn, sqlite3.connect(again.sensor_db) as other:
        columns = [row[1] for row in conn.execute("pragma table_info(scada_10min)")]
        rows = conn.execute("select * from scada_10min order by id").fetchall()
        assert rows == other.execute("select * from scada_10min order by id").fetchall()
        turbines = conn.execute("select count(*) from turbine").fetchone()[0]
    assert columns[:3] == ["id", "turbine_id", "ts_utc"] and "WMET_EnvTmp" in columns
    assert turbines == 3
    # a few periods dropped and duplicated, as a real historian does
    assert abs(len(rows) - 3 * 2 * PERIODS_PER_DAY) < 20
    assert rows[0][2] == "2025-03-01 00:00:00"
    assert (first.weather_dir / "F01.json").exists()


def test_checks_compare_within_one_run() -> None:
    def step(rows: int, seconds: float) -> dict:
        return {
            "rows": rows,
            "seconds": seconds,
            "peak_rss_mib": 300.0,
            "peak_rss_children_mib": 100.0,
        }

    histories = {
        "30": {
            "days": 30,
            "copy": step(1000, 1.0),
            "load": step(1000, 4.0),
            "daily_run": step(10, 20.0),
        },
        "365": {
            "days": 365,
            "copy": step(9000, 9.0),
            "load": step(9000, 12.0),
            "daily_run": step(10, 30.0),
        },
    }
    found = {c["target"].split(" (")[0].split(",")[0]: c for c in run_bench.checks(histories, 100)}
    assert [c["ok"] for c in run_bench.checks(histories, 100)] == [False, True, False, True]
    assert found["daily run after 365 days <= 1.3x after 30 days"]["value"] == 1.5
    assert found["loader peak memory"]["value"] == 300


def test_the_loaders_rate_beyond_its_fixed_cost() -> None:
    def step(rows: int, seconds: float) -> dict:
        return {"rows": rows, "seconds": seconds}

    measured = {"copy": step(1000, 1.0), "load": step(1000, 4.0), "load_empty": step(0, 1.5)}
    seconds, rate, ratio = report.beyond_fixed_cost(measured)
    assert (seconds, rate, ratio) == (2.5, 400.0, 0.4)
    assert report.beyond_fixed_cost({**measured, "load_empty": step(0, 4.5)}) is None
    del measured["load_empty"]  # a result file from before the step existed
    assert report.beyond_fixed_cost(measured) is None


def test_bench_runs_every_step_and_writes_its_page(tmp_path: Path, settings: Settings) -> None:
    """`settings` first: a clear failure when PostgreSQL does not answer."""
    results, page = tmp_path / "results", tmp_path / "performance.md"
    prefix = f"windfarm_test_bench_{secrets.token_hex(3)}"
    code = run_bench.main(
        [
            "--turbines",
            "2",
            "--days",
            "2",
            "--start",
            "2025-03-01",
            "--repeat",
            "1",
            "--work-dir",
            str(tmp_path / "work"),
            "--results-dir",
            str(results),
            "--doc",
            str(page),
            "--db-prefix",
            prefix,
        ]
    )
    assert code in (0, 3)  # 3: a target missed, which a 2-turbine fleet may well do
    saved = json.loads((results / "2t_2d.json").read_text(encoding="utf-8"))
    measured = saved["histories"]["2"]
    with sqlite3.connect(tmp_path / "work" / "fleet" / "sensor.db") as conn:
        in_history = conn.execute(
            "select count(*) from scada_10min where ts_utc < '2025-03-03'"
        ).fetchone()[0]
    assert measured["copy"]["rows"] == in_history
    assert measured["load"]["rows"] == in_history  # the loader landed every row COPY did
    assert measured["copy_raw"]["rows"] == in_history  # and the second reference copied them
    assert set(measured["copy_raw"]["parts"]) == {"copy", "indexes"}
    assert measured["load_empty"]["rows"] == 0  # its window is before the fleet's first row
    keys = (
        "copy",
        "copy_raw",
        "load",
        "load_empty",
        "dbt_full",
        "load_one_day",
        "dbt_incremental",
        "daily_run",
    )
    for key in keys:
        assert measured[key]["seconds"] > 0, key
        assert measured[key]["peak_rss_mib"] > 0, key
    assert measured["daily_run"]["parts"]["dbt_build"] > 0
    # --repeat 1 (each repetition costs a daily run with its dbt build): one sample each
    for key in ("copy", "copy_raw", "load", "load_empty", "daily_run"):
        assert len(measured[key]["samples_seconds"]) == 1, key
        assert round(measured[key]["seconds"], 2) == min(measured[key]["samples_seconds"]), key
    # the backfill's time, split: dlt's steps from its trace, the raw indexes, the rest
    parts = measured["load"]["parts"]
    assert {"dlt_extract", "dlt_normalize", "dlt_load", "raw_indexes"} <= parts.keys()
    assert parts["dlt_load"] > 0 and parts["raw_indexes"] > 0
    assert parts["other"] >= -0.05  # the measured parts lie within the step's time (rounded)
    assert {q["name"] for q in measured["queries"]} >= {"turbine_hourly_30d", "fleet_latest_day"}
    # the databases were dropped at the end
    dropped = "select count(*) = 0 from pg_database where datname like %s"
    assert scalar(settings, dropped, (prefix + "%",))
    text = page.read_text(encoding="utf-8")
    assert report.MARKER not in text
    assert "× COPY" in text and "2 turbines, history 2 days" in text
    assert "Backfill split: dlt extract" in text
    assert "sensor loader on a window without rows (fixed cost)" in text
