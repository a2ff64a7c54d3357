"""Every figure the quality page shows, read from PostgreSQL into plain dataclasses.

The page code never touches the database and the SQL never builds HTML: this module is the
only one that knows table names. It reads the dbt `quality` marts, which hold every figure
already counted (docs/quality.md), the run's row of `audit.pipeline_runs`, and Elementary's
test results when the monitoring project wrote them. A mart that is missing (dbt failed
before it) leaves its section saying so, rather than a figure computed another way.

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

SOURCE_ORDER: tuple[str, ...] = ("sensor_db", "production_csv", "weather_api")
QUALITY = "quality"
TOP_REASONS = 5
TREND_RUNS = 10
# The power-curve scatter draws at most about this many points (inline SVG stays light).
MAX_SCATTER_POINTS = 5_000
SCATTER_BUDGET_SHARE = 0.95
PERIODS_PER_DAY = 144
MAX_STEP_GCD = 6  # a sampling step must hit at least 144 / 6 = 24 times of day
# QC flag types in the order the page lists them; a type the models add comes after.
FLAG_TYPE_ORDER = (
    "duplicate",
    "conflicting_duplicate",
    "power_curve_outlier",
    "out_of_range",
    "frozen",
    "spike",
)
ANY_FLAG = "any"
# Elementary's test results (the monitoring project, docs/quality.md): its anomaly monitors.
ELEMENTARY_RESULTS = ("elementary", "elementary_test_results")
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
class ImplausibleCount:
    """One measure of the production exports or the weather: its physical bounds (the
    plausibility_bounds seed), the rows checked and those whose value was implausible
    (null in core and ml, the row flagged), and where to find one in staging."""

    source: str
    measure: str
    min_value: float | None
    max_value: float | None
    unit: str | None
    checked_rows: int | None
    implausible: int
    example: str | None

    @property
    def key(self) -> str:
        """`weather.temperature_2m_c`: the measure as the page's data attributes name it."""
        return f"{self.source}.{self.measure}"


@dataclass(frozen=True)
class MartCount:
    """Rows in one mart table; `rows` is None when the quality mart does not list it."""

    schema: str
    table: str
    rows: int | None

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
class Flag:
    """One kind of QC flag: its type (`out_of_range`) and signal (`wind_speed`, or `row`
    for a flag about the whole period)."""

    flag_type: str
    signal: str

    @property
    def key(self) -> str:
        """`out_of_range.wind_speed`: the flag as the page's `data-flag` attributes name it."""
        return f"{self.flag_type}.{self.signal}"

    @property
    def is_row_level(self) -> bool:
        return self.signal == "row"


@dataclass(frozen=True)
class QcFlags:
    """QC flag counts per flag and turbine over the fact's newest days (first_date to
    last_date), from `quality.quality_recent_qc_flags`; a flag type the models add
    appears here without a code change."""

    origin: str
    first_date: date | None
    last_date: date | None
    flags: tuple[Flag, ...]  # in the page's order (flag_order)
    turbines: tuple[str, ...]
    counts: Mapping[tuple[str, str], int]  # (flag key, turbine) -> periods flagged
    rows: Mapping[str, int]  # turbine -> periods in the newest days
    flagged_rows: Mapping[str, int]  # turbine -> periods with at least one flag

    def count(self, flag: Flag, turbine: str) -> int:
        return self.counts.get((flag.key, turbine), 0)

    def total(self, flag: Flag) -> int:
        return sum(self.count(flag, turbine) for turbine in self.turbines)

    @property
    def raised(self) -> tuple[Flag, ...]:
        """The flags raised at least once (the table's columns)."""
        return tuple(flag for flag in self.flags if self.total(flag))

    @property
    def silent(self) -> tuple[Flag, ...]:
        """The flags checked that raised nothing (listed apart)."""
        return tuple(flag for flag in self.flags if not self.total(flag))

    def total_by_type(self) -> dict[str, int]:
        """Periods flagged per flag type, every signal together, in the page's order."""
        totals: dict[str, int] = {}
        for flag in self.flags:
            totals[flag.flag_type] = totals.get(flag.flag_type, 0) + self.total(flag)
        return totals

    @property
    def total_flagged_rows(self) -> int:
        return sum(self.flagged_rows.values())


def flag_order(flags: Iterable[Flag]) -> tuple[Flag, ...]:
    """Row-level flags first, then per type in FLAG_TYPE_ORDER (others after, by name),
    signals in the vocabulary's order (loaders.signals)."""
    signals = {name: position for position, name in enumerate(CANONICAL_UNITS)}
    types = {name: position for position, name in enumerate(FLAG_TYPE_ORDER)}
    return tuple(
        sorted(
            set(flags),
            key=lambda f: (
                types.get(f.flag_type, len(types)),
                f.flag_type,
                signals.get(f.signal, -1 if f.is_row_level else len(signals)),
                f.signal,
            ),
        )
    )


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
    first_date: date | None
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
class ElementaryAnomaly:
    """One Elementary anomaly monitor that did not pass in this run."""

    table: str
    column: str | None
    monitor: str  # Elementary's test sub-type: row_count, freshness, zscore…
    status: str  # fail or warn
    description: str | None
    detected_at: datetime | None


@dataclass(frozen=True)
class ElementaryAnomalies:
    """Elementary's anomaly monitors in this run: `installed` False when its tables are
    not in the warehouse (the monitoring project never ran)."""

    installed: bool
    monitors_run: int = 0
    anomalies: tuple[ElementaryAnomaly, ...] = ()


@dataclass(frozen=True)
class Figures:
    """Everything the page shows, plus where the derived figures came from."""

    run_id: str
    run: RunSummary | None
    sources: tuple[SourceSummary, ...]
    rejected: tuple[RejectedTable, ...] | None  # None: the quality mart is missing
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
    elementary: ElementaryAnomalies | None = None
    # None: the quality mart is missing
    implausible: tuple[ImplausibleCount, ...] | None = None


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


def pct(part: int, whole: int) -> float:
    """100 × part / whole rounded half away from zero to 2 decimals, as PostgreSQL rounds."""
    if whole == 0:
        return 0.0
    exact = Decimal(100 * part) / Decimal(whole)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


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


# --- queries -------------------------------------------------------------------------------


def _exists(cursor: Cursor, schema: str, table: str) -> bool:
    """Whether the table exists (and is visible to the role reading the page)."""
    cursor.execute("select to_regclass(%s) is not null", (f"{schema}.{table}",))
    row = cursor.fetchone()
    return bool(row and row[0])


def _mart(name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(QUALITY), sql.Identifier(name))


def _origin(name: str) -> str:
    return f"{QUALITY}.{name}"


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


REJECTED = "quality_rejected_reasons"


def read_rejected(cursor: Cursor, run: RunSummary | None) -> tuple[RejectedTable, ...] | None:
    """Every rejected-rows table with rows: its rows, the rows of this run's loads (those
    whose dlt load started between the run's start and end) and its top reasons. None when
    the quality mart is missing."""
    if not _exists(cursor, QUALITY, REJECTED):
        return None
    started = run.started_at if run else None
    ended = (run.ended_at or datetime.now(UTC)) if run else None
    cursor.execute(
        sql.SQL(
            """
            select rejected_table, reason, sum(row_count)::bigint, min(example_location),
                   sum(row_count) filter (where loaded_at between %s and %s)::bigint
              from {} group by 1, 2 order by 1, 3 desc, 2
            """
        ).format(_mart(REJECTED)),
        (started, ended),
    )
    by_table: dict[str, list[tuple[ReasonCount, int]]] = {}
    for table, reason, rows, example, this_run in cursor.fetchall():
        by_table.setdefault(str(table), []).append(
            (ReasonCount(str(reason), int(rows), example), int(this_run or 0))
        )
    found = []
    for name in sorted(by_table):
        reasons = [reason for reason, _ in by_table[name]]
        schema, _, table = name.partition(".")
        found.append(
            RejectedTable(
                schema=schema,
                table=table,
                rows=sum(reason.rows for reason in reasons),
                rows_this_run=(
                    sum(this_run for _, this_run in by_table[name]) if started else None
                ),
                reasons=tuple(reasons[:TOP_REASONS]),
                other_reason_rows=sum(reason.rows for reason in reasons[TOP_REASONS:]),
            )
        )
    return tuple(found)


IMPLAUSIBLE = "quality_implausible_values"


def read_implausible(cursor: Cursor) -> tuple[ImplausibleCount, ...] | None:
    """Implausible values of the exports and the weather per source and measure (the
    weather first, then the exports; measures by name). None when the mart is missing."""
    if not _exists(cursor, QUALITY, IMPLAUSIBLE):
        return None
    cursor.execute(
        sql.SQL(
            """
            select source_name, measure, min_value, max_value, unit, checked_row_count,
                   coalesce(implausible_count, 0), example_location
              from {} order by source_name desc, measure
            """
        ).format(_mart(IMPLAUSIBLE))
    )
    return tuple(
        ImplausibleCount(
            source=str(row[0]),
            measure=str(row[1]),
            min_value=None if row[2] is None else float(row[2]),
            max_value=None if row[3] is None else float(row[3]),
            unit=row[4],
            checked_rows=None if row[5] is None else int(row[5]),
            implausible=int(row[6]),
            example=row[7],
        )
        for row in cursor.fetchall()
    )


MART_ROWS = "quality_mart_rows"


def read_marts(cursor: Cursor) -> tuple[MartCount, ...]:
    """Rows per core mart, as `quality.quality_mart_rows` counted them in this build."""
    if not _exists(cursor, QUALITY, MART_ROWS):
        return ()
    cursor.execute(
        sql.SQL("select mart_schema, mart_table, row_count from {} order by 1, 2").format(
            _mart(MART_ROWS)
        )
    )
    return tuple(MartCount(str(r[0]), str(r[1]), int(r[2])) for r in cursor.fetchall())


COMPLETENESS = "quality_completeness"


def read_completeness(cursor: Cursor) -> tuple[tuple[Completeness, ...], str]:
    """Completeness per turbine and signal (percentages of the expected periods, rounded
    by PostgreSQL to 2 decimals), with the mart's name; empty when it is missing.

    Signals in the order of the vocabulary (loaders.signals), turbines by id.
    """
    if not _exists(cursor, QUALITY, COMPLETENESS):
        return (), ""
    cursor.execute(
        sql.SQL(
            """
            select turbine_id, signal, expected_periods, present_periods, non_null_count,
                   pct_present, pct_non_null, pct_valid
              from {}
            """
        ).format(_mart(COMPLETENESS))
    )
    order = {signal: position for position, signal in enumerate(CANONICAL_UNITS)}
    rows = sorted(
        (
            Completeness(
                turbine_id=str(row[0]),
                signal=str(row[1]),
                expected_periods=int(row[2]),
                present_periods=int(row[3]),
                non_null_count=int(row[4]),
                pct_present=_float(row[5]) or 0.0,
                pct_non_null=_float(row[6]) or 0.0,
                pct_valid=_float(row[7]),
            )
            for row in cursor.fetchall()
        ),
        key=lambda c: (c.turbine_id, order.get(c.signal, len(order)), c.signal),
    )
    return tuple(rows), _origin(COMPLETENESS)


WIND = "quality_wind_speed_distribution"


def read_wind_histogram(cursor: Cursor) -> tuple[tuple[HistogramBin, ...], str]:
    """The wind-speed distribution in the mart's 1 m/s bins; empty when it is missing."""
    if not _exists(cursor, QUALITY, WIND):
        return (), ""
    cursor.execute(
        sql.SQL(
            "select bin_index, bin_label, bin_lower_ms, bin_upper_ms, row_count "
            "from {} order by bin_index"
        ).format(_mart(WIND))
    )
    bins = tuple(
        HistogramBin(int(r[0]), str(r[1]), _float(r[2]), _float(r[3]), int(r[4]))
        for r in cursor.fetchall()
    )
    return bins, _origin(WIND)


RECENT_FLAGS = "quality_recent_qc_flags"


def read_qc_flags(cursor: Cursor) -> QcFlags | None:
    """Periods flagged per QC flag and turbine over the fact's newest days."""
    if not _exists(cursor, QUALITY, RECENT_FLAGS):
        return None
    cursor.execute(
        sql.SQL(
            "select turbine_id, flag_type, signal, flagged_count, period_count, first_date, "
            "last_date from {} order by turbine_id"
        ).format(_mart(RECENT_FLAGS))
    )
    turbines: dict[str, None] = {}
    flags, counts, rows, flagged = set(), {}, {}, {}
    span: tuple[date | None, date | None] = (None, None)
    for turbine, flag_type, signal, count, periods, first, last in cursor.fetchall():
        span = (first, last)
        turbine = str(turbine)
        turbines[turbine] = None
        if flag_type == ANY_FLAG:
            rows[turbine], flagged[turbine] = int(periods), int(count)
            continue
        flag = Flag(str(flag_type), str(signal))
        flags.add(flag)
        counts[(flag.key, turbine)] = int(count)
    return QcFlags(
        origin=_origin(RECENT_FLAGS),
        first_date=span[0],
        last_date=span[1],
        flags=flag_order(flags),
        turbines=tuple(turbines),
        counts=counts,
        rows=rows,
        flagged_rows=flagged,
    )


VOLUMES = "quality_daily_volumes"


def volume_window(cursor: Cursor, run: RunSummary | None) -> tuple[date, date] | None:
    """The days judged: the run's dates, or the last 14 days of data without a run row."""
    if run is not None and run.date_from is not None and run.date_to is not None:
        return run.date_from, run.date_to
    if not _exists(cursor, QUALITY, VOLUMES):
        return None
    cursor.execute(  # the fact's newest day, as the turbines' series count it
        sql.SQL("select max(volume_date) from {} where series_kind = 'turbine'").format(
            _mart(VOLUMES)
        )
    )
    row = cursor.fetchone()
    last = row[0] if row else None
    if last is None:
        return None
    return last - timedelta(days=volume.HISTORY_DAYS - 1), last


def read_volume(cursor: Cursor, window: tuple[date, date] | None) -> tuple[VolumeSeries, ...]:
    """Rows per day of every series of `quality.quality_daily_volumes`, each day of the
    window judged against the days before it (`volume.judge`); turbines first, by id.

    A series begins on its first day with rows (within the history before the window);
    from there a day without rows counts as zero: for the daily feeds up to the end of the
    window, for a monthly export only up to its last delivered day.
    """
    if window is None or not _exists(cursor, QUALITY, VOLUMES):
        return ()
    start, end = window
    cursor.execute(
        sql.SQL(
            """
            select series, series_kind, counted_table, is_daily_feed, volume_date, row_count
              from {} where volume_date between %s and %s
             order by series_kind desc, series, volume_date
            """
        ).format(_mart(VOLUMES)),
        (start - timedelta(days=volume.HISTORY_DAYS), end),
    )
    series: dict[tuple[str, str, str, bool], dict[date, int]] = {}
    for name, kind, table, daily, day, rows in cursor.fetchall():
        series.setdefault((str(name), str(kind), str(table), bool(daily)), {})[day] = int(rows)
    found = []
    for (name, kind, table, daily), counts in series.items():
        days = volume.daily_counts(counts, min(counts), end if daily else max(counts))
        found.append(VolumeSeries(name, kind, table, volume.judge(days, window)))
    return tuple(found)


POINTS = "quality_power_curve_points"
REFERENCE = "quality_power_curve_reference"


def read_power_curve(cursor: Cursor) -> PowerCurve | None:
    """Active power against wind speed for every period of the mart, or a deterministic
    sample of them (`scatter_steps`) when there are too many to draw.

    The sample keeps the periods whose index on the 10-minute time grid (10-minute steps
    since 1970) is a multiple of the step: the same data always gives the same picture,
    every turbine and every time of day is represented.
    """
    if not _exists(cursor, QUALITY, POINTS):
        return None
    points = _mart(POINTS)
    cursor.execute(
        sql.SQL(
            "select count(*), count(*) filter (where is_flagged), min(first_date) from {}"
        ).format(points)
    )
    total, flagged, first = cursor.fetchone() or (0, 0, None)
    step, flagged_step = scatter_steps(int(total), int(flagged))
    cursor.execute(
        sql.SQL(
            """
            select wind_speed_avg, active_power_avg, is_flagged from {}
             where grid_index %% (case when is_flagged then %s else %s end) = 0
             order by is_flagged, wind_speed_avg, active_power_avg
            """
        ).format(points),
        (flagged_step, step),
    )
    drawn = tuple(PowerPoint(float(r[0]), float(r[1]), bool(r[2])) for r in cursor.fetchall())
    reference, rated = _reference_curves(cursor)
    return PowerCurve(
        origin=_origin(POINTS),
        first_date=first,
        total_points=int(total),
        flagged_points=int(flagged),
        step=step,
        flagged_step=flagged_step,
        points=drawn,
        reference=reference,
        rated_power_kw=rated,
    )


def _reference_curves(
    cursor: Cursor,
) -> tuple[dict[str, tuple[tuple[float, float], ...]], float | None]:
    """The manufacturer's curves of the turbine models in service and the largest rated
    power (the scatter's scale); empty when the mart is missing."""
    if not _exists(cursor, QUALITY, REFERENCE):
        return {}, None
    cursor.execute(
        sql.SQL(
            "select turbine_model, wind_speed_ms, power_kw, rated_power_kw from {} order by 1, 2"
        ).format(_mart(REFERENCE))
    )
    curves: dict[str, list[tuple[float, float]]] = {}
    rated: list[float] = []
    for model, wind, power, rated_kw in cursor.fetchall():
        if rated_kw is not None:
            rated.append(float(rated_kw))
        if wind is not None and power is not None:
            curves.setdefault(str(model), []).append((float(wind), float(power)))
    return {model: tuple(line) for model, line in curves.items()}, max(rated, default=None)


def read_elementary(cursor: Cursor, run: RunSummary | None) -> ElementaryAnomalies:
    """Elementary's anomaly monitors detected during this run (from its run's start) that
    failed or warned; `installed` False when Elementary's tables are not there."""
    schema, table = ELEMENTARY_RESULTS
    if not _exists(cursor, schema, table):
        return ElementaryAnomalies(installed=False)
    since = run.started_at if run and run.started_at else datetime.now(UTC) - timedelta(days=1)
    cursor.execute(
        sql.SQL(
            """
            select table_name, column_name, coalesce(test_sub_type, test_short_name), status,
                   test_results_description, detected_at
              from {}.{}
             where test_type = 'anomaly_detection' and detected_at >= %s
             order by status, table_name, column_name, detected_at
            """
        ).format(sql.Identifier(schema), sql.Identifier(table)),
        (since.astimezone(UTC).replace(tzinfo=None),),
    )
    results = cursor.fetchall()
    anomalies = tuple(
        ElementaryAnomaly(
            table=str(r[0] or ""),
            column=r[1],
            monitor=str(r[2] or ""),
            status=str(r[3]).lower(),
            description=r[4],
            detected_at=_utc(r[5]),
        )
        for r in results
        if str(r[3]).lower() in ("fail", "warn", "error")
    )
    return ElementaryAnomalies(installed=True, monitors_run=len(results), anomalies=anomalies)


def collect(settings: Settings, run_id: str) -> Figures:
    """Read every figure of the page for one run, in one read-only transaction."""
    connection = connect(settings, "transformer")
    try:
        connection.set_session(readonly=True)
        with connection.cursor() as cursor:
            cursor.execute(f"set local statement_timeout = {STATEMENT_TIMEOUT_MS}")
            run = read_run(cursor, run_id)
            completeness, completeness_origin = read_completeness(cursor)
            histogram, histogram_origin = read_wind_histogram(cursor)
            window = volume_window(cursor, run)
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
                qc_flags=read_qc_flags(cursor),
                volume=read_volume(cursor, window),
                volume_window=window,
                power_curve=read_power_curve(cursor),
                elementary=read_elementary(cursor, run),
                implausible=read_implausible(cursor),
            )
        connection.rollback()
    finally:
        connection.close()
    return figures
