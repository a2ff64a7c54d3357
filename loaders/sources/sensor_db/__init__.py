"""dlt source for the internal sensor database (SCADA historian, turbine registry, alarms).

Any SQLAlchemy URL works (SQLite by default; tested with MariaDB and PostgreSQL too).
Measurements are read in chunks through pandas (a server-side cursor where the driver has
one) and handed to dlt as Arrow tables: dlt's row-by-row normaliser is the slow path
(../shared PERFORMANCE-NOTES). The historian is wide (one column per signal) or narrow
(one row per turbine, tag and timestamp): the mapping file says which, and narrow rows are
pivoted here so that raw.scada_measurements has one shape.

Incremental by day: the run's window (its days plus the lookback) is read again each time
and each (day, source table) it holds is replaced (delete-insert on measured_date and
_source_table), so late rows of past days land, re-runs are idempotent, and the source's
own duplicates are kept for dbt to resolve.

The registry and alarm tables are optional: a name set to "" or a table the database does
not have is not loaded, said in one line and in the run's audit row. Without a registry
table, the park's turbines.csv (loaders/park_config.py) lands in raw.scada_turbines
instead, when the park has one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import dlt
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from dlt.common.exceptions import SourceSectionNotAvailable

from loaders import logs
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.sources.sensor_db import arrow_reader
from loaders.sources.sensor_db import window as windows
from loaders.sources.sensor_db.frames import (
    UNPLACEABLE,
    SensorDbStats,
    has_control_character,
    narrow_chunk,
    reasons_for,
    regroup_by_timestamp,
    rejected_rows,
    reload_days,
    to_utc,
    unplaceable,
    wide_chunk,
)
from loaders.sources.sensor_db.mapping import NARROW, HistorianMapping, load_mapping
from loaders.sources.untrusted import printable

__all__ = [
    "ALARM_TABLE",
    "TURBINE_TABLE",
    "SensorDbStats",
    "reflect",
    "sensor_db_source",
    "source_engine",
]

CHUNK_ROWS = 100_000
TURBINE_TABLE = "turbine"
ALARM_TABLE = "alarm_event"
ALARM_COLUMNS = (
    "id",
    "turbine_id",
    "alarm_code",
    "started_at_utc",
    "ended_at_utc",
    "acknowledged_by",
)


# raw.scada_turbines as the park's turbines.csv fills it (park_config.TurbineRow)
CONFIGURED_TURBINES_SCHEMA = pa.schema(
    [
        ("turbine_id", pa.string()),
        ("turbine_name", pa.string()),
        ("site_code", pa.string()),
        ("site_name", pa.string()),
        ("model", pa.string()),
        ("manufacturer", pa.string()),
        ("rated_power_kw", pa.float64()),
        ("hub_height_m", pa.float64()),
        ("rotor_diameter_m", pa.float64()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("commissioned_on", pa.date32()),
        ("_source_table", pa.string()),
    ]
)
DELETE_INSERT = {"disposition": "merge", "strategy": "delete-insert"}
MEASUREMENT_RELOAD_KEY = ("measured_date", "_source_table")
ALARM_RELOAD_KEY = ("started_date", "_source_table")
ALARM_COLUMN_HINTS = {
    # text whatever the source column's type: a controller's code may be "FL-2314" or a
    # remark, and a catalogue matches codes as written (docs/sources.md)
    "alarm_code": {"data_type": "text", "nullable": False},
    "ended_at": {"data_type": "timestamp", "nullable": True},
    "acknowledged_by_pseudonym": {"data_type": "text", "nullable": True},
}


def _reloaded(
    data: object,
    table: str,
    key: tuple[str, ...],
    columns: dict | None = None,
    append: bool = False,
) -> object:
    """Rows for a table reloaded by (day, source table): delete-insert on that key, or a
    plain append when the caller knows the warehouse holds none of the window's days (a
    backfill: a merge would copy every row through raw_staging and scan raw to delete
    nothing).

    The keys are hints of this table only, not of the resource: the rejected rows that
    the same resource yields are upserted by their hash and must not inherit them. Their
    reload day is no merge key either: a delete-insert deletes only the days its new rows
    hold, and a day whose rows were all corrected has no rejected row left to hold it
    (the load removes the rows it supersedes instead: sensor_db/rejected.py)."""
    return dlt.mark.with_hints(
        data,
        dlt.mark.make_hints(
            table_name=table,
            write_disposition="append" if append else DELETE_INSERT,
            merge_key=list(key),
            columns=columns,
        ),
        create_table_variant=True,
    )


def _rejected(data: pa.Table, table: str) -> object:
    """Rows set aside, upserted by the hash of the source row (a re-run adds nothing)."""
    return dlt.mark.with_hints(
        data,
        dlt.mark.make_hints(
            table_name=table, write_disposition="merge", primary_key="_record_hash"
        ),
        create_table_variant=True,
    )


class RowIds:
    """dlt's row id (`_dlt_id`) for the Arrow tables of one extraction, made here: unique
    (a random prefix per extraction, then a counter) and vectorised. dlt would make one
    random string per row in Python and rewrite every extracted file to add them, which
    measured about a tenth of the loader's time (docs/performance.md); the sensor pipeline
    turns that off (pipeline.SENSOR_NORMALIZE_ENV)."""

    def __init__(self) -> None:
        self.prefix = pa.scalar(secrets.token_urlsafe(9) + "-")
        self.issued = 0

    def add(self, table: pa.Table) -> pa.Table:
        numbers = pa.array(np.arange(self.issued, self.issued + table.num_rows)).cast(pa.string())
        self.issued += table.num_rows
        ids = pc.binary_join_element_wise(self.prefix, numbers, "")
        return table.append_column(pa.field("_dlt_id", pa.string(), nullable=False), ids)


def _required(table: pa.Table) -> pa.Table:
    """The table with the reload keys declared not null, as dlt's hints have them."""
    schema = pa.schema(
        [
            field.with_nullable(False) if field.name in MEASUREMENT_RELOAD_KEY else field
            for field in table.schema
        ]
    )
    return table.cast(schema)


def _arrow(frame: pd.DataFrame) -> pa.Table:
    return _required(pa.Table.from_pandas(frame, preserve_index=False))


def source_engine(url: str) -> sa.Engine:
    """An engine on the sensor database. A SQLite file that does not exist is an error
    naming it (SQLAlchemy would quietly create an empty one)."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ValueError(
            "sensor_db_url (WINDFARM_SENSOR_DB_URL) is not a database URL (its value is not "
            "shown: it may hold a password); expected e.g. sqlite:///path/to/sensor.db or "
            "postgresql://user@host/database"
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).is_file():
            raise FileNotFoundError(
                f"sensor database file {parsed.database} does not exist (sensor_db_url, "
                "WINDFARM_SENSOR_DB_URL)"
            )
    return sa.create_engine(url)


def reflect(engine: sa.Engine, name: str) -> sa.Table | None:
    """The table (`name` or `schema.name`) as the database describes it, or None if absent."""
    schema, _, table = name.rpartition(".")
    if not sa.inspect(engine).has_table(table, schema=schema or None):
        return None
    return sa.Table(table, sa.MetaData(), schema=schema or None, autoload_with=engine)


def _measurement_table(engine: sa.Engine, name: str, mapping: HistorianMapping) -> sa.Table:
    table = reflect(engine, name)
    if table is None:
        raise ValueError(f"sensor database {engine.url!r} has no table {name!r}")
    missing = [column for column in mapping.source_columns if column not in table.c]
    if missing:
        raise ValueError(
            f"sensor table {name!r} has no column(s) {', '.join(missing)} named in the mapping file"
        )
    return table


def _measurement_items(
    engine: sa.Engine,
    table_name: str,
    mapping: HistorianMapping,
    start: datetime,
    end: datetime,
    stats: SensorDbStats,
) -> Iterator[tuple[pa.Table, pd.DataFrame]]:
    """Yield (clean, rejected) batch by batch, with canonical names and units: through
    Arrow where the fast path applies (arrow_reader), else through pandas."""
    table = _measurement_table(engine, table_name, mapping)
    stats.layout = mapping.layout
    if mapping.layout != NARROW:
        stats.unmapped_columns = [c.name for c in table.c if c.name not in mapping.source_columns]
        if stats.unmapped_columns:
            logs.event(
                "sensor_db",
                f"{table_name}: columns not in the mapping, not loaded: "
                f"{', '.join(stats.unmapped_columns)}",
                level="warning",
            )
    # the window's rows, and those without a timestamp (read and rejected, not skipped);
    # text in the park's own format does not sort as time: every row is read, and the
    # window is applied once the timestamps are parsed
    in_window = (
        (sa.true(),)
        if mapping.timestamp_format
        else windows.parts(
            table.c[mapping.timestamp_column],
            start,
            end,
            engine.dialect.name,
            _rows_to_check(engine, table, mapping),
        )
    )
    window = (pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC"))
    batches = arrow_reader.read_batches(engine, table, mapping, in_window, table_name)
    if batches is None:
        yield from _pandas_items(engine, table, mapping, in_window, window, stats)
        return
    stats.reader = "arrow"
    handed_on_ids: list[pa.Array] = []  # the row ids of the batches handed on
    handed_on_without_id = False
    try:
        for batch in batches:
            batch = mapping.with_turbine(batch)
            clean = arrow_reader.clean_batch(batch, mapping, table_name, (start, end))
            if clean is None:
                frames = wide_chunk(batch.to_pandas(), mapping, table_name, window, stats)
                yield _arrow(frames[0]), frames[1]
            else:
                stats.rows_read += clean.num_rows
                stats.rows_loaded += clean.num_rows
                yield _required(clean), pd.DataFrame()
            if mapping.row_id_column:
                handed_on_ids.append(batch.column(mapping.row_id_column))
            elif batch.num_rows:
                handed_on_without_id = True
    except arrow_reader.ReadingStopped as error:
        if handed_on_without_id:  # nothing tells the rest apart
            raise ValueError(
                f"sensor table {table_name!r}: {error}, after rows were read without a row "
                "id to resume from; the window is not loaded (run it again)"
            ) from error
        # the rows handed on so far are right; the window's other rows are read by the
        # pandas path, which skips the row ids already handed on
        logs.event(
            "sensor_db",
            f"{table_name}: the rest of the window through pandas (slower): {error}",
            level="warning",
        )
        skip = _sorted_ids(handed_on_ids)
        yield from _pandas_items(engine, table, mapping, in_window, window, stats, skip)


CHECKED_THROUGH = "timestamps_checked_through_row_id"


def _rows_to_check(
    engine: sa.Engine, table: sa.Table, mapping: HistorianMapping
) -> tuple[sa.Column, int, int] | None:
    """(row id column, checked through, newest): the rows whose timestamp form this run
    checks (window.parts), and, in dlt's state, where the next run starts. None without a
    row id column (every run checks every row)."""
    if not mapping.row_id_column:
        return None
    row_id = table.c[mapping.row_id_column]
    with engine.connect() as connection:
        newest = connection.execute(sa.select(sa.func.max(row_id))).scalar()
    try:
        state = dlt.current.resource_state()
    except SourceSectionNotAvailable:  # read outside a pipeline (tests): check every row
        state = {}
    checked_through = int(state.get(CHECKED_THROUGH, {}).get(table.name, -1))
    try:
        newest = int(newest) if newest is not None else checked_through
    except (TypeError, ValueError):  # a row id that is no number: check every row
        return None
    state.setdefault(CHECKED_THROUGH, {})[table.name] = newest
    return row_id, checked_through, newest


def _sorted_ids(arrays: list[pa.Array]) -> np.ndarray:
    """The row ids handed on, sorted, for a binary search per row (not a set of millions)."""
    if not arrays:
        return np.array([], dtype=np.int64)
    ids = pc.drop_null(pa.concat_arrays([pc.cast(a, pa.int64()) for a in arrays]))
    return np.sort(ids.to_numpy())


def _not_handed_on(ids: pd.Series, handed_on: np.ndarray) -> np.ndarray:
    """Mask of the rows whose row id is not in `handed_on` (sorted)."""
    numbers = pd.to_numeric(ids, errors="coerce")
    known = numbers.notna().to_numpy()
    values = numbers[known].astype("int64").to_numpy()
    at = np.minimum(np.searchsorted(handed_on, values), max(len(handed_on) - 1, 0))
    seen = np.zeros(len(ids), dtype=bool)
    if len(handed_on):
        seen[known] = handed_on[at] == values
    return ~seen


def _pandas_items(
    engine: sa.Engine,
    table: sa.Table,
    mapping: HistorianMapping,
    in_window: windows.Parts,
    window: tuple[pd.Timestamp, pd.Timestamp],
    stats: SensorDbStats,
    handed_on: np.ndarray | None = None,
) -> Iterator[tuple[pa.Table, pd.DataFrame]]:
    """The window read in chunks through pandas: any SQLAlchemy database, narrow layouts.
    `handed_on`: sorted row ids the fast path has handed on already, skipped here."""
    if mapping.layout == NARROW:
        order = [mapping.timestamp_column, mapping.turbine_column]
        order += [mapping.row_id_column] if mapping.row_id_column else []
        read_chunk = narrow_chunk
    else:
        order = [mapping.row_id_column or mapping.timestamp_column]
        read_chunk = wide_chunk
    columns = [table.c[name] for name in mapping.source_columns]
    query = windows.select_rows(columns, in_window, order)
    with engine.connect() as connection:
        connection = connection.execution_options(stream_results=True, max_row_buffer=CHUNK_ROWS)
        chunks = pd.read_sql(query, connection, chunksize=CHUNK_ROWS)
        if mapping.layout == NARROW:
            chunks = regroup_by_timestamp(chunks, mapping.timestamp_column)
        for chunk in chunks:
            chunk = mapping.with_turbine(chunk)
            if handed_on is not None and mapping.row_id_column:
                kept = _not_handed_on(chunk[mapping.row_id_column], handed_on)
                chunk = chunk[kept].reset_index(drop=True)
                if chunk.empty:
                    continue
            clean, rejected = read_chunk(chunk, mapping, table.name, window, stats)
            yield _arrow(clean), rejected
    if stats.unmapped_tags:
        listed = ", ".join(f"{tag} ({n:,})" for tag, n in sorted(stats.unmapped_tags.items()))
        logs.event(
            "sensor_db",
            f"{table.name}: tags not in the mapping, not loaded: {listed}",
            level="warning",
        )


def alarm_code_text(value: object) -> str | None:
    """An alarm code as the catalogue matches it: the text as written, trimmed; a number
    as its digits (an INTEGER column with nulls reaches pandas as floats: 1001.0 is the
    code "1001"). None when there is no code. Text, not integers, because controllers
    and operators write codes such as "FL-2314" or a remark, and leading zeros or letters
    are part of a code."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value).strip()
    return text or None


def _alarm_reasons(
    frame: pd.DataFrame,
    turbines: pd.Series,
    started: pd.Series,
    ended: pd.Series,
    codes: pd.Series,
) -> pd.Series:
    """Why each alarm row cannot be loaded; empty when it can. Any text is a code: one the
    park's catalogue lacks is held aside by dbt (quality_held_aside), not rejected here."""
    problems = [
        (started.isna(), "started_at_utc missing or not parseable"),
        (unplaceable(frame["started_at_utc"]) & started.notna(), f"started_at_utc: {UNPLACEABLE}"),
        (ended.isna() & frame["ended_at_utc"].notna(), "ended_at_utc not parseable"),
        (turbines.isna() | (turbines == ""), "turbine id missing"),
        (has_control_character(turbines), "turbine id holds a control character"),
        (codes.isna(), "alarm_code missing"),
        (has_control_character(codes), "alarm_code holds a control character"),
        (pd.to_numeric(frame["id"], errors="coerce").isna(), "id missing"),
    ]
    return reasons_for(frame.index, problems)


def _optional_table(
    engine: sa.Engine, name: str, role: str, stats: SensorDbStats
) -> sa.Table | None:
    """The registry or alarm table, or None (said once) when not configured or absent."""
    if not name:
        stats.tables_skipped[role] = "not configured"
    else:
        table = reflect(engine, name)
        if table is not None:
            return table
        stats.tables_skipped[role] = f"no table {name!r} in the sensor database"
    logs.event("sensor_db", f"{role}: {stats.tables_skipped[role]}, not loaded", level="warning")
    return None


@dlt.source(name="sensor_db", max_table_nesting=0)
def sensor_db_source(
    url: str,
    mapping_file: str,
    measurements_table: str,
    start: datetime,
    end: datetime,
    pseudonymiser: Pseudonymiser,
    stats: SensorDbStats,
    turbine_table: str = TURBINE_TABLE,
    alarm_table: str = ALARM_TABLE,
    window_is_new: bool = False,
    timestamp_format: str = "",
    turbine_id: str = "",
    configured_turbines: list[dict[str, object]] | None = None,
    turbines_file: str = "",
) -> list:
    """The registry, the measurements of [start, end) and the alarms started in it.

    `window_is_new`: raw.scada_measurements holds no row of the window's days from this
    table, so the measurements are appended rather than merged (the pipeline checks).
    `timestamp_format` and `turbine_id`: park.yaml's `historian` section (mapping.py).
    `configured_turbines`: the rows of the park's turbines.csv (`turbines_file`), landed
    as the registry when the database has none."""
    engine = source_engine(url)
    mapping = load_mapping(Path(mapping_file), timestamp_format, turbine_id)
    registry = _optional_table(engine, turbine_table, "turbine registry", stats)
    alarms = _optional_table(engine, alarm_table, "alarms", stats)
    row_ids = RowIds()  # the Arrow tables' _dlt_id (dlt adds it to the alarms' dicts)

    @dlt.resource(name="scada_turbines", write_disposition="replace")
    def scada_turbines() -> Iterator[pa.Table]:
        assert registry is not None
        frame = pd.read_sql(sa.select(registry), engine)
        if "commissioned_on" in frame:
            frame["commissioned_on"] = pd.to_datetime(frame["commissioned_on"]).dt.date
        frame["_source_table"] = turbine_table
        for column in frame.select_dtypes(include=["object", "string"]).columns:
            # no row of the registry is rejected: a control character is shown, not loaded
            frame[column] = frame[column].map(
                lambda value: printable(value) if isinstance(value, str) else value
            )
        yield row_ids.add(pa.Table.from_pandas(frame, preserve_index=False))

    @dlt.resource(name="scada_measurements", write_disposition=DELETE_INSERT)
    def scada_measurements() -> Iterator[object]:
        for clean, rejected in _measurement_items(
            engine, measurements_table, mapping, start, end, stats
        ):
            logs.event(
                "sensor_db",
                f"{measurements_table}: {stats.rows_read:,} rows read so far, "
                f"{stats.rows_rejected:,} rejected",
            )
            if len(clean):
                yield _reloaded(
                    row_ids.add(clean),
                    "scada_measurements",
                    MEASUREMENT_RELOAD_KEY,
                    append=window_is_new,
                )
            if len(rejected):
                yield _rejected(
                    row_ids.add(pa.Table.from_pandas(rejected, preserve_index=False)),
                    "scada_measurements__rejected",
                )

    @dlt.resource(name="scada_alarms", write_disposition=DELETE_INSERT)
    def scada_alarms() -> Iterator[list[dict]]:
        assert alarms is not None
        missing = [name for name in ALARM_COLUMNS if name not in alarms.c]
        if missing:
            raise ValueError(
                f"alarm table {alarm_table!r} has no column(s) {', '.join(missing)}: "
                "expose the alarms through a view with these names (docs/sources.md)"
            )
        # the window's alarms, and those whose start is missing or cannot be placed by day
        # (read to be rejected with their reason, not left unread)
        alarm_window = windows.parts(alarms.c.started_at_utc, start, end, engine.dialect.name)
        query = windows.select_rows([alarms.c[name] for name in ALARM_COLUMNS], alarm_window, [])
        frame = pd.read_sql(query, engine)
        turbines = frame["turbine_id"].astype("string").str.strip()
        series = pd.DataFrame({"turbine": turbines})
        started = to_utc(frame["started_at_utc"], "UTC", series)
        ended = to_utc(frame["ended_at_utc"], "UTC", series)
        codes = frame["alarm_code"].map(alarm_code_text).astype("string")
        reasons = _alarm_reasons(frame, turbines, started, ended, codes)
        rejected = reasons != ""
        window = (started >= pd.Timestamp(start, tz="UTC")) & (
            started < pd.Timestamp(end, tz="UTC")
        )
        rows = []
        for index in frame.index[window & ~rejected]:
            acknowledged = frame.at[index, "acknowledged_by"]
            rows.append(
                {
                    "source_row_id": int(frame.at[index, "id"]),
                    "turbine_id": str(turbines[index]),
                    "alarm_code": str(codes[index]),
                    "started_at": started[index].to_pydatetime(),
                    "ended_at": None if pd.isna(ended[index]) else ended[index].to_pydatetime(),
                    "acknowledged_by_pseudonym": pseudonymiser.token(
                        None if pd.isna(acknowledged) else str(acknowledged)
                    ),
                    "started_date": started[index].date(),
                    "_source_table": alarm_table,
                }
            )
        # rows without a start in the window (missing, unplaceable) are read by every run:
        # they are rejected each time but, as for measurements, not counted against it
        stats.alarms_loaded, stats.alarms_rejected = len(rows), int((rejected & window).sum())
        logs.event(
            "sensor_db", f"{alarm_table}: {len(rows):,} alarms, {int(rejected.sum())} rejected"
        )
        yield _reloaded(rows, "scada_alarms", ALARM_RELOAD_KEY, ALARM_COLUMN_HINTS)
        if rejected.any():
            # personal data is pseudonymised before the row is kept as JSON
            shown = frame.loc[rejected].copy()
            shown["acknowledged_by"] = [
                pseudonymiser.token(None if pd.isna(v) else str(v))
                for v in shown["acknowledged_by"]
            ]
            # the day a later run reads again: a start it can place, in the window
            placed = window & ~unplaceable(frame["started_at_utc"])
            days = reload_days(started, placed)[rejected]
            rejected_table = rejected_rows(
                shown, reasons[rejected], alarm_table, days=("started_date", days)
            )
            yield _rejected(
                row_ids.add(pa.Table.from_pandas(rejected_table, preserve_index=False)),
                "scada_alarms__rejected",
            )

    @dlt.resource(name="scada_turbines", write_disposition="replace")
    def configured_registry() -> Iterator[pa.Table]:
        rows = [{**row, "_source_table": turbines_file} for row in configured_turbines or []]
        yield row_ids.add(pa.Table.from_pylist(rows, schema=CONFIGURED_TURBINES_SCHEMA))

    resources = [scada_measurements]
    if registry is not None:
        resources.insert(0, scada_turbines)
    elif configured_turbines:
        stats.tables_skipped["turbine registry"] += f"; the park's {turbines_file} instead"
        resources.insert(0, configured_registry)
    if alarms is not None:
        resources.append(scada_alarms)
    return resources
