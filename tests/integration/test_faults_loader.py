"""The loader's database connection cut in the middle of a load, on the real database.

The cut is real: the test holds a lock on raw.scada_measurements so that the loader's merge
waits, finds the loader's backend in pg_stat_activity (usename = the loader role) and ends
it with pg_terminate_backend. After every scenario: every source row of the loaded days is
in raw or in the rejected table (count invariant), and none is there twice.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import dlt
import pytest
from warehouse_sql import query, sensor_rows_landed

from loaders import warehouse
from loaders.run import pipeline
from loaders.settings import Settings
from loaders.sources.landing import SourceOutcome

FIRST, LAST = date(2025, 10, 1), date(2025, 10, 3)
WAIT_SECONDS = 60


@pytest.fixture
def loader_settings(
    settings: Settings, tmp_path: Path, park_warehouse: Callable
) -> Iterator[Settings]:
    """An empty warehouse of its own, the demo park's first three days as sources."""
    with park_warehouse(settings, tmp_path, "loader", FIRST, LAST, sensor_lookback_days=1) as (
        isolated,
        _,
    ):
        yield isolated


def sensor_db(settings: Settings) -> Path:
    return Path(settings.sensor_db_url.removeprefix("sqlite:///"))


def assert_nothing_lost_nothing_doubled(settings: Settings, last_day: date) -> None:
    """Source rows up to `last_day` = raw rows + rejected rows; no row twice."""
    with sqlite3.connect(sensor_db(settings)) as source:
        source_rows = source.execute(
            "select count(*) from scada_10min where ts_utc < date(?, '+1 day')",
            (last_day.isoformat(),),
        ).fetchone()[0]
    assert sensor_rows_landed(settings) == source_rows
    doubled = query(
        settings,
        "select turbine_id, measured_at, source_row_id from raw.scada_measurements "
        "group by 1, 2, 3 having count(*) > 1",
    )
    assert doubled == []


class CutLoader:
    """Blocks the loader's merge into raw.scada_measurements behind a table lock and ends
    its connection, `times` times (None: every time it comes back), then lets it through."""

    def __init__(self, settings: Settings, times: int | None) -> None:
        self.settings = settings
        self.times = times
        self.cuts = 0
        self.blocker = warehouse.connect(settings, "admin")

    def __enter__(self) -> CutLoader:
        with self.blocker.cursor() as cursor:
            cursor.execute("lock table raw.scada_measurements in access exclusive mode")
        return self

    def run(self, target: threading.Thread) -> None:
        target.start()
        deadline = time.monotonic() + WAIT_SECONDS
        while target.is_alive() and time.monotonic() < deadline:
            if self.times is not None and self.cuts >= self.times:
                break
            waiting = query(
                self.settings,
                "select pid from pg_stat_activity where usename = %s "
                "and datname = current_database() and wait_event_type = 'Lock'",
                (self.settings.loader_user,),
            )
            for (pid,) in waiting:
                query(self.settings, "select pg_terminate_backend(%s)", (pid,))
                self.cuts += 1
            time.sleep(0.05)
        self.blocker.rollback()  # release the table: the loader may go through now
        target.join(WAIT_SECONDS)
        assert not target.is_alive(), "the run did not end"

    def __exit__(self, *exc: object) -> None:
        self.blocker.close()


def run_in_thread(settings: Settings, day: date, into: dict) -> threading.Thread:
    def target() -> None:
        into["outcome"] = pipeline.run(settings, day, day, build=False, with_report=False)

    return threading.Thread(target=target, name=f"run-{day}")


def sensor(outcome: pipeline.RunOutcome) -> SourceOutcome:
    return next(s for s in outcome.sources if s.name == "sensor_db")


def pending_packages(settings: Settings) -> bool:
    attached = dlt.attach(
        pipeline_name="windfarm_sensor_db",
        pipelines_dir=str(Path(settings.dlt_dir) / settings.database),
    )
    return attached.has_pending_data


def test_a_cut_load_is_retried_and_a_load_cut_for_good_is_finished_by_the_next_run(
    loader_settings: Settings,
) -> None:
    assert pipeline.run(loader_settings, FIRST, FIRST, build=False).status == "success"

    # Cut once: dlt retries the job on a new connection, within the run.
    result: dict = {}
    with CutLoader(loader_settings, times=1) as cut:
        cut.run(run_in_thread(loader_settings, date(2025, 10, 2), result))
    assert cut.cuts == 1
    assert result["outcome"].status == "success"
    assert not pending_packages(loader_settings)
    assert_nothing_lost_nothing_doubled(loader_settings, date(2025, 10, 2))

    # Cut for good (the database stays away): the source fails, its package stays pending.
    with CutLoader(loader_settings, times=None) as cut:
        cut.run(run_in_thread(loader_settings, LAST, result))
    cut_run = result["outcome"]
    assert cut.cuts >= 2
    assert (cut_run.status, cut_run.exit_code) == ("partial", pipeline.EXIT_PARTIAL)
    assert not sensor(cut_run).ok
    assert any(
        words in sensor(cut_run).error  # libpq says one or the other, depending on timing
        for words in ("server closed the connection", "terminating connection")
    ), sensor(cut_run).error
    assert {s.name for s in cut_run.sources if s.ok} == {"production_csv", "weather_api"}
    assert pending_packages(loader_settings)  # kept: the database went away, not the data
    audit_row = query(
        loader_settings,
        "select status, errors ? 'sensor_db' from audit.pipeline_runs where run_id = %s",
        (cut_run.run_id,),
    )
    assert audit_row == [("partial", True)]

    next_run = pipeline.run(loader_settings, LAST, LAST, build=False, with_report=False)

    assert next_run.status == "success"
    notes = sensor(next_run).details["pending_packages"]
    assert len(notes) == 1 and notes[0].startswith("finished load package")
    assert not pending_packages(loader_settings)
    assert_nothing_lost_nothing_doubled(loader_settings, LAST)


def test_a_package_that_can_no_longer_load_is_discarded_deliberately(
    loader_settings: Settings,
) -> None:
    """A pending package holding a row the warehouse now refuses (a check constraint added
    after it was extracted, while the source corrected the row) cannot be finished: it is
    aborted, said in the audit row, and the run loads the source's corrected rows."""
    assert pipeline.run(loader_settings, FIRST, FIRST, build=False).status == "success"
    with sqlite3.connect(sensor_db(loader_settings)) as source:
        (row_id,) = source.execute(
            "select min(id) from scada_10min where ts_utc >= '2025-10-02'"
        ).fetchone()
        source.execute("update scada_10min set WMET_HorWdSpd = 999 where id = ?", (row_id,))
    result: dict = {}
    with CutLoader(loader_settings, times=None) as cut:
        cut.run(run_in_thread(loader_settings, date(2025, 10, 2), result))
    assert result["outcome"].status == "partial" and pending_packages(loader_settings)
    with sqlite3.connect(sensor_db(loader_settings)) as source:
        source.execute("update scada_10min set WMET_HorWdSpd = 7.5 where id = ?", (row_id,))
    query(
        loader_settings,
        "alter table raw.scada_measurements add constraint wind_speed_is_plausible "
        "check (wind_speed_avg is null or wind_speed_avg < 100)",
    )

    next_run = pipeline.run(
        loader_settings, date(2025, 10, 2), date(2025, 10, 2), build=False, with_report=False
    )

    notes = sensor(next_run).details["pending_packages"]
    assert len(notes) == 1 and notes[0].startswith("discarded load package")
    assert "wind_speed_is_plausible" in notes[0]
    assert next_run.status == "partial"  # said loudly: the operator decides about its days
    assert "discarded load package" in sensor(next_run).error
    assert not pending_packages(loader_settings)
    assert query(
        loader_settings,
        "select wind_speed_avg from raw.scada_measurements where source_row_id = %s",
        (row_id,),
    ) == [(7.5,)]
    assert_nothing_lost_nothing_doubled(loader_settings, date(2025, 10, 2))
