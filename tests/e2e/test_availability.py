"""Availability and lost production (IEC 61400-26) on the demo month: the story the
simulator tells (docs/architecture.md, "The demo park") is what the availability marts
count. The bearing failure of MTC-T02 and the pitch fault of MTC-T03 are forced outages
with their lost energy, the preventive interventions are scheduled maintenance, the grid
loss is out of electrical specification for every turbine; every period has one category,
and the roll-ups add up. The hand-made cases of each rule and estimate are dbt unit tests
(dbt_project/models/intermediate/availability/_availability__unit_tests.yml)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from warehouse_sql import query, scalar

from loaders.demo_park import _schedule, park
from loaders.settings import Settings

PERIODS = "intermediate.int_turbine_periods_categorised"
DAILY = "core.fct_turbine_availability_daily"


def categories_between(
    settings: Settings, turbine_id: str, start: datetime, end: datetime
) -> Counter[str]:
    rows = query(
        settings,
        f"select availability_category from {PERIODS} "
        "where turbine_id = %s and measured_at >= %s and measured_at < %s",
        (turbine_id, start, end),
    )
    return Counter(category for (category,) in rows)


def lost_between(settings: Settings, turbine_id: str, start: datetime, end: datetime) -> float:
    return float(
        scalar(
            settings,
            f"select coalesce(sum(lost_energy_kwh), 0) from {PERIODS} "
            "where turbine_id = %s and measured_at >= %s and measured_at < %s",
            (turbine_id, start, end),
        )
    )


def test_every_period_has_exactly_one_category(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    periods = scalar(settings, f"select count(*) from {PERIODS}")
    grid = scalar(settings, "select count(*) from core.fct_turbine_measurements")
    assert periods == grid > 0
    assert (
        scalar(settings, f"select count(*) from {PERIODS} where availability_category is null") == 0
    )


def test_the_bearing_failure_is_a_forced_outage_with_its_lost_energy(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    found = categories_between(
        settings, park.BEARING_TURBINE_ID, park.BEARING_FAILURE_UTC, park.BEARING_REPAIR_END_UTC
    )
    total = sum(found.values())
    assert total > 0
    # the stop itself: forced outage, but for the odd period without a source row
    assert found["forced_outage"] >= 0.95 * total, found
    lost = lost_between(
        settings, park.BEARING_TURBINE_ID, park.BEARING_FAILURE_UTC, park.BEARING_REPAIR_END_UTC
    )
    # 53 hours stopped in an October wind: tens of MWh (the curve's energy at the wind)
    assert 10_000 < lost < 53 * park.RATED_POWER_KW, lost


def test_the_pitch_fault_is_a_forced_outage(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    repaired = next(i for i in _schedule.INTERVENTIONS if i.intervention_id == "INT-2025-104")
    found = categories_between(settings, "MTC-T03", _schedule.PITCH_FAULT_UTC, repaired.end_utc)
    assert found["forced_outage"] >= 0.95 * sum(found.values()) > 0, found
    assert lost_between(settings, "MTC-T03", _schedule.PITCH_FAULT_UTC, repaired.end_utc) > 0


def test_preventive_interventions_are_scheduled_maintenance(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    preventive = [i for i in _schedule.INTERVENTIONS if i.intervention_type == _schedule.PREVENTIVE]
    assert preventive
    for intervention in preventive:
        found = categories_between(
            settings, intervention.turbine_id, intervention.start_utc, intervention.end_utc
        )
        assert found["scheduled_maintenance"] >= 0.95 * sum(found.values()) > 0, (
            intervention.intervention_id,
            found,
        )


def test_the_grid_loss_is_out_of_electrical_specification_everywhere(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    rows = query(
        settings,
        f"select turbine_id, availability_category from {PERIODS} where measured_at = %s",
        (_schedule.GRID_LOSS_UTC,),
    )
    assert sorted(rows) == [(t, "out_of_electrical_specification") for t in park.TURBINE_IDS]


def test_availability_is_a_share_and_the_failing_turbine_has_the_lowest(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    monthly = dict(
        query(
            settings,
            "select turbine_id, time_based_availability from core.fct_turbine_availability_monthly "
            "where month_start_date = '2025-10-01'",
        )
    )
    assert set(monthly) == set(park.TURBINE_IDS)
    assert all(0.8 < value <= 1 for value in monthly.values()), monthly
    assert min(monthly, key=monthly.get) == park.BEARING_TURBINE_ID
    production = scalar(
        settings,
        "select production_based_availability from core.fct_turbine_availability_monthly "
        "where turbine_id = %s and month_start_date = '2025-10-01'",
        (park.BEARING_TURBINE_ID,),
    )
    assert 0.8 < production < 1


@pytest.mark.parametrize(
    ("rollup", "keys"),
    [
        ("core.fct_park_availability_daily", "site_code, local_date"),
        ("core.fct_turbine_availability_monthly", "turbine_id, date_trunc('month', local_date)"),
    ],
)
def test_the_rollups_add_up(demo, rollup: str, keys: str) -> None:  # noqa: ANN001
    settings, _, _ = demo
    daily = scalar(settings, f"select round(sum(energy_produced_kwh)::numeric, 3) from {DAILY}")
    rolled = scalar(settings, f"select round(sum(energy_produced_kwh)::numeric, 3) from {rollup}")
    assert daily == rolled > 0
    hours = scalar(settings, f"select round(sum(hours_unavailable)::numeric, 3) from {DAILY}")
    assert hours == scalar(
        settings, f"select round(sum(hours_unavailable)::numeric, 3) from {rollup}"
    )


def test_the_analyst_reads_availability(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    assert scalar(settings, f"select count(*) from {DAILY}", role="analyst") > 0
