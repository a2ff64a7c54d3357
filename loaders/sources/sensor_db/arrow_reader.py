"""The fast path of the sensor loader: a wide historian read straight into Arrow.

Why: reading the historian through SQLAlchemy and pandas builds a Python object per value,
and that alone costs about as much as PostgreSQL's COPY of the same rows (docs/
performance.md). connectorx reads the window in C/Rust into Arrow record batches, and the
conversions below (ISO timestamps, units, the reload day) are Arrow compute, vectorised.

Same rows, same values as the pandas path (frames.wide_chunk): a batch the fast path cannot
convert exactly (timestamps in another format, with an offset or in local time; text in a
numeric column; a row to reject) goes through wide_chunk instead, batch by batch. SQLite
does not enforce column types and connectorx stops mid-window on a value of another type:
read_batches' iterator then raises ReadingStopped and the caller reads the window's rows
it has not handed on (by row id) through pandas. The fast path is not used at all (one line
says why) for a narrow historian (its pivot needs the chunks regrouped:
frames.regroup_by_timestamp), for a database connectorx does not read, and for a SQLite
window without row ids that holds such a value (where connectorx stopped could not be told).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from loaders import logs
from loaders.signals import canonical_columns
from loaders.sources.sensor_db import window as windows
from loaders.sources.sensor_db.mapping import NARROW, HistorianMapping
from loaders.sources.untrusted import CONTROL_PATTERN

__all__ = ["BATCH_ROWS", "ReadingStopped", "clean_batch", "read_batches"]

# Rows per Arrow batch, and per file dlt writes (DATA_WRITER__FILE_MAX_ITEMS, set by the
# pipeline): files of this size load in parallel, and memory stays bounded by it. A year of
# 20 turbines in one window (the bench): 250 k rows peaked at 1,033 MiB, 100 k at 679 MiB
# and no slower (16.4 s against 17.3 s), 50 k at 527 MiB but 29 s (a file's fixed cost).
BATCH_ROWS = 100_000
_BACKENDS = {"sqlite", "postgresql", "mysql", "mariadb", "mssql"}
_ISO_SECONDS = "%Y-%m-%d %H:%M:%S"
_UTC = pa.timestamp("us", tz="UTC")


class ReadingStopped(Exception):
    """connectorx stopped mid-window (in SQLite: a value of another type than the column's);
    the batches read before are complete and right."""


def _connectorx_url(url: sa.URL) -> str | None:
    """The URL as connectorx spells it (no `+driver`; SQLite by absolute path), or None."""
    backend = url.get_backend_name()
    if backend not in _BACKENDS:
        return None
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            return None
        return f"sqlite://{Path(url.database).resolve()}"
    scheme = "mysql" if backend == "mariadb" else backend
    return url.set(drivername=scheme).render_as_string(hide_password=False)


def _sqlite_numbers_are_numbers(
    connection: sa.Connection, table: sa.Table, mapping: HistorianMapping, window: windows.Parts
) -> bool:
    """True when every numeric column of the window holds numbers or nulls only."""
    numeric = [s.source_name for s in mapping.signals]
    numeric += [mapping.row_id_column] if mapping.row_id_column else []
    wrong = sa.or_(
        *[sa.func.typeof(table.c[name]).not_in(["integer", "real", "null"]) for name in numeric]
    )
    return not connection.execute(windows.any_row(window, wrong)).scalar()


def _query(
    table: sa.Table, mapping: HistorianMapping, window: windows.Parts, dialect: sa.Dialect
) -> str:
    """The window's rows as SQL text for connectorx. In SQLite the key columns are read as
    text (their stored text, untouched): connectorx would otherwise type them from the
    declared type and stop on a value of another type.

    In no particular order when the historian stores UTC: sorting by row id doubled the
    read of a year's backfill (5.3 M rows from SQLite: 6.4 s against 3.7 s). Naive local
    times are read in source order, which tells the repeated autumn hour apart
    (frames.to_utc)."""
    columns = []
    for name in mapping.source_columns:
        column = table.c[name]
        key = name in (mapping.turbine_column, mapping.timestamp_column)
        if dialect.name == "sqlite" and key:
            columns.append(sa.cast(column, sa.Text).label(name))
        else:
            columns.append(column)
    in_source_order = mapping.timestamp_zone.upper() != "UTC"
    order = [mapping.row_id_column or mapping.timestamp_column] if in_source_order else []
    query = windows.select_rows(columns, window, order)
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def read_batches(
    engine: sa.Engine,
    table: sa.Table,
    mapping: HistorianMapping,
    window: windows.Parts,
    label: str,
) -> Iterator[pa.RecordBatch] | None:
    """Record batches of the window's rows, or None (said in one line) when the fast path
    does not apply and the pandas path must read the window.

    The iterator raises ReadingStopped if connectorx stops mid-window: with a row id the
    caller reads the rows it has not handed on through pandas. Without one, the rest cannot
    be told apart, so a SQLite window is first checked for text in numeric columns (one
    more scan of it)."""
    reason = None
    cx_url = _connectorx_url(engine.url)
    if mapping.layout == NARROW:
        return None  # the pandas path pivots narrow rows: nothing to say, it is the design
    if cx_url is None:
        reason = f"connectorx does not read {engine.url.get_backend_name()} databases"
    elif engine.dialect.name == "sqlite" and not mapping.row_id_column:
        with engine.connect() as connection:
            if not _sqlite_numbers_are_numbers(connection, table, mapping, window):
                reason = "the window holds text in a numeric column"
    if reason is None:
        try:
            import connectorx
        except ImportError:
            reason = "connectorx is not installed"
    if reason is not None:
        logs.event(
            "sensor_db", f"{label}: reading through pandas (slower): {reason}", level="warning"
        )
        return None
    query = _query(table, mapping, window, engine.dialect)
    try:
        reader = connectorx.read_sql(
            cx_url, query, return_type="arrow_stream", batch_size=BATCH_ROWS
        )
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # a panic in connectorx is a BaseException
        # nothing has been handed on yet: the pandas path reads the window (and says what
        # is wrong with the database, if anything is)
        logs.event(
            "sensor_db",
            f"{label}: reading through pandas (slower): connectorx: {_said(error)}",
            level="warning",
        )
        return None
    return _guarded(iter(reader))


def _said(error: BaseException) -> str:
    return " ".join(str(error).split())[:200]


def _guarded(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # a panic in connectorx is a BaseException
            raise ReadingStopped(f"connectorx: {_said(error)}") from error
        yield batch


def _utc_timestamps(values: pa.Array, zone: str, text_format: str = "") -> pa.Array | None:
    """UTC timestamps, or None when only the pandas path reads them exactly."""
    if text_format:
        return None  # text in the park's own format: frames.to_utc reads it
    if pa.types.is_timestamp(values.type) and values.type.tz is not None:
        return pc.cast(values, _UTC)
    if zone != "UTC":
        return None  # local wall-clock times: frames.to_utc knows the DST rules
    if pa.types.is_timestamp(values.type):
        return pc.assume_timezone(pc.cast(values, pa.timestamp("us")), "UTC")
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return None
    parsed = pc.strptime(values, format=_ISO_SECONDS, unit="us", error_is_null=True)
    if parsed.null_count != values.null_count:
        return None  # another format, an offset or a fraction somewhere in the batch
    return pc.assume_timezone(parsed, "UTC")


def _numbers(values: pa.Array) -> pa.Array | None:
    if pa.types.is_floating(values.type) or pa.types.is_integer(values.type):
        return pc.cast(values, pa.float64())
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), pa.float64())
    return None  # text, decimal, ...: to_numbers decides what is a number


def clean_batch(
    batch: pa.RecordBatch,
    mapping: HistorianMapping,
    table_name: str,
    window: tuple[datetime, datetime],
) -> pa.Table | None:
    """The batch's rows of [start, end) in raw.scada_measurements' shape (as
    frames.wide_chunk makes it), or None when the batch must take the pandas path."""
    measured_at = _utc_timestamps(
        batch.column(mapping.timestamp_column), mapping.timestamp_zone, mapping.timestamp_format
    )
    turbine = batch.column(mapping.turbine_column)
    if measured_at is None or not pa.types.is_string(turbine.type):
        return None
    turbine = pc.utf8_trim_whitespace(turbine)
    if (
        measured_at.null_count
        or turbine.null_count
        or pc.any(pc.equal(turbine, "")).as_py()
        or pc.any(pc.match_substring_regex(turbine, CONTROL_PATTERN)).as_py()
    ):
        return None  # rows to reject: wide_chunk writes them with their reasons
    row_id = (
        pc.cast(batch.column(mapping.row_id_column), pa.int64())
        if mapping.row_id_column
        else pa.nulls(batch.num_rows, pa.int64())
    )
    signals: dict[str, pa.Array] = {}
    for signal in mapping.signals:
        values = _numbers(batch.column(signal.source_name))
        if values is None:
            return None
        if signal.convert is not None:
            converted = signal.convert(values.to_numpy(zero_copy_only=False))
            values = pa.array(converted, type=pa.float64(), from_pandas=True)
        signals[signal.canonical_name] = values
    columns = {"source_row_id": row_id, "turbine_id": turbine, "measured_at": measured_at}
    for name in canonical_columns():
        columns[name] = signals.get(name, pa.nulls(batch.num_rows, pa.float64()))
    table = pa.table(columns)
    low, high = (pa.scalar(pd.Timestamp(bound, tz="UTC"), _UTC) for bound in window)
    in_window = pc.and_(pc.greater_equal(measured_at, low), pc.less(measured_at, high))
    if not pc.all(in_window).as_py():  # the SQL filter is a day wider on each side
        table = table.filter(in_window)
    table = table.append_column("measured_date", pc.cast(table["measured_at"], pa.date32()))
    return table.append_column("_source_table", pa.repeat(pa.scalar(table_name), table.num_rows))
