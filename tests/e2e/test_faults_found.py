"""The demo park's injected faults are found by the dbt models, row for row.

The simulator lists what it injected (`park.faults`, the same list as
`loaders.demo_park.injected_faults()`): each kind must raise its QC flag on exactly the
periods it covers, and the flags must not fire where nothing was injected (the demo's
healthy data stay unflagged). The gearbox-bearing failure of MTC-T02 must carry its
7-day label on the week before it and not after its repair, and its overheating must show
in the ML mart's temperature residual.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from warehouse_sql import query, scalar

from loaders.demo_park import park as facts
from loaders.settings import Settings

FACT = "core.fct_turbine_measurements"
ML = "ml.ml_turbine_hourly_features"
PERIOD = timedelta(minutes=10)
HOUR = timedelta(hours=1)


def faults_of(park: object, kind: str) -> list:
    found = [fault for fault in park.faults if fault.kind == kind]  # type: ignore[attr-defined]
    assert found, f"the demo park injected no {kind} fault: nothing to check"
    return found


def periods(start: datetime, end: datetime) -> list[datetime]:
    """The 10-minute period starts of [start, end)."""
    count = int((end - start) / PERIOD)
    return [start + k * PERIOD for k in range(count)]


def flagged_periods(settings: Settings, flag: str) -> set[tuple[str, datetime]]:
    return set(query(settings, f"select turbine_id, measured_at from {FACT} where {flag}"))


def canonical(signal_column: str) -> str:
    """`generator_stator_temp_avg` -> `generator_stator_temp`, the flag columns' suffix."""
    return signal_column.removesuffix("_avg")


def test_every_dropout_is_a_gap_and_nothing_else_is(demo) -> None:  # noqa: ANN001
    settings, park, _ = demo
    expected = {
        (fault.turbine_id, at)
        for fault in faults_of(park, "dropout")
        for at in periods(fault.start_utc, fault.end_utc)
    }
    assert flagged_periods(settings, "is_gap") == expected
    states = Counter(
        state for (state,) in query(settings, f"select operating_state from {FACT} where is_gap")
    )
    assert set(states) <= {"no_data", "down"}, states


def test_the_frozen_sensor_is_flagged_over_its_whole_interval_only(demo) -> None:  # noqa: ANN001
    settings, park, _ = demo
    flagged: dict[str, set] = {}
    for fault in faults_of(park, "frozen_sensor"):
        signal = canonical(fault.signal)
        flagged.setdefault(signal, set()).update(
            (fault.turbine_id, at) for at in periods(fault.start_utc, fault.end_utc)
        )
    for signal, expected in flagged.items():
        assert flagged_periods(settings, f"is_frozen_{signal}") == expected
    any_frozen = " or ".join(
        name
        for (name,) in query(
            settings,
            "select column_name from information_schema.columns "
            "where table_schema = 'core' and table_name = 'fct_turbine_measurements' "
            "and column_name like 'is\\_frozen\\_%%'",
        )
    )
    every_frozen = flagged_periods(settings, any_frozen)
    assert every_frozen == set().union(*flagged.values()), "a frozen flag where none was injected"


def test_every_spike_is_flagged_on_its_period_and_signal_only(demo) -> None:  # noqa: ANN001
    settings, park, _ = demo
    spikes = faults_of(park, "spike")
    for fault in spikes:
        signal = canonical(fault.signal)
        rows = query(
            settings,
            f"select is_spike_{signal}, is_valid from {FACT} "
            "where turbine_id = %s and measured_at = %s",
            (fault.turbine_id, fault.start_utc),
        )
        assert rows == [(True, False)], (fault, rows)
    spike_columns = [
        name
        for (name,) in query(
            settings,
            "select column_name from information_schema.columns "
            "where table_schema = 'core' and table_name = 'fct_turbine_measurements' "
            "and column_name like 'is\\_spike\\_%%'",
        )
    ]
    counted = sum(
        scalar(settings, f"select count(*) filter (where {column}) from {FACT}")
        for column in spike_columns
    )
    assert counted == len(spikes), "a spike flag where none was injected"


def test_identical_duplicates_are_collapsed_silently(demo) -> None:  # noqa: ANN001
    settings, park, _ = demo
    for fault in faults_of(park, "duplicate_identical"):
        rows = query(
            settings,
            f"select source_row_count, has_duplicates, has_conflicting_duplicates, is_valid "
            f"from {FACT} where turbine_id = %s and measured_at = %s",
            (fault.turbine_id, fault.start_utc),
        )
        assert rows == [(2, True, False, True)], (fault, rows)


def test_conflicting_duplicates_are_flagged_and_kept_aside(demo) -> None:  # noqa: ANN001
    settings, park, _ = demo
    conflicts = faults_of(park, "duplicate_conflicting")
    expected = {(fault.turbine_id, fault.start_utc) for fault in conflicts}
    assert flagged_periods(settings, "has_conflicting_duplicates") == expected
    for fault in conflicts:
        versions = query(
            settings,
            "select active_power_avg, is_kept "
            "from intermediate.int_measurement_conflicts_set_aside "
            "where turbine_id = %s and measured_at = %s order by is_kept",
            (fault.turbine_id, fault.start_utc),
        )
        assert len(versions) == 2, (fault, versions)
        assert [kept for _, kept in versions] == [False, True]
        assert versions[0][0] != versions[1][0]


def test_the_bearing_overheat_shows_in_the_temperature_residual(demo) -> None:  # noqa: ANN001
    settings, park, _ = demo
    (fault,) = faults_of(park, "bearing_overheat")
    # The last day before the failure: the residual stands well above its healthy noise.
    (during,) = query(
        settings,
        f"select max(gearbox_bearing_temp_residual_mean_24h) from {ML} "
        "where turbine_id = %s and hour_at >= %s and hour_at < %s",
        (fault.turbine_id, fault.end_utc - timedelta(days=1), fault.end_utc),
    )[0]
    # Everywhere else, away from the drift, the repair and a day after it (the 24 h mean).
    (healthy,) = query(
        settings,
        f"select max(abs(gearbox_bearing_temp_residual_mean_24h)) from {ML} "
        "where not (turbine_id = %s and hour_at >= %s and hour_at < %s)",
        (fault.turbine_id, fault.start_utc, facts.BEARING_REPAIR_END_UTC + timedelta(days=1)),
    )[0]
    assert during is not None and healthy is not None
    assert during > 8.0, during
    assert healthy < 3.0, healthy


def test_the_bearing_failure_carries_its_7_day_label_until_it_happens(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    failure = facts.BEARING_FAILURE_UTC
    labelled = query(
        settings,
        f"select turbine_id, hour_at from {ML} where will_fail_gearbox_bearing_7d order by hour_at",
    )
    first, last = failure - timedelta(days=7), failure - HOUR
    expected_hours = int((last - first) / HOUR) + 1
    assert labelled == [(facts.BEARING_TURBINE_ID, first + k * HOUR) for k in range(expected_hours)]
    rows = dict(
        query(
            settings,
            f"select hour_at, hours_to_failure_gearbox_bearing from {ML} "
            "where turbine_id = %s and hour_at in (%s, %s)",
            (facts.BEARING_TURBINE_ID, failure - timedelta(days=1), failure - timedelta(days=20)),
        )
    )
    assert rows == {failure - timedelta(days=1): 24.0, failure - timedelta(days=20): 480.0}


def test_the_repair_is_excluded_and_unlabelled(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    failure, repaired = facts.BEARING_FAILURE_UTC, facts.BEARING_REPAIR_END_UTC
    in_repair = query(
        settings,
        f"select hour_at from {ML} where turbine_id = %s and is_in_repair "
        "and hour_at >= %s and hour_at < %s order by hour_at",
        (facts.BEARING_TURBINE_ID, failure - timedelta(days=1), repaired + timedelta(days=1)),
    )
    assert [at for (at,) in in_repair] == [
        failure + k * HOUR for k in range(int((repaired - failure) / HOUR))
    ]
    after = query(
        settings,
        f"select count(*) filter (where will_fail_gearbox_bearing_7d or "
        f"will_fail_gearbox_bearing_30d), count(*) from {ML} "
        "where turbine_id = %s and hour_at >= %s",
        (facts.BEARING_TURBINE_ID, failure),
    )
    assert after[0][0] == 0 and after[0][1] > 0
    down = Counter(
        state
        for (state,) in query(
            settings,
            f"select operating_state from {FACT} "
            "where turbine_id = %s and measured_at >= %s and measured_at < %s",
            (facts.BEARING_TURBINE_ID, failure, repaired),
        )
    )
    assert set(down) == {"down"}, down


@pytest.mark.parametrize("flag", ["is_power_curve_outlier", "operating_state = 'curtailed'"])
def test_no_flag_fires_on_healthy_behaviour(demo, flag: str) -> None:  # noqa: ANN001
    """The demo injects no underperformance and no curtailment: a flag here is a false
    alarm of the QC thresholds on healthy data."""
    settings, _, _ = demo
    assert query(settings, f"select count(*) from {FACT} where {flag}") == [(0,)]
