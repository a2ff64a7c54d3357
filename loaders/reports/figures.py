"""Every figure the quality page shows, read from PostgreSQL into plain dataclasses.

The page code never touches the database and the SQL never builds HTML: this module is the
only one that knows table names. It reads the dbt `quality` marts when they exist and
computes the same figures from `core.fct_turbine_measurements` when they do not, so the
page still says something useful on a run where dbt failed half-way.

Everything runs in one read-only transaction as the transformer role (the role the run
itself uses), so all figures describe the same instant of the warehouse.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from psycopg2 import sql

from loaders.reports import volume
from loaders.reports.volume import VolumeSeries
from loaders.settings import Settings
from loaders.signals import CANONICAL_UNITS
from loaders.warehouse import connect

# The signals the page reports, in display order; the quality mart may add others.
CRITICAL_SIGNALS: tuple[str, ...] = (
    "wind_speed",
    "active_power",
    "rotor_speed",
    "pitch_angle",
    "gearbox_oil_temp",
    "gearbox_bearing_temp",
    "generator_stator_temp",
    "ambient_temp",
)
SOURCE_ORDER: tuple[str, ...] = ("sensor_db", "production_csv", "weather_api")
MART_TABLES: tuple[tuple[str, str], ...] = (
    ("core", "dim_turbine"),
    ("core", "fct_turbine_measurements"),
    ("core", "fct_weather_hourly"),
)
FACT_SCHEMA, FACT_TABLE = "core", "fct_turbine_measurements"
QUALITY_SCHEMA = "quality"
COMPLETENESS_MODEL = "quality_completeness"
WIND_MODEL = "quality_wind_speed_distribution"
WIND_OPEN_BIN = 30  # the open bin "30 m/s and above", as in the quality mart
TOP_REASONS = 5
# Marts larger than this show PostgreSQL's row estimate rather than a count (read_marts).
EXACT_COUNT_LIMIT = 1_000_000
# The QC flags and the power curve read the fact's newest days (a month, whatever the
# calendar): what a morning's check is about, and a cost that does not grow with history.
RECENT_DAYS = 31
TREND_RUNS = 10
# Boolean columns of the fact that are not QC flags: gaps are shown as completeness, and
# is_valid is the absence of every flag.
NOT_QC_FLAGS = frozenset({"is_gap", "is_valid"})
# The power-curve scatter draws at most about this many points (inline SVG stays light).
MAX_SCATTER_POINTS = 5_000
SCATTER_BUDGET_SHARE = 0.95
PERIODS_PER_DAY = 144
MAX_STEP_GCD = 6  # a sampling step must hit at least 144 / 6 = 24 times of day
# Raw tables counted per day for the volume check: (table, day column, fed daily).
# A monthly export (production) is judged only up to its last delivered day.
VOLUME_SOURCES: tuple[tuple[str, str, bool], ...] = (
    ("scada_measurements", "measured_date", True),
    ("weather_hourly", "observed_date", True),
    ("production_daily", "production_date", False),
)
POWER_CURVES = ("reference", "power_curves")
STATEMENT_TIMEOUT_MS = 120_000


class Cursor(Protocol):
    """The part of a DB-API cursor this module uses (psycopg2's cursor satisfies it)."""

    def execute(self, query: Any, vars: Any = None) -> None: ...
    def fetchall(self) -> list[tuple[Any, ...]]: ...
    def fetchone(self) -> tuple[Any, ...] | None: ...


@dataclass(frozen=True)
class RunSummary:
    """This run's row of `audit.pipeline_runs`."""

    run_id: str
    started_at: datetime | None
    ended_at: datetime | None
    status: str
    date_from: date | None
    date_to: date | None
    code_version: str | None
    dbt_status: str | None
    run_by: str | None
    db_role: str | None
    rows_by_source: Mapping[str, Any]
    errors: Mapping[str, Any]

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at

    @property
    def rows_loaded(self) -> int:
        return rows_loaded(self.rows_by_source)


@dataclass(frozen=True)
class TableRows:
    """Rows one source wrote to one raw table in this run (dlt's normalize counts)."""

    source: str
    table: str
    rows: int


@dataclass(frozen=True)
class SourceSummary:
    """What one source did in this run, as recorded in the audit row."""

    source: str
    tables: tuple[TableRows, ...]
    rows_read: int | None
    rows_rejected: int | None
    refused_files: Mapping[str, str]
    error: str | None

    @property
    def rows_written(self) -> int:
        return sum(table.rows for table in self.tables)


@dataclass(frozen=True)
class ReasonCount:
    """One rejection reason, how many rows carry it, and where to find one of them."""

    reason: str
    rows: int
    example: str | None


@dataclass(frozen=True)
class RejectedTable:
    """A `raw.*__rejected` table: its rows now, those landed by this run, the top reasons."""

    schema: str
    table: str
    rows: int
    rows_this_run: int | None
    reasons: tuple[ReasonCount, ...]
    other_reason_rows: int

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class MartCount:
    """Rows in one mart table; `rows` is None when the table does not exist.

    `estimated`: `rows` is PostgreSQL's own estimate (see read_marts), not a count.
    """

    schema: str
    table: str
    rows: int | None
    estimated: bool = False

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class Completeness:
    """One turbine and signal: periods expected on the 10-minute grid, present, with a value."""

    turbine_id: str
    signal: str
    expected_periods: int
    present_periods: int
    non_null_count: int
    pct_present: float
    pct_non_null: float
    pct_valid: float | None = None


@dataclass(frozen=True)
class HistogramBin:
    """One wind-speed bin; `lower`/`upper` are None for the open bins."""

    index: int
    label: str
    lower: float | None
    upper: float | None
    count: int


@dataclass(frozen=True)
class TrendRun:
    """One of the recent runs, for the trend table."""

    run_id: str
    started_at: datetime | None
    ended_at: datetime | None
    status: str
    rows_loaded: int

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at


@dataclass(frozen=True)
class QcFlags:
    """QC flag counts per flag column and turbine, read from the fact's boolean columns.

    The flag columns are discovered in information_schema, so a flag the dbt models add
    appears here without a code change.
    """

    origin: str
    flags: tuple[str, ...]  # flag columns, in table order
    turbines: tuple[str, ...]
    counts: Mapping[tuple[str, str], int]  # (flag, turbine) -> rows flagged
    rows: Mapping[str, int]  # turbine -> rows in the fact
    flagged_rows: Mapping[str, int]  # turbine -> rows with at least one flag

    def count(self, flag: str, turbine: str) -> int:
        return self.counts.get((flag, turbine), 0)

    def total(self, flag: str) -> int:
        return sum(self.count(flag, turbine) for turbine in self.turbines)

    @property
    def total_flagged_rows(self) -> int:
        return sum(self.flagged_rows.values())


def flag_kind(column: str) -> tuple[str, str]:
    """A flag column as (type, signal): `is_out_of_range_wind_speed` -> ('out of range',
    'wind_speed'); `has_conflicting_duplicates` -> ('conflicting duplicates', '').

    The signal is the longest canonical signal name ending the column, so that any new
    per-signal flag type (`is_spike_<signal>`) reads right without a code change.
    """
    name = column.removeprefix("is_").removeprefix("has_")
    endings = [s for s in CANONICAL_UNITS if name.endswith(f"_{s}") and len(name) > len(s) + 1]
    if endings:
        signal = max(endings, key=len)
        return name.removesuffix(f"_{signal}").replace("_", " "), signal
    return name.replace("_", " "), ""


@dataclass(frozen=True)
class PowerPoint:
    """One 10-minute period on the power curve."""

    wind_speed: float
    active_power: float
    is_flagged: bool


@dataclass(frozen=True)
class PowerCurve:
    """The measured power curve: every period with both values, or a deterministic sample.

    `step` keeps the unflagged periods whose 10-minute grid index is a multiple of it,
    `flagged_step` the same for flagged periods; 1 means all of them.
    """

    origin: str
    total_points: int
    flagged_points: int
    step: int
    flagged_step: int
    points: tuple[PowerPoint, ...]
    reference: Mapping[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)
    rated_power_kw: float | None = None

    @property
    def is_sampled(self) -> bool:
        return self.step > 1 or self.flagged_step > 1


@dataclass(frozen=True)
class Figures:
    """Everything the page shows, plus where the derived figures came from."""

    run_id: str
    run: RunSummary | None
    sources: tuple[SourceSummary, ...]
    rejected: tuple[RejectedTable, ...]
    marts: tuple[MartCount, ...]
    completeness: tuple[Completeness, ...]
    completeness_origin: str
    histogram: tuple[HistogramBin, ...]
    histogram_origin: str
    trend: tuple[TrendRun, ...]
    collected_at: datetime
    qc_flags: QcFlags | None = None
    volume: tuple[VolumeSeries, ...] = ()
    volume_window: tuple[date, date] | None = None
    power_curve: PowerCurve | None = None


# --- pure helpers (unit-tested without a database) ---------------------------------------


def as_int(value: object) -> int | None:
    """An audit count as an int: ints stay, dicts of per-file counts are summed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        counts = [as_int(item) for item in value.values()]
        return sum(count for count in counts if count is not None)
    return None


def rows_loaded(rows_by_source: Mapping[str, Any]) -> int:
    """Rows written by all sources of a run: the sum of every table count in the audit row."""
    total = 0
    for details in rows_by_source.values():
        tables = details.get("tables") if isinstance(details, Mapping) else None
        if isinstance(tables, Mapping):
            total += sum(as_int(rows) or 0 for rows in tables.values())
    return total


def _ordered(names: Iterable[str], preferred: Sequence[str]) -> list[str]:
    """Names in the preferred order first, the others alphabetically after them."""
    names = list(dict.fromkeys(names))
    known = [name for name in preferred if name in names]
    return known + sorted(name for name in names if name not in preferred)


def source_summaries(
    rows_by_source: Mapping[str, Any], errors: Mapping[str, Any]
) -> tuple[SourceSummary, ...]:
    """The audit row's per-source details, shaped for the page; sources in a fixed order."""
    names = _ordered([*rows_by_source, *(k for k in errors if k != "dbt")], SOURCE_ORDER)
    summaries = []
    for name in names:
        details = rows_by_source.get(name)
        details = details if isinstance(details, Mapping) else {}
        tables = details.get("tables")
        tables = tables if isinstance(tables, Mapping) else {}
        refused = details.get("refused_files")
        error = errors.get(name)
        summaries.append(
            SourceSummary(
                source=name,
                tables=tuple(
                    TableRows(name, table, as_int(rows) or 0)
                    for table, rows in sorted(tables.items())
                ),
                rows_read=as_int(details.get("rows_read")),
                rows_rejected=as_int(details.get("rows_rejected")),
                refused_files=(
                    {str(k): str(v) for k, v in refused.items()}
                    if isinstance(refused, Mapping)
                    else {}
                ),
                error=None if error is None else str(error),
            )
        )
    return tuple(summaries)


def wind_bin_label(index: int) -> str:
    """The quality mart's bin labels: '< 0', '0-1', ..., '29-30', '>= 30'."""
    if index < 0:
        return "< 0"
    if index >= WIND_OPEN_BIN:
        return f">= {WIND_OPEN_BIN}"
    return f"{index}-{index + 1}"


def wind_bins(counts: Mapping[int, int]) -> tuple[HistogramBin, ...]:
    """Every bin from -1 to the open bin, zero where nothing was counted."""
    return tuple(
        HistogramBin(
            index=index,
            label=wind_bin_label(index),
            lower=None if index < 0 else float(index),
            upper=None if index >= WIND_OPEN_BIN else float(index + 1),
            count=int(counts.get(index, 0)),
        )
        for index in range(-1, WIND_OPEN_BIN + 1)
    )


def _float(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal | int | float):
        return float(value)
    return None


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _json(value: object) -> Mapping[str, Any]:
    """A jsonb column: psycopg2 decodes it already; a text column is decoded here."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, Mapping) else {}


# --- queries -------------------------------------------------------------------------------


def _columns(cursor: Cursor, schema: str, table: str) -> list[str]:
    """The table's columns in order; empty when it does not exist (or is not visible)."""
    cursor.execute(
        "select column_name from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position",
        (schema, table),
    )
    return [row[0] for row in cursor.fetchall()]


def _ident(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def read_run(cursor: Cursor, run_id: str) -> RunSummary | None:
    cursor.execute(
        """
        select run_id, started_at, ended_at, status, date_from, date_to, code_version,
               dbt_status, run_by, db_role, rows_by_source, errors
          from audit.pipeline_runs where run_id = %s
        """,
        (run_id,),
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return RunSummary(
        run_id=row[0],
        started_at=_utc(row[1]),
        ended_at=_utc(row[2]),
        status=row[3],
        date_from=row[4],
        date_to=row[5],
        code_version=row[6],
        dbt_status=row[7],
        run_by=row[8],
        db_role=row[9],
        rows_by_source=_json(row[10]),
        errors=_json(row[11]),
    )


def read_trend(cursor: Cursor, limit: int = TREND_RUNS) -> tuple[TrendRun, ...]:
    cursor.execute(
        """
        select run_id, started_at, ended_at, status, rows_by_source
          from audit.pipeline_runs order by started_at desc, run_id desc limit %s
        """,
        (limit,),
    )
    return tuple(
        TrendRun(
            run_id=row[0],
            started_at=_utc(row[1]),
            ended_at=_utc(row[2]),
            status=row[3],
            rows_loaded=rows_loaded(_json(row[4])),
        )
        for row in cursor.fetchall()
    )


def _location_expression(columns: Sequence[str]) -> sql.Composable:
    """How to point at one rejected row: file and line, else the source row id, else nothing."""
    if "_source_file" in columns and "_source_line" in columns:
        return sql.SQL("_source_file || ':' || _source_line::text")
    if "source_row_id" in columns:
        return sql.SQL("'row ' || source_row_id::text")
    if "_request" in columns:
        return sql.SQL("_request::text")
    return sql.SQL("null::text")


def read_rejected(cursor: Cursor, run: RunSummary | None) -> tuple[RejectedTable, ...]:
    """Every `raw.*__rejected` table that exists: row counts and the most frequent reasons.

    Rows of this run are those whose dlt load id (a Unix timestamp) falls inside the run's
    start and end; a re-run that rewrote an old rejected row counts it again, as dlt did.
    """
    cursor.execute(
        r"""
        select table_name from information_schema.tables
         where table_schema = 'raw' and table_name like '%\_\_rejected'
         order by table_name
        """
    )
    tables = [row[0] for row in cursor.fetchall()]
    found = []
    for table in tables:
        columns = _columns(cursor, "raw", table)
        if "reason" not in columns:
            continue
        name = _ident("raw", table)
        rows_this_run: int | None = None
        if run is not None and run.started_at is not None and "_dlt_load_id" in columns:
            ended = run.ended_at or datetime.now(UTC)
            cursor.execute(
                sql.SQL(
                    r"""
                    select count(*) from {}
                     where _dlt_load_id ~ '^[0-9]+(\.[0-9]+)?$'
                       and _dlt_load_id::numeric
                           between extract(epoch from %s::timestamptz)
                               and extract(epoch from %s::timestamptz)
                    """
                ).format(name),
                (run.started_at, ended),
            )
            rows_this_run = int(_first(cursor))
        cursor.execute(
            sql.SQL(
                """
                select coalesce(reason, '(no reason given)') as reason, count(*) as rows,
                       min({location}) as example
                  from {table} group by 1 order by 2 desc, 1
                """
            ).format(location=_location_expression(columns), table=name)
        )
        reasons = [ReasonCount(str(r[0]), int(r[1]), r[2]) for r in cursor.fetchall()]
        total = sum(reason.rows for reason in reasons)
        found.append(
            RejectedTable(
                schema="raw",
                table=table,
                rows=total,
                rows_this_run=rows_this_run,
                reasons=tuple(reasons[:TOP_REASONS]),
                other_reason_rows=sum(reason.rows for reason in reasons[TOP_REASONS:]),
            )
        )
    return tuple(found)


def _first(cursor: Cursor) -> Any:
    row = cursor.fetchone()
    return row[0] if row else None


def read_marts(cursor: Cursor, exact_limit: int = EXACT_COUNT_LIMIT) -> tuple[MartCount, ...]:
    """Rows per mart: counted up to `exact_limit` rows, PostgreSQL's estimate beyond.

    A `count(*)` reads the whole table, so on a year of the fleet it made the page cost
    grow with the history (0.6 s after 30 days, 4.6 s after 365). Beyond the limit the
    page shows `pg_class.reltuples`, which the `analyze` each incremental model runs
    after its build keeps within a fraction of a percent; a table never analyzed (-1)
    is counted.
    """
    counts = []
    for schema, table in MART_TABLES:
        if not _columns(cursor, schema, table):
            counts.append(MartCount(schema, table, None))
            continue
        name = _ident(schema, table)
        cursor.execute(
            "select reltuples::bigint from pg_class where oid = %s::regclass",
            (name.as_string(cursor),),
        )
        estimate = int(_first(cursor))
        if estimate >= exact_limit:
            counts.append(MartCount(schema, table, estimate, estimated=True))
            continue
        cursor.execute(sql.SQL("select count(*) from {}").format(name))
        counts.append(MartCount(schema, table, int(_first(cursor))))
    return tuple(counts)


def _sort_completeness(rows: Iterable[Completeness]) -> tuple[Completeness, ...]:
    order = {signal: position for position, signal in enumerate(CRITICAL_SIGNALS)}
    return tuple(
        sorted(rows, key=lambda c: (c.turbine_id, order.get(c.signal, len(order)), c.signal))
    )


COMPLETENESS_COLUMNS = ("turbine_id", "signal", "expected_periods", "present_periods")


def read_completeness(cursor: Cursor) -> tuple[tuple[Completeness, ...], str]:
    """Completeness per turbine and signal, from the quality mart or else the fact table.

    Returns the figures and where they came from (a table name, or '' when neither
    exists). Percentages are of the expected periods, rounded to 2 decimals by PostgreSQL
    either way, so the page and a SQL check agree to the digit.
    """
    columns = _columns(cursor, QUALITY_SCHEMA, COMPLETENESS_MODEL)
    if all(column in columns for column in (*COMPLETENESS_COLUMNS, "non_null_count")):
        valid = sql.SQL(
            "round(100.0 * valid_count / nullif(expected_periods, 0), 2)"
            if "valid_count" in columns
            else "null::numeric"
        )
        cursor.execute(
            sql.SQL(
                """
                select turbine_id, signal, expected_periods, present_periods, non_null_count,
                       round(100.0 * present_periods / nullif(expected_periods, 0), 2),
                       round(100.0 * non_null_count / nullif(expected_periods, 0), 2),
                       {valid}
                  from {table}
                """
            ).format(valid=valid, table=_ident(QUALITY_SCHEMA, COMPLETENESS_MODEL))
        )
        rows = [_completeness(row) for row in cursor.fetchall()]
        return _sort_completeness(rows), f"{QUALITY_SCHEMA}.{COMPLETENESS_MODEL}"
    return read_completeness_from_fact(cursor)


def _completeness(row: Sequence[Any]) -> Completeness:
    return Completeness(
        turbine_id=str(row[0]),
        signal=str(row[1]),
        expected_periods=int(row[2]),
        present_periods=int(row[3]),
        non_null_count=int(row[4]),
        pct_present=_float(row[5]) or 0.0,
        pct_non_null=_float(row[6]) or 0.0,
        pct_valid=_float(row[7]),
    )


def read_completeness_from_fact(cursor: Cursor) -> tuple[tuple[Completeness, ...], str]:
    """The same figures from `core.fct_turbine_measurements` (grid rows, `is_gap`)."""
    columns = _columns(cursor, FACT_SCHEMA, FACT_TABLE)
    signals = [s for s in CRITICAL_SIGNALS if f"{s}_avg" in columns]
    if not signals or "is_gap" not in columns or "turbine_id" not in columns:
        return (), ""
    counts = sql.SQL(", ").join(
        sql.SQL("count({})").format(sql.Identifier(f"{signal}_avg")) for signal in signals
    )
    cursor.execute(
        sql.SQL(
            """
            select turbine_id, count(*), count(*) filter (where not is_gap), {counts}
              from {table} group by turbine_id
            """
        ).format(counts=counts, table=_ident(FACT_SCHEMA, FACT_TABLE))
    )
    rows = []
    for row in cursor.fetchall():
        turbine, expected, present = str(row[0]), int(row[1]), int(row[2])
        for signal, non_null in zip(signals, row[3:], strict=True):
            rows.append(
                Completeness(
                    turbine_id=turbine,
                    signal=signal,
                    expected_periods=expected,
                    present_periods=present,
                    non_null_count=int(non_null),
                    pct_present=pct(present, expected),
                    pct_non_null=pct(int(non_null), expected),
                )
            )
    return _sort_completeness(rows), f"{FACT_SCHEMA}.{FACT_TABLE}"


def pct(part: int, whole: int) -> float:
    """100 × part / whole rounded half away from zero to 2 decimals, as PostgreSQL rounds."""
    if whole == 0:
        return 0.0
    exact = Decimal(100 * part) / Decimal(whole)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def read_wind_histogram(cursor: Cursor) -> tuple[tuple[HistogramBin, ...], str]:
    """The wind-speed distribution in 1 m/s bins, from the quality mart or the fact table."""
    columns = _columns(cursor, QUALITY_SCHEMA, WIND_MODEL)
    if "bin_index" in columns and "row_count" in columns:
        cursor.execute(
            sql.SQL("select bin_index, row_count from {}").format(
                _ident(QUALITY_SCHEMA, WIND_MODEL)
            )
        )
        counts = {int(row[0]): int(row[1]) for row in cursor.fetchall()}
        return wind_bins(counts), f"{QUALITY_SCHEMA}.{WIND_MODEL}"
    if "wind_speed_avg" not in _columns(cursor, FACT_SCHEMA, FACT_TABLE):
        return (), ""
    cursor.execute(
        sql.SQL(
            """
            select case when wind_speed_avg < 0 then -1
                        when wind_speed_avg >= %s then %s
                        else floor(wind_speed_avg)::integer end,
                   count(*)
              from {} where wind_speed_avg is not null group by 1
            """
        ).format(_ident(FACT_SCHEMA, FACT_TABLE)),
        (WIND_OPEN_BIN, WIND_OPEN_BIN),
    )
    counts = {int(row[0]): int(row[1]) for row in cursor.fetchall()}
    return wind_bins(counts), f"{FACT_SCHEMA}.{FACT_TABLE}"


def recent_fact_days(cursor: Cursor, days: int) -> tuple[sql.Composable, str]:
    """A condition on the fact's newest `days` days (an index range on measured_date) and
    where the figures come from, as shown on the page; the whole table when the fact has
    no measured_date or no rows."""
    table = f"{FACT_SCHEMA}.{FACT_TABLE}"
    if "measured_date" not in _columns(cursor, FACT_SCHEMA, FACT_TABLE):
        return sql.SQL("true"), table
    cursor.execute(
        sql.SQL("select max(measured_date) - %s + 1 from {}").format(
            _ident(FACT_SCHEMA, FACT_TABLE)
        ),
        (days,),
    )
    first = _first(cursor)
    if first is None:
        return sql.SQL("true"), table
    condition = sql.SQL("measured_date >= {}::date").format(sql.Literal(first.isoformat()))
    return condition, f"{table} where measured_date >= '{first.isoformat()}'"


def read_qc_flags(cursor: Cursor, recent: tuple[sql.Composable, str]) -> QcFlags | None:
    """Rows flagged per QC flag column and turbine over `recent` (recent_fact_days)."""
    cursor.execute(
        """
        select column_name from information_schema.columns
         where table_schema = %s and table_name = %s and data_type = 'boolean'
           and (column_name like 'is\\_%%' or column_name like 'has\\_%%')
         order by ordinal_position
        """,
        (FACT_SCHEMA, FACT_TABLE),
    )
    flags = [row[0] for row in cursor.fetchall() if row[0] not in NOT_QC_FLAGS]
    columns = _columns(cursor, FACT_SCHEMA, FACT_TABLE)
    if "turbine_id" not in columns:
        return None
    any_flag = (
        sql.SQL("qc_flag_count > 0")
        if "qc_flag_count" in columns
        else sql.SQL("not is_valid and not is_gap")
        if "is_valid" in columns and "is_gap" in columns
        else sql.SQL("false")
    )
    counts = sql.SQL("").join(
        sql.SQL(", count(*) filter (where {})").format(sql.Identifier(flag)) for flag in flags
    )
    condition, origin = recent
    cursor.execute(
        sql.SQL(
            "select turbine_id, count(*), count(*) filter (where {any_flag}){counts} "
            "from {table} where {recent} group by turbine_id order by turbine_id"
        ).format(
            any_flag=any_flag,
            counts=counts,
            table=_ident(FACT_SCHEMA, FACT_TABLE),
            recent=condition,
        )
    )
    turbines, rows, flagged, found = [], {}, {}, {}
    for row in cursor.fetchall():
        turbine = str(row[0])
        turbines.append(turbine)
        rows[turbine], flagged[turbine] = int(row[1]), int(row[2])
        for flag, count in zip(flags, row[3:], strict=True):
            found[(flag, turbine)] = int(count)
    return QcFlags(
        origin=origin,
        flags=tuple(flags),
        turbines=tuple(turbines),
        counts=found,
        rows=rows,
        flagged_rows=flagged,
    )


def volume_window(cursor: Cursor, run: RunSummary | None) -> tuple[date, date] | None:
    """The days judged: the run's dates, or the last 14 days of data without a run row."""
    if run is not None and run.date_from is not None and run.date_to is not None:
        return run.date_from, run.date_to
    if "measured_date" not in _columns(cursor, FACT_SCHEMA, FACT_TABLE):
        return None
    cursor.execute(
        sql.SQL("select max(measured_date) from {}").format(_ident(FACT_SCHEMA, FACT_TABLE))
    )
    last = _first(cursor)
    if last is None:
        return None
    return last - timedelta(days=volume.HISTORY_DAYS - 1), last


def _daily(cursor: Cursor, query: sql.Composable, params: Sequence[Any]) -> dict[str, dict]:
    """{series: {day: rows}} from a query returning (series, day, rows)."""
    cursor.execute(query, params)
    found: dict[str, dict] = {}
    for series, day, rows in cursor.fetchall():
        found.setdefault(str(series), {})[day] = int(rows)
    return found


def read_volume(cursor: Cursor, window: tuple[date, date] | None) -> tuple[VolumeSeries, ...]:
    """Rows per day per turbine (periods with a source row) and per raw table, each day of
    the window judged against the days before it (`volume.judge`).

    A series begins on its first day with rows (within the history before the window);
    from there a day without rows counts as zero: for the daily feeds up to the end of the
    window, for a monthly export only up to its last delivered day.
    """
    if window is None:
        return ()
    start, end = window
    first_history = start - timedelta(days=volume.HISTORY_DAYS)
    found: list[VolumeSeries] = []
    fact_columns = _columns(cursor, FACT_SCHEMA, FACT_TABLE)
    if {"turbine_id", "measured_date", "is_gap"} <= set(fact_columns):
        per_turbine = _daily(
            cursor,
            sql.SQL(
                "select turbine_id, measured_date, count(*) filter (where not is_gap) "
                "from {} where measured_date between %s and %s group by 1, 2"
            ).format(_ident(FACT_SCHEMA, FACT_TABLE)),
            (first_history, end),
        )
        for turbine in sorted(per_turbine):
            counts = per_turbine[turbine]
            days = volume.daily_counts(counts, min(counts), end)
            found.append(
                VolumeSeries(
                    turbine, "turbine", f"{FACT_SCHEMA}.{FACT_TABLE}", volume.judge(days, window)
                )
            )
    for table, day_column, daily in VOLUME_SOURCES:
        if day_column not in _columns(cursor, "raw", table):
            continue
        per_table = _daily(
            cursor,
            sql.SQL(
                "select %s, {day}, count(*) from {table} where {day} between %s and %s "
                "group by 1, 2"
            ).format(day=sql.Identifier(day_column), table=_ident("raw", table)),
            (table, first_history, end),
        )
        counts = per_table.get(table, {})
        if not counts:
            continue
        days = volume.daily_counts(counts, min(counts), end if daily else max(counts))
        name = f"raw.{table}"
        found.append(VolumeSeries(name, "source", name, volume.judge(days, window)))
    return tuple(found)


def _spread(step: int) -> int:
    """The first step from `step` up that still samples every hour of the day: with the
    10-minute grid's 144 periods a day, a step sharing a large factor with 144 (72, 144…)
    would keep the same few times of day every day (all nights, say)."""
    while math.gcd(step, PERIODS_PER_DAY) > MAX_STEP_GCD:
        step += 1
    return step


def scatter_steps(total: int, flagged: int, limit: int = MAX_SCATTER_POINTS) -> tuple[int, int]:
    """(step, flagged_step): 1 and 1 when every point fits in `limit`; else every flagged
    period while they fill at most half of the budget (every flagged_step-th beyond), and
    every step-th of the others. The budget keeps 5 % spare because the sample follows the
    time grid (see `read_power_curve`), so its size is only close to total / step."""
    if total <= limit:
        return 1, 1
    budget = int(limit * SCATTER_BUDGET_SHARE)
    flagged_step = 1 if flagged <= budget // 2 else _spread(math.ceil(flagged / (budget // 2)))
    kept_flagged = math.ceil(flagged / flagged_step)
    step = _spread(max(2, math.ceil((total - flagged) / max(1, budget - kept_flagged))))
    return step, flagged_step


def read_power_curve(cursor: Cursor, recent: tuple[sql.Composable, str]) -> PowerCurve | None:
    """Active power against wind speed for every present period of `recent`
    (recent_fact_days) with both values, or a deterministic sample of them
    (`scatter_steps`) when there are too many to draw.

    The sample keeps the periods whose index on the 10-minute time grid (10-minute steps
    since 1970) is a multiple of the step: the same data always gives the same picture,
    every turbine and every time of day is represented, and no sort of the whole fact
    table is needed (two plain scans, however many years it holds).
    """
    columns = _columns(cursor, FACT_SCHEMA, FACT_TABLE)
    if not {"wind_speed_avg", "active_power_avg", "measured_at"} <= set(columns):
        return None
    flagged_expression = (
        sql.SQL("qc_flag_count > 0")
        if "qc_flag_count" in columns
        else sql.SQL("not coalesce(is_valid, true)")
        if "is_valid" in columns
        else sql.SQL("false")
    )
    table = _ident(FACT_SCHEMA, FACT_TABLE)
    condition, origin = recent
    measured = sql.SQL("{} and wind_speed_avg is not null and active_power_avg is not null").format(
        condition
    )
    cursor.execute(
        sql.SQL("select count(*), count(*) filter (where {flagged}) from {table} where {m}").format(
            flagged=flagged_expression, table=table, m=measured
        )
    )
    total, flagged = (int(value) for value in cursor.fetchone() or (0, 0))
    step, flagged_step = scatter_steps(total, flagged)
    cursor.execute(
        sql.SQL(
            """
            select wind_speed_avg, active_power_avg, is_flagged from (
                select wind_speed_avg, active_power_avg, {flagged} as is_flagged,
                       floor(extract(epoch from measured_at) / 600)::bigint as grid_index
                  from {table} where {m}
            ) as measured
             where grid_index %% (case when is_flagged then %s else %s end) = 0
             order by is_flagged, wind_speed_avg, active_power_avg
            """
        ).format(flagged=flagged_expression, table=table, m=measured),
        (flagged_step, step),
    )
    points = tuple(
        PowerPoint(float(row[0]), float(row[1]), bool(row[2])) for row in cursor.fetchall()
    )
    reference, rated = _reference_curves(cursor)
    return PowerCurve(
        origin=origin,
        total_points=total,
        flagged_points=flagged,
        step=step,
        flagged_step=flagged_step,
        points=points,
        reference=reference,
        rated_power_kw=rated,
    )


def _reference_curves(
    cursor: Cursor,
) -> tuple[dict[str, tuple[tuple[float, float], ...]], float | None]:
    """The manufacturer's curves of the turbine models in dim_turbine, and the largest
    rated power (the scatter's scale); empty when the seed or the dimension is missing."""
    dim = _columns(cursor, "core", "dim_turbine")
    if "rated_power_kw" not in dim:
        return {}, None
    cursor.execute("select max(rated_power_kw) from core.dim_turbine")
    rated = _float(_first(cursor))
    schema, table = POWER_CURVES
    if "turbine_model" not in dim or not {"model", "wind_speed_ms", "power_kw"} <= set(
        _columns(cursor, schema, table)
    ):
        return {}, rated
    cursor.execute(
        sql.SQL(
            "select model, wind_speed_ms, power_kw from {} "
            "where model in (select turbine_model from core.dim_turbine) order by 1, 2"
        ).format(_ident(schema, table))
    )
    curves: dict[str, list[tuple[float, float]]] = {}
    for model, wind, power in cursor.fetchall():
        curves.setdefault(str(model), []).append((float(wind), float(power)))
    return {model: tuple(points) for model, points in curves.items()}, rated


def collect(settings: Settings, run_id: str) -> Figures:
    """Read every figure of the page for one run, in one read-only transaction."""
    connection = connect(settings, "transformer")
    try:
        connection.set_session(readonly=True)
        with connection.cursor() as cursor:
            cursor.execute(f"set local statement_timeout = {STATEMENT_TIMEOUT_MS}")
            # The newest days of the fact are an index range; with the default cost of a
            # random page (4, a spinning disk's), PostgreSQL scanned the whole year-long
            # fact instead (0.38 s against 0.18 s on the bench). A warehouse's pages are in
            # memory or on SSD.
            cursor.execute("set local random_page_cost = 1.1")
            run = read_run(cursor, run_id)
            completeness, completeness_origin = read_completeness(cursor)
            histogram, histogram_origin = read_wind_histogram(cursor)
            window = volume_window(cursor, run)
            recent = recent_fact_days(cursor, RECENT_DAYS)
            figures = Figures(
                run_id=run_id,
                run=run,
                sources=source_summaries(run.rows_by_source, run.errors) if run else (),
                rejected=read_rejected(cursor, run),
                marts=read_marts(cursor),
                completeness=completeness,
                completeness_origin=completeness_origin,
                histogram=histogram,
                histogram_origin=histogram_origin,
                trend=read_trend(cursor),
                collected_at=datetime.now(UTC),
                qc_flags=read_qc_flags(cursor, recent),
                volume=read_volume(cursor, window),
                volume_window=window,
                power_curve=read_power_curve(cursor, recent),
            )
        connection.rollback()
    finally:
        connection.close()
    return figures
