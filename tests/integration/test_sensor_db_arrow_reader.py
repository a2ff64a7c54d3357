"""The loader's fast path (connectorx into Arrow) lands exactly what the pandas path lands:
same rows, same values, same rejects, whatever the batch holds. Real SQLite and PostgreSQL
historians; the two paths are read side by side on the same window."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from loaders.sources import sensor_db
from loaders.sources.sensor_db import arrow_reader
from loaders.sources.sensor_db import window as windows
from loaders.sources.sensor_db.mapping import load_mapping

MAPPING = """source_name,canonical_name,source_unit
id,source_row_id,
wtg,turbine_id,
stamp,measured_at,
ws,wind_speed_avg,km/h
power,active_power_avg,kW
oil,gearbox_oil_temp_avg,°F
"""
START, END = datetime(2025, 10, 1), datetime(2025, 10, 3)
ROWS = 3 * 144 * 2  # three days (one outside the window) of two turbines


def rows(broken: dict[int, tuple[str, object]]) -> list[dict[str, object]]:
    """Historian rows from 2025-09-30 (outside the window) to 2025-10-02; `broken` replaces
    one column of the n-th row."""
    out = []
    for n in range(ROWS):
        moment = datetime(2025, 9, 30) + timedelta(minutes=10 * (n // 2))
        row: dict[str, object] = {
            "id": n + 1,
            "wtg": f" T0{n % 2 + 1} ",
            "stamp": moment.strftime("%Y-%m-%d %H:%M:%S"),
            "ws": 3.6 * (4 + n % 11) + 0.123456789,
            "power": None if n % 17 == 0 else float(n % 1500),
            "oil": 100.0 + n % 13 / 7,
        }
        if n in broken:
            column, value = broken[n]
            row[column] = value
        out.append(row)
    return out


def sqlite_historian(path: Path, source_rows: list[dict[str, object]]) -> str:
    with sqlite3.connect(path) as connection:
        connection.execute(
            "create table scada (id integer primary key, wtg text, stamp text, "
            "ws real, power real, oil real)"
        )
        connection.executemany(
            "insert into scada values (:id, :wtg, :stamp, :ws, :power, :oil)", source_rows
        )
    return f"sqlite:///{path}"


@pytest.fixture
def postgres_historian(settings) -> Iterator[str]:  # noqa: ANN001
    """A scratch PostgreSQL database with typed columns (timestamptz, double precision)."""
    name = f"windfarm_hist_{secrets.token_hex(4)}"
    server = sa.make_url(settings.sqlalchemy_url("admin")).set(drivername="postgresql+psycopg2")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'create database "{name}"'))
    url = server.set(database=name)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "create table scada (id bigint primary key, wtg text, stamp timestamptz, "
                "ws double precision, power double precision, oil double precision)"
            )
        )
        source = rows({})
        for row in source:
            row["stamp"] = row["stamp"] + "+00"
        connection.execute(
            sa.text("insert into scada values (:id, :wtg, :stamp, :ws, :power, :oil)"), source
        )
    engine.dispose()
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'drop database "{name}" with (force)'))
    admin.dispose()


def read_both(url: str, mapping_path: Path) -> tuple[tuple, tuple, sensor_db.SensorDbStats]:
    """(clean, rejected) of the window by the fast path and by the pandas path."""
    engine = sensor_db.source_engine(url)
    mapping = load_mapping(mapping_path)
    results = []
    fast_stats = sensor_db.SensorDbStats()
    for reader in ("fast", "pandas"):
        stats = fast_stats if reader == "fast" else sensor_db.SensorDbStats()
        if reader == "fast":
            items = sensor_db._measurement_items(engine, "scada", mapping, START, END, stats)
        else:
            table = sensor_db.reflect(engine, "scada")
            parts = windows.parts(table.c.stamp, START, END)
            window = (pd.Timestamp(START, tz="UTC"), pd.Timestamp(END, tz="UTC"))
            items = sensor_db._pandas_items(engine, table, mapping, parts, window, stats)
        cleans, rejects = zip(*items, strict=True)
        clean = pa.concat_tables([t for t in cleans if t.num_rows], promote_options="permissive")
        rejected = pd.concat([r for r in rejects if len(r)] or [pd.DataFrame()])
        results.append((_comparable(clean), rejected, stats))
    engine.dispose()
    (fast_clean, fast_rejected, _), (slow_clean, slow_rejected, slow_stats) = results
    assert (fast_stats.rows_read, fast_stats.rows_rejected, fast_stats.rows_loaded) == (
        slow_stats.rows_read,
        slow_stats.rows_rejected,
        slow_stats.rows_loaded,
    )
    return (fast_clean, fast_rejected), (slow_clean, slow_rejected), fast_stats


def _comparable(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    frame["measured_at"] = pd.to_datetime(frame["measured_at"], utc=True).dt.as_unit("us")
    frame["measured_date"] = pd.to_datetime(frame["measured_date"]).dt.date
    frame["source_row_id"] = frame["source_row_id"].astype("Int64")
    frame["turbine_id"] = frame["turbine_id"].astype(str)
    return frame.sort_values("source_row_id").reset_index(drop=True)


@pytest.fixture
def mapping_path(tmp_path: Path) -> Path:
    path = tmp_path / "mapping.csv"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def test_clean_sqlite_window_is_read_by_the_fast_path_with_the_same_rows(
    tmp_path: Path, mapping_path: Path
) -> None:
    url = sqlite_historian(tmp_path / "h.db", rows({}))
    (fast, fast_rejected), (slow, slow_rejected), stats = read_both(url, mapping_path)
    assert stats.reader == "arrow"
    assert len(fast) == 2 * 2 * 144  # the window's two days, nothing of 2025-09-30
    assert list(fast.columns) == list(slow.columns)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["turbine_id"].unique().tolist() == ["T01", "T02"]  # trimmed
    first = 2 * 144  # the first row of 2025-10-01
    assert fast["wind_speed_avg"].iloc[0] == pytest.approx(4 + first % 11 + 0.123456789 / 3.6)
    assert len(fast_rejected) == len(slow_rejected) == 0


def test_batches_the_fast_path_cannot_read_exactly_fall_back_to_pandas(
    tmp_path: Path, mapping_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing turbine, an ISO 'T' timestamp with an offset and a null timestamp, in
    batches of 100 rows: those batches take the pandas path, the others stay on Arrow."""
    monkeypatch.setattr(arrow_reader, "BATCH_ROWS", 100)
    broken = {
        300: ("wtg", "  "),
        450: ("stamp", "2025-10-01T05:00:00+02:00"),
        700: ("stamp", None),
    }
    url = sqlite_historian(tmp_path / "h.db", rows(broken))
    (fast, fast_rejected), (slow, slow_rejected), stats = read_both(url, mapping_path)
    assert stats.reader == "arrow"
    pd.testing.assert_frame_equal(fast, slow)
    reasons = sorted(fast_rejected["reason"])
    assert (
        reasons
        == sorted(slow_rejected["reason"])
        == [
            "timestamp missing or not parseable",
            "turbine id missing",
        ]
    )
    assert 451 in set(fast["source_row_id"])  # the offset was read: 03:00 UTC
    # the same JSON and key: a day read once by each path keeps one copy of each reject
    pd.testing.assert_frame_equal(
        fast_rejected.reset_index(drop=True), slow_rejected.reset_index(drop=True)
    )


def test_text_in_a_numeric_sqlite_column_sends_the_rest_of_the_window_through_pandas(
    tmp_path: Path,
    mapping_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """connectorx stops at the text (SQLite does not enforce column types): the batches
    before it stand, the rest is read by the pandas path."""
    monkeypatch.setattr(arrow_reader, "BATCH_ROWS", 100)
    url = sqlite_historian(tmp_path / "h.db", rows({700: ("ws", "n/a?")}))
    (fast, fast_rejected), (slow, slow_rejected), stats = read_both(url, mapping_path)
    assert stats.reader == "arrow"
    assert "the rest of the window through pandas (slower): connectorx:" in (
        capsys.readouterr().out
    )
    pd.testing.assert_frame_equal(fast, slow)
    assert len(fast) == 2 * 2 * 144 - 1
    assert fast_rejected["reason"].tolist() == ["ws: not a number"]
    pd.testing.assert_frame_equal(
        fast_rejected.reset_index(drop=True), slow_rejected.reset_index(drop=True)
    )


def test_rows_read_out_of_row_id_order_before_connectorx_stops_are_read_once(
    tmp_path: Path,
    mapping_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fast path reads rows in the order the database finds them (here through the
    timestamp index, the row ids scattered): after connectorx stops, the pandas path reads
    the rows whose id was not handed on, none twice, none lost."""
    monkeypatch.setattr(arrow_reader, "BATCH_ROWS", 100)
    source = rows({700: ("ws", "n/a?")})
    for n, row in enumerate(source):
        row["id"] = n * 389 % ROWS + 1  # 389 and ROWS are coprime: every id once
    url = sqlite_historian(tmp_path / "h.db", source)
    with closing(sqlite3.connect(tmp_path / "h.db")) as connection:
        connection.execute("create index scada_stamp on scada (stamp)")
        connection.commit()
    (fast, fast_rejected), (slow, slow_rejected), stats = read_both(url, mapping_path)
    assert stats.reader == "arrow"
    assert "the rest of the window through pandas (slower): connectorx:" in (
        capsys.readouterr().out
    )
    assert len(fast) == 2 * 2 * 144 - 1
    assert fast["source_row_id"].is_unique
    pd.testing.assert_frame_equal(fast, slow)
    assert fast_rejected["reason"].tolist() == ["ws: not a number"]


def test_without_a_row_id_a_sqlite_window_with_text_is_read_by_pandas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No row id: where connectorx stopped cannot be told, so the window is checked first."""
    path = tmp_path / "mapping.csv"
    path.write_text(MAPPING.replace("id,source_row_id,\n", ""), encoding="utf-8")
    url = sqlite_historian(tmp_path / "h.db", rows({400: ("ws", "n/a?")}))
    (fast, fast_rejected), (slow, _), stats = read_both(url, path)
    assert stats.reader == "pandas"
    assert "reading through pandas (slower): the window holds text in a numeric column" in (
        capsys.readouterr().out
    )
    pd.testing.assert_frame_equal(fast, slow)
    assert fast_rejected["reason"].tolist() == ["ws: not a number"]


def test_typed_postgresql_historian_is_read_by_the_fast_path(
    postgres_historian: str, mapping_path: Path
) -> None:
    (fast, _), (slow, _), stats = read_both(postgres_historian, mapping_path)
    assert stats.reader == "arrow"
    assert len(fast) == 2 * 2 * 144
    pd.testing.assert_frame_equal(fast, slow)


def _work(database: Path, query: str) -> int:
    """Thousands of SQLite virtual-machine instructions to run `query`: the work it does,
    counted the same way on a fast or a slow machine."""
    thousands = 0

    def count() -> int:
        nonlocal thousands
        thousands += 1
        return 0  # carry on

    with closing(sqlite3.connect(database)) as connection:
        connection.set_progress_handler(count, 1000)
        connection.execute(query).fetchall()
    return thousands


def test_reading_a_window_costs_the_same_whatever_the_historians_length(
    tmp_path: Path, mapping_path: Path
) -> None:
    """The window's rows and the rows without a timestamp are both read through the
    timestamp index, also when the column is declared NOT NULL: as one OR, SQLite scanned
    the whole historian on every run (the daily run's read grew with the historian's age)."""
    mapping = load_mapping(mapping_path)
    work = {}
    for days in (3, 120):
        path = tmp_path / f"{days}d.db"
        first = END - timedelta(days=days)  # the window is the last two days of both
        with sqlite3.connect(path) as connection:
            connection.execute(
                "create table scada (id integer primary key, wtg text not null, "
                "stamp text not null, ws real, power real, oil real)"
            )
            connection.execute("create index scada_stamp on scada (stamp)")
            connection.executemany(
                "insert into scada values (?, 'T01', ?, 5.0, 100.0, 120.0)",
                [
                    (n + 1, (first + timedelta(minutes=10 * n)).strftime("%Y-%m-%d %H:%M:%S"))
                    for n in range(days * 144)
                ],
            )
        engine = sa.create_engine(f"sqlite:///{path}")
        table = sensor_db.reflect(engine, "scada")
        parts = windows.parts(table.c.stamp, START, END)
        query = arrow_reader._query(table, mapping, parts, engine.dialect)
        engine.dispose()
        with closing(sqlite3.connect(path)) as connection:  # the SQL filter: a day wider
            assert len(connection.execute(query).fetchall()) == 3 * 144
        work[days] = _work(path, query)
    assert work[120] < 1.5 * work[3], work  # 40 times the history, the same work
