"""dlt source for the internal sensor database (SCADA historian, turbine registry, alarms).

Any SQLAlchemy URL works (SQLite by default). Measurements are read in chunks through
pandas and handed to dlt as Arrow tables: dlt's row-by-row normaliser is the slow path
(../shared PERFORMANCE-NOTES). A day is the reload unit: loading a window replaces the
rows of the days it covers, so re-runs are idempotent while the source's own duplicates
are kept for dbt to resolve.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import dlt
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from loaders.pseudonymise import Pseudonymiser
from loaders.sources.sensor_db.mapping import HistorianMapping, load_mapping

CHUNK_ROWS = 100_000
TURBINE_TABLE = "turbine"
ALARM_TABLE = "alarm_event"


@dataclass
class SensorDbStats:
    """What the source saw, for the run's audit row and the count invariant."""

    rows_read: int = 0
    rows_rejected: int = 0
    unmapped_columns: list[str] = field(default_factory=list)


def _utc(values: pd.Series, zone: str) -> pd.Series:
    """Parse timestamps to UTC: aware ones are converted, naive ones are read in `zone`."""
    parsed = pd.to_datetime(values, errors="coerce", utc=False, format="mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        return parsed.dt.tz_convert("UTC")
    if parsed.dtype == object:  # a mix of offsets: convert each
        return pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    return parsed.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")


def _text_or_none(value: object) -> str | None:
    """pandas reads a NULL text as None or NaN depending on the column's other values."""
    return None if value is None or pd.isna(value) else str(value)


def _window_bounds(column: sa.Column, start: datetime, end: datetime) -> tuple[object, object]:
    """Bounds for the SQL filter. Text timestamps compare as text, so widen by a day and
    filter exactly after parsing."""
    if isinstance(column.type, (sa.DateTime, sa.Date)):
        return start, end
    return (
        (start - timedelta(days=1)).strftime("%Y-%m-%d"),
        (end + timedelta(days=1)).strftime("%Y-%m-%d"),
    )


def _measurement_frames(
    engine: sa.Engine,
    table_name: str,
    mapping: HistorianMapping,
    start: datetime,
    end: datetime,
    stats: SensorDbStats,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Yield (clean, rejected) frames, chunk by chunk, with canonical names and units."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=engine)
    missing = [name for name in mapping.source_columns if name not in table.c]
    if missing:
        raise ValueError(
            f"sensor table {table_name!r} has no column(s) {', '.join(missing)} "
            "named in the mapping file"
        )
    stats.unmapped_columns = [c.name for c in table.c if c.name not in mapping.source_columns]
    if stats.unmapped_columns:
        print(
            f"[sensor_db] {table_name}: columns not in the mapping, not loaded: "
            f"{', '.join(stats.unmapped_columns)}"
        )
    ts_column = table.c[mapping.timestamp_column]
    low, high = _window_bounds(ts_column, start, end)
    order = [table.c[mapping.row_id_column]] if mapping.row_id_column else [ts_column]
    query = (
        sa.select(*[table.c[name] for name in mapping.source_columns])
        .where(ts_column >= low, ts_column < high)
        .order_by(*order)
    )
    start_utc, end_utc = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
    with engine.connect() as connection:
        for chunk in pd.read_sql(query, connection, chunksize=CHUNK_ROWS):
            frame = pd.DataFrame(
                {
                    "source_row_id": chunk[mapping.row_id_column].astype("Int64")
                    if mapping.row_id_column
                    else pd.array([None] * len(chunk), dtype="Int64"),
                    "turbine_id": chunk[mapping.turbine_column].astype("string").str.strip(),
                    "measured_at": _utc(chunk[mapping.timestamp_column], mapping.timestamp_zone),
                }
            )
            for signal in mapping.signals:
                values = pd.to_numeric(chunk[signal.source_name], errors="coerce").astype("float64")
                frame[signal.canonical_name] = signal.convert(values) if signal.convert else values
            bad_time = frame["measured_at"].isna()
            bad_turbine = frame["turbine_id"].isna() | (frame["turbine_id"] == "")
            in_window = (frame["measured_at"] >= start_utc) & (frame["measured_at"] < end_utc)
            rejected = bad_time | bad_turbine
            keep = ~rejected & in_window
            stats.rows_read += int((rejected | keep).sum())
            stats.rows_rejected += int(rejected.sum())
            reasons = (
                bad_time.map({True: "timestamp missing or not parseable", False: ""})
                + bad_turbine.map({True: "; turbine id missing", False: ""})
            ).str.strip("; ")
            raw_records = [
                json.dumps(record, default=str, sort_keys=True)
                for record in chunk.loc[rejected].to_dict(orient="records")
            ]
            rejected_frame = pd.DataFrame(
                {
                    "source_row_id": frame.loc[rejected, "source_row_id"],
                    "raw_record": raw_records,
                    "reason": reasons[rejected],
                    "_record_hash": [hashlib.sha256(r.encode()).hexdigest() for r in raw_records],
                    "_source_table": table_name,
                }
            )
            clean = frame.loc[keep].copy()
            clean["measured_date"] = clean["measured_at"].dt.date
            clean["_source_table"] = table_name
            yield clean, rejected_frame


@dlt.source(name="sensor_db", max_table_nesting=0)
def sensor_db_source(
    url: str,
    mapping_file: str,
    measurements_table: str,
    start: datetime,
    end: datetime,
    pseudonymiser: Pseudonymiser,
    stats: SensorDbStats,
) -> list:
    """The registry, the measurements of [start, end) and the alarms started in it."""
    engine = sa.create_engine(url)
    mapping = load_mapping(Path(mapping_file))

    @dlt.resource(name="scada_turbines", write_disposition="replace")
    def scada_turbines() -> Iterator[pa.Table]:
        frame = pd.read_sql(sa.text(f"select * from {TURBINE_TABLE}"), engine)
        frame["commissioned_on"] = pd.to_datetime(frame["commissioned_on"]).dt.date
        yield pa.Table.from_pandas(frame, preserve_index=False)

    @dlt.resource(
        name="scada_measurements",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        merge_key="measured_date",
    )
    def scada_measurements() -> Iterator[object]:
        for clean, rejected in _measurement_frames(
            engine, measurements_table, mapping, start, end, stats
        ):
            print(f"[sensor_db] {measurements_table}: {stats.rows_read:,} rows read so far")
            if len(clean):
                yield pa.Table.from_pandas(clean, preserve_index=False)
            if len(rejected):
                yield dlt.mark.with_hints(
                    pa.Table.from_pandas(rejected, preserve_index=False),
                    dlt.mark.make_hints(
                        table_name="scada_measurements__rejected",
                        write_disposition="merge",
                        primary_key="_record_hash",
                    ),
                    create_table_variant=True,
                )

    @dlt.resource(
        name="scada_alarms",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        merge_key="started_date",
        columns={
            "ended_at": {"data_type": "timestamp", "nullable": True},
            "acknowledged_by_pseudonym": {"data_type": "text", "nullable": True},
        },
    )
    def scada_alarms() -> Iterator[list[dict]]:
        query = sa.text(
            f"select id, turbine_id, alarm_code, started_at_utc, ended_at_utc, acknowledged_by "
            f"from {ALARM_TABLE} where started_at_utc >= :low and started_at_utc < :high"
        )
        low = (start - timedelta(days=1)).strftime("%Y-%m-%d")
        high = (end + timedelta(days=1)).strftime("%Y-%m-%d")
        frame = pd.read_sql(query, engine, params={"low": low, "high": high})
        started = _utc(frame["started_at_utc"], "UTC")
        ended = _utc(frame["ended_at_utc"], "UTC")
        window = (started >= pd.Timestamp(start, tz="UTC")) & (
            started < pd.Timestamp(end, tz="UTC")
        )
        rows = []
        for index in frame.index[window]:
            rows.append(
                {
                    "source_row_id": int(frame.at[index, "id"]),
                    "turbine_id": str(frame.at[index, "turbine_id"]),
                    "alarm_code": int(frame.at[index, "alarm_code"]),
                    "started_at": started[index].to_pydatetime(),
                    "ended_at": None if pd.isna(ended[index]) else ended[index].to_pydatetime(),
                    "acknowledged_by_pseudonym": pseudonymiser.token(
                        _text_or_none(frame.at[index, "acknowledged_by"])
                    ),
                    "started_date": started[index].date(),
                    "_source_table": ALARM_TABLE,
                }
            )
        yield rows

    return [scada_turbines, scada_measurements, scada_alarms]
