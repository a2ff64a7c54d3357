"""Late data and a run killed in the middle of `dbt build`, end to end on the real database.

One story, in the order it happens in production:
1. a backfill loads 1–4 October day by day and builds once; SCADA rows of 1 October and
   the second half of the month's production export have not arrived yet;
2. they arrive; the backfill is resumed to 5 October: it skips the four loaded days, loads
   the 5th (its sensor lookback reaches back to the 1st, so the late rows land; the late
   CSV file loads), then is killed with SIGKILL while dbt builds the fact table;
3. the same command again: the killed run is recorded as failed, the build runs again,
   and the fact has the late rows (1 October is outside the incremental model's
   reprocess window: it is reprocessed because a newer load rewrote it);
4. `rebuild --from` repairs modelled rows without touching the sources.
Every step checks the count invariant and the absence of duplicates. To keep it quick,
dbt builds the fact, its ancestors and the production staging model only (`dbt_build_args`).
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from cli import settings_variables
from warehouse_sql import query, scalar, sensor_rows_landed

from loaders.cli import main
from loaders.demo_park.simulator import GeneratedPark
from loaders.settings import PROJECT_ROOT, Settings

FIRST, LAST = date(2025, 10, 1), date(2025, 10, 5)
LATE_DAY = date(2025, 10, 1)
LATE_TURBINE, LATE_FROM, LATE_TO = "MTC-T01", "2025-10-01 06:00:00", "2025-10-01 07:50:00"
TURBINES, PERIODS_PER_DAY = 3, 144
REPROCESS_DAYS = 3  # dbt_project.yml's var: the fact reprocesses the newest day minus this
KILL_AT = "START sql incremental model core.fct_turbine_measurements"
LATE_EXPORT = "production_journaliere_2025-10_suite.csv"


@dataclass
class Story:
    settings: Settings
    park: GeneratedPark
    later: Path  # the CSV exports, until they "arrive"


@pytest.fixture(scope="module")
def story(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory, park_warehouse: Callable
) -> Iterator[Story]:
    work = tmp_path_factory.mktemp("late_data")
    build_args = (
        "--select +fct_turbine_measurements stg_production__daily_production "
        "--indirect-selection cautious"  # no tests of models left out
    )
    with park_warehouse(
        settings,
        work,
        "late",
        FIRST,
        LAST,
        sensor_lookback_days=(LAST - LATE_DAY).days,
        dbt_build_args=build_args,
    ) as (isolated, park):
        later = work / "later"
        later.mkdir()
        split_production_export(park.production_csv, later / LATE_EXPORT)
        yield Story(isolated, park, later)


def split_production_export(export: Path, late: Path) -> None:
    """The month's production export arrives in two files: its second half only later
    (same header and encoding, CRLF lines: as the production department sends them)."""
    header, *rows = export.read_text(encoding="utf-8-sig").splitlines()
    half = len(rows) // 2
    for path, part in ((export, rows[:half]), (late, rows[half:])):
        path.write_text("\r\n".join([header, *part]) + "\r\n", encoding="utf-8-sig")


def use(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    for name, value in settings_variables(settings).items():
        monkeypatch.setenv(name, value)


def hold_back_late_rows(story: Story) -> list[tuple]:
    """Remove the late rows from the historian (they 'arrive' later); return them."""
    with sqlite3.connect(story.park.sensor_db) as source:
        where = "turbine_id = ? and ts_utc between ? and ?"
        rows = source.execute(
            f"select * from scada_10min where {where}", (LATE_TURBINE, LATE_FROM, LATE_TO)
        ).fetchall()
        source.execute(f"delete from scada_10min where {where}", (LATE_TURBINE, LATE_FROM, LATE_TO))
    return rows


def late_rows_arrive(story: Story, rows: list[tuple]) -> None:
    with sqlite3.connect(story.park.sensor_db) as source:
        columns = [row[1] for row in source.execute("pragma table_info(scada_10min)")][1:]
        marks = ", ".join("?" * len(columns))
        source.executemany(  # new ids, as rows written late by the historian get
            f"insert into scada_10min ({', '.join(columns)}) values ({marks})",
            [row[1:] for row in rows],
        )
    for export in story.later.iterdir():
        shutil.copy(export, Path(story.settings.csv_inbox) / export.name)


def late_periods_present(settings: Settings) -> int:
    return scalar(
        settings,
        "select count(*) filter (where not is_gap) from core.fct_turbine_measurements "
        "where turbine_id = %s and measured_at between %s::timestamptz and %s::timestamptz",
        (LATE_TURBINE, f"{LATE_FROM}+00", f"{LATE_TO}+00"),
    )


def assert_nothing_lost_nothing_doubled(story: Story, days: int) -> None:
    """The source's rows of the first `days` days = raw + rejected rows; none twice; the
    fact has the complete grid of those days, each period once."""
    last = FIRST + timedelta(days=days)
    with sqlite3.connect(story.park.sensor_db) as source:
        source_rows = source.execute(
            "select count(*) from scada_10min where ts_utc < ?", (last.isoformat(),)
        ).fetchone()[0]
    assert sensor_rows_landed(story.settings) == source_rows
    assert query(
        story.settings,
        "select count(*) from (select 1 from raw.scada_measurements "
        "group by turbine_id, measured_at, source_row_id having count(*) > 1) as doubled",
    ) == [(0,)]
    grid = query(
        story.settings,
        "select count(*), count(distinct (turbine_id, measured_at)) "
        "from core.fct_turbine_measurements",
    )[0]
    assert grid == (TURBINES * days * PERIODS_PER_DAY,) * 2


def kill_during_dbt(settings: Settings, argv: list[str]) -> list[str]:
    """Run the command in its own process group and SIGKILL the whole group (the run and
    its dbt) when dbt starts building the fact table. Returns the output up to then."""
    process = subprocess.Popen(
        [sys.executable, "-m", "loaders", *argv],
        cwd=PROJECT_ROOT,
        env={**os.environ, **settings_variables(settings), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    watchdog = threading.Timer(600, lambda: os.killpg(process.pid, signal.SIGKILL))
    watchdog.start()
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if KILL_AT in line:
                os.killpg(process.pid, signal.SIGKILL)
                break
    finally:
        watchdog.cancel()
        process.wait(60)
    assert process.returncode == -signal.SIGKILL, "\n".join(lines[-40:])
    return lines


def test_late_data_and_a_killed_build_are_recovered(
    story: Story, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = story.settings
    use(monkeypatch, settings)
    late_rows = hold_back_late_rows(story)
    assert len(late_rows) == 12

    # 1. The backfill: day by day, one dbt build at the end.
    assert main(["run", "--from", f"{FIRST}", "--to", f"{LAST - timedelta(days=1)}"]) == 0
    runs = query(
        settings,
        "select run_id like '%%-dbt', status, dbt_status, count(*) from audit.pipeline_runs "
        "group by 1, 2, 3 order by 1",
    )
    assert runs == [(False, "success", "deferred", 4), (True, "success", "success", 1)]
    assert late_periods_present(settings) == 0
    assert_nothing_lost_nothing_doubled(story, days=4)

    # 2. Late rows and late files arrive; the resumed backfill is killed during dbt build.
    late_rows_arrive(story, late_rows)
    output = kill_during_dbt(settings, ["run", "--from", f"{FIRST}", "--to", f"{LAST}"])
    assert any("1 day(s) to load, 4 already loaded successfully" in line for line in output)
    killed = query(
        settings,
        "select run_id, status, ended_at is null from audit.pipeline_runs "
        "order by started_at desc limit 1",
    )[0]
    assert killed[0].endswith("-dbt") and killed[1:] == ("running", True)

    # 3. The same command again: nothing to load, the build runs again and recovers.
    capsys.readouterr()
    assert main(["run", "--from", f"{FIRST}", "--to", f"{LAST}"]) == 0
    assert "0 day(s) to load, 5 already loaded successfully" in capsys.readouterr().out
    status, errors = query(
        settings, "select status, errors from audit.pipeline_runs where run_id = %s", (killed[0],)
    )[0]
    assert status == "failed" and "never finished" in errors["interrupted"]
    assert LATE_DAY < LAST - timedelta(days=REPROCESS_DAYS)  # only a newer load brings it back
    assert late_periods_present(settings) == len(late_rows)
    assert_nothing_lost_nothing_doubled(story, days=5)
    production_files = (story.park.production_csv.name, LATE_EXPORT)
    for table, files, rows in (
        ("production_daily", production_files, story.park.production_rows),
        ("maintenance_log", (story.park.maintenance_csv.name,), story.park.maintenance_rows),
    ):
        landed = scalar(
            settings,
            f"select (select count(*) from raw.{table} where _source_file = any(%s)) "
            f"+ (select count(*) from raw.{table}__rejected where _source_file = any(%s))",
            (list(files), list(files)),
        )
        assert landed == rows, table  # every line of every file: loaded or rejected
    late_file_rows = query(
        settings,
        "select count(*) from raw.production_daily where _source_file = %s",
        (LATE_EXPORT,),
    )
    assert late_file_rows[0][0] > 0
    assert query(
        settings,
        "select (select count(*) from staging.stg_production__daily_production) "
        "= (select count(*) from raw.production_daily)",
    ) == [(True,)]

    # 4. rebuild --from repairs the models from that day on, without the sources.
    fingerprint = (
        "select count(*), md5(string_agg(fact::text, '|' order by turbine_id, measured_at)) "
        "from core.fct_turbine_measurements as fact where measured_date = %s"
    )
    before = query(settings, fingerprint, (FIRST,))
    query(
        settings,
        "update core.fct_turbine_measurements set wind_speed_avg = -1 where measured_date = %s",
        (FIRST,),
    )
    assert query(settings, fingerprint, (FIRST,)) != before
    code = main(["rebuild", "--from", f"{FIRST}", "--select", "fct_turbine_measurements"])
    assert code == 0
    assert query(settings, fingerprint, (FIRST,)) == before
    assert_nothing_lost_nothing_doubled(story, days=5)
