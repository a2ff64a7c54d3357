"""Shared fixtures: a fresh PostgreSQL database per test session, dropped afterwards.

The server is the one the pipeline would use (WINDFARM_PGHOST/PGPORT, default
127.0.0.1:5432, administrator WINDFARM_ADMIN_USER, default postgres).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from psycopg2 import sql

from loaders import warehouse
from loaders.run import pipeline
from loaders.settings import Settings, load_settings

TEST_PSEUDONYM_KEY = "test-key-" + secrets.token_hex(32)  # runs refuse weak keys


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings pointing at a new database and at temporary folders for everything else."""
    work = tmp_path_factory.mktemp("windfarm")
    configured = load_settings()
    if not warehouse.server_answers(configured):
        pytest.fail(
            f"PostgreSQL does not answer at {configured.pghost}:{configured.pgport} as "
            f"{configured.admin_user}: start it (CI does) or set WINDFARM_PGHOST/WINDFARM_PGPORT"
        )
    test_settings = replace(
        configured,
        database=f"windfarm_test_{secrets.token_hex(4)}",
        pseudonym_key=TEST_PSEUDONYM_KEY,
        dlt_dir=str(work / "dlt"),
        reports_dir=str(work / "reports"),
        dbt_target_dir=str(work / "dbt_target"),
        csv_inbox=str(work / "demo" / "inbox"),
        sensor_db_url=f"sqlite:///{work / 'demo' / 'sources' / 'sensor.db'}",
    )
    warehouse.bootstrap(test_settings)
    yield test_settings
    warehouse.drop_database(test_settings)


@pytest.fixture(scope="session")
def demo_dir(settings: Settings) -> Path:
    """Where the session's demo park lives (the folder holding inbox/ and sources/)."""
    return Path(settings.csv_inbox).parent


@pytest.fixture(scope="session")
def demo(settings: Settings, demo_dir: Path) -> Iterator[tuple[Settings, object, object]]:
    """The demo month generated and run once for the whole session:
    (settings with the weather server's URL, the generated park, the run's outcome)."""
    from loaders.demo_park import generate, serve_in_background
    from loaders.demo_park.park import DEMO_END, DEMO_START

    park = generate(demo_dir, DEMO_START, DEMO_END, seed=42)
    with serve_in_background(demo_dir / "weather") as server:
        run_settings = replace(settings, weather_base_url=server.base_url)
        first = pipeline.run(run_settings, DEMO_START, DEMO_END)
        yield run_settings, park, first


@pytest.fixture(scope="session")
def park_warehouse() -> Callable[..., AbstractContextManager[tuple[Settings, object]]]:
    """The context manager below, for the tests that need a demo-park warehouse of their own."""
    return _park_warehouse


@contextmanager
def _park_warehouse(
    settings: Settings, work: Path, name: str, first: date, last: date, **overrides: object
) -> Iterator[tuple[Settings, object]]:
    """(settings, park): a warehouse of its own (`<test database>_<name>`, dropped on exit)
    fed by a demo park of [first, last] generated under `work`: its sensor database, its
    inbox, its weather served on loopback (no forecast API). `overrides` are settings."""
    from loaders.demo_park import generate, serve_in_background

    park = generate(work / "park", first, last)
    isolated = replace(
        settings,
        database=f"{settings.database}_{name}",
        dlt_dir=str(work / "dlt"),
        reports_dir=str(work / "reports"),
        dbt_target_dir=str(work / "dbt_target"),
        log_dir=str(work / "log"),
        csv_inbox=str(work / "park" / "inbox"),
        sensor_db_url=f"sqlite:///{work / 'park' / 'sources' / 'sensor.db'}",
        weather_forecast_url="",
        **overrides,
    )
    warehouse.bootstrap(isolated)
    try:
        with serve_in_background(work / "park" / "weather") as server:
            yield replace(isolated, weather_base_url=server.base_url), park
    finally:
        warehouse.drop_database(isolated)


@contextmanager
def fuhrlander_warehouse(
    settings: Settings, work: Path, name: str, sensor_db: Path
) -> Iterator[Settings]:
    """Settings of a warehouse of its own (`<test database>_<name>`, dropped on exit) for the
    example park config/fuhrlander_fl2500 on the SQLite historian `sensor_db` (its tables
    `scada` and `alarm_event`, no registry: the turbines come from the configuration)."""
    isolated = replace(
        settings,
        database=f"{settings.database}_{name}",
        dlt_dir=str(work / "dlt"),
        dbt_target_dir=str(work / "dbt_target"),
        park_config="config/fuhrlander_fl2500",
        sensor_db_url=f"sqlite:///{sensor_db}",
        sensor_table="scada",
        sensor_turbine_table="",
        sensor_alarm_table="alarm_event",
        sensor_mapping="",
        sensor_lookback_days=0,
    )
    warehouse.bootstrap(isolated)
    try:
        yield isolated
    finally:
        warehouse.drop_database(isolated)


def copy_database(settings: Settings, target: str) -> None:
    """CREATE DATABASE ... TEMPLATE: a file-level copy of the settings' database (needs no
    other session connected to it, hence the retries)."""
    admin = warehouse.connect(settings, "admin", "postgres")
    admin.autocommit = True
    statement = sql.SQL("create database {} template {} owner windfarm_owner").format(
        sql.Identifier(target), sql.Identifier(settings.database)
    )
    try:
        with admin.cursor() as cursor:
            for attempt in range(10):
                try:
                    cursor.execute(statement)
                    return
                except Exception as error:  # noqa: BLE001 - retried, then reported
                    if "being accessed by other users" not in str(error) or attempt == 9:
                        raise
                    time.sleep(1)
    finally:
        admin.close()


@pytest.fixture(scope="session")
def database_copy(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[Settings, str], AbstractContextManager[Settings]]:
    """`with database_copy(settings, "label") as copied:` settings for a copy of the
    settings' database (and a dbt target folder of its own), dropped afterwards."""

    @contextmanager
    def copied(settings: Settings, label: str) -> Iterator[Settings]:
        copy = replace(
            settings,
            database=f"{settings.database}_{label}_{secrets.token_hex(3)}",
            dbt_target_dir=str(Path(tmp_path_factory.mktemp(f"dbt_{label}")) / "target"),
        )
        copy_database(settings, copy.database)
        try:
            yield copy
        finally:
            warehouse.drop_database(copy)

    return copied
