"""The ML mart is leakage-safe: changing data after a time t changes no feature or label of
horizon h (7 or 30 days) of a row whose hour starts at or before t - h. Features are held to
a stricter bound still: none changes at or before t - 2 hours (the hour's own data, plus the
QC flags' look-ahead: a spike needs the next period, a frozen run may need up to an hour).

On a copy of the demo month's database, everything after t is changed: the measurements of
the first day after t are altered (temperatures up, power down), the later ones deleted,
and the alarms, maintenance interventions and weather that start after t deleted. t lies
just before the gearbox-bearing failure of MTC-T02, which therefore disappears: the labels
of the week before it must change (the test can fail), the rows before t - 7 days must not.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from warehouse_sql import query

from loaders.settings import Settings
from loaders.transform.dbt import run_dbt

ML = "ml.ml_turbine_hourly_features"
# Three hours before the bearing failure of the demo park (2025-10-22 09:00 UTC).
T = datetime(2025, 10, 22, 6, 0, tzinfo=UTC)
HORIZONS = {"7d": timedelta(days=7), "30d": timedelta(days=30)}
FEATURE_LOOKAHEAD = timedelta(hours=2)
# Describes the data set, not a row: how far the loaded data reach (it moves with t).
# dlt_load_id is load metadata, not a feature.
NOT_COMPARED = {"labels_observed_until", "dlt_load_id"}


def horizon_of(column: str) -> timedelta:
    """How far a column may look after its hour's start: a label its horizon (time to
    failure is capped at the longest one), anything else FEATURE_LOOKAHEAD."""
    for suffix, horizon in HORIZONS.items():
        if column.endswith(f"_{suffix}") and column.startswith(("will_fail_", "is_label_")):
            return horizon
    if column.startswith("hours_to_"):
        return max(HORIZONS.values())
    return FEATURE_LOOKAHEAD


def same(left: object, right: object) -> bool:
    """Equal, floats to 1e-9: a rebuild may add the same values in another order."""
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)
    return left == right


def mart(settings: Settings) -> tuple[list[str], dict[tuple, dict[str, object]]]:
    columns = [
        name
        for (name,) in query(
            settings,
            "select column_name from information_schema.columns "
            "where table_schema = 'ml' and table_name = 'ml_turbine_hourly_features' "
            "order by ordinal_position",
        )
    ]
    rows = query(settings, f"select {', '.join(columns)} from {ML}")
    by_key = {}
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        by_key[(record["turbine_id"], record["hour_at"])] = record
    return columns, by_key


@pytest.fixture(scope="module")
def before_and_after(demo, database_copy) -> Iterator[tuple]:  # noqa: ANN001
    """The mart of the demo month, and the mart rebuilt from scratch on a copy changed
    after T (a full refresh: days and events are deleted, which an incremental run does
    not look for; tests/integration/test_dbt_incremental.py covers those runs)."""
    settings, _, _ = demo
    before = mart(settings)
    with database_copy(settings, "leak") as copied:
        altered_until = T + timedelta(days=1)
        query(
            copied,
            "update raw.scada_measurements set "
            "gearbox_bearing_temp_avg = gearbox_bearing_temp_avg + 25, "
            "gearbox_oil_temp_avg = gearbox_oil_temp_avg + 10, "
            "active_power_avg = active_power_avg * 0.5, "
            "_dlt_load_id = %s "
            "where measured_at >= %s and measured_at < %s",
            (f"{time.time():.6f}", T, altered_until),
        )
        query(
            copied, "delete from raw.scada_measurements where measured_at >= %s", (altered_until,)
        )
        query(copied, "delete from raw.scada_alarms where started_at >= %s", (T,))
        query(copied, "delete from raw.maintenance_log where started_at >= %s", (T,))
        query(copied, "delete from raw.weather_hourly where observed_at >= %s", (T,))
        completed = run_dbt(
            copied, "run", "--full-refresh", "--select", "+ml_turbine_hourly_features"
        )
        assert completed.returncode == 0, "dbt run on the changed copy failed (output above)"
        after = mart(copied)
        yield before, after


def test_nothing_at_or_before_t_minus_the_horizon_changes(before_and_after: tuple) -> None:
    (columns, before), (columns_after, after) = before_and_after
    assert columns == columns_after
    compared: Counter = Counter()
    changed = []
    for key, row in before.items():
        for column in columns:
            horizon = horizon_of(column)
            if column in NOT_COMPARED or key[1] > T - horizon:
                continue
            compared[horizon] += 1
            if key not in after:
                changed.append((key, "row missing"))
            elif not same(after[key][column], row[column]):
                changed.append((key, column, row[column], after[key][column]))
    assert not changed, changed[:10]
    # Features of three weeks and 7-day labels of two were compared (30-day labels need a
    # t a month into the data: the demo month has none before t - 30 days).
    assert compared[FEATURE_LOOKAHEAD] > 100_000, compared
    assert compared[HORIZONS["7d"]] > 10_000, compared


def test_the_change_after_t_does_reach_the_rows_after_t_minus_the_horizon(
    before_and_after: tuple,
) -> None:
    """The comparison above is not vacuous: the failure deleted after t removes the labels
    of the week before it, and the altered temperatures move the features after t."""
    (_, before), (_, after) = before_and_after
    bearing = "MTC-T02"
    week_before = [
        key
        for key, row in before.items()
        if key[0] == bearing and row["will_fail_gearbox_bearing_7d"]
    ]
    assert week_before, "the demo's bearing failure carries no label: nothing to lose"
    assert all(not after[key]["will_fail_gearbox_bearing_7d"] for key in week_before)
    assert min(key[1] for key in week_before) > T - HORIZONS["7d"]
    moved = [
        key
        for key in after
        if key[1] >= T
        and after[key]["gearbox_bearing_temp_mean"] is not None
        and after[key]["gearbox_bearing_temp_mean"] != before[key]["gearbox_bearing_temp_mean"]
    ]
    assert moved, "the altered measurements after t changed no feature"
