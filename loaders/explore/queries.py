"""What the explorer asks the warehouse: one function per question, each returning a
DataFrame. Kept apart from the Streamlit page so that the benchmark times the same
queries the views run (scripts/bench/explore.py), and so that each reads only the marts.

The views read as the analyst role (core, ml, quality: no raw, no personal data); the
ingestion view reads the audit trail as the quality reader, the role made for it. Neither
can write. Every query is on an hourly or daily mart, or on the 10-minute fact through its
(turbine_id, measured_at) key, so that it answers in the same time on a fleet's year."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pandas as pd

from loaders import warehouse
from loaders.settings import Settings

ANALYST = "analyst"
QUALITY_READER = "quality_reader"
# Rows of the 10-minute fact a turbine view reads at most before it switches to hours:
# 10 days of periods; longer ranges are read from the hourly fact, years from days.
MAX_PERIOD_ROWS = 1440
MAX_HOUR_ROWS = 24 * 120


def read(
    settings: Settings, statement: str, params: tuple = (), role: str = ANALYST
) -> pd.DataFrame:
    """The statement's rows as a DataFrame, on a read-only connection of `role`."""
    connection = warehouse.connect(settings, role)
    try:
        connection.set_session(readonly=True)
        with connection.cursor() as cursor:
            cursor.execute(statement, params or None)
            columns = [column.name for column in cursor.description]
            return _floats_for_numerics(pd.DataFrame(cursor.fetchall(), columns=columns))
    finally:
        connection.close()


def _floats_for_numerics(frame: pd.DataFrame) -> pd.DataFrame:
    """PostgreSQL numeric arrives as Decimal, which Arrow ships as a scaled 128-bit integer
    that the charts' JavaScript cannot read as a number: make such columns floats."""
    for column in frame.columns:
        values = frame[column].dropna()
        if not values.empty and isinstance(values.iloc[0], Decimal):
            frame[column] = frame[column].astype(float)
    return frame


def turbines(settings: Settings) -> pd.DataFrame:
    return read(
        settings,
        "select turbine_id, turbine_name, site_code, turbine_model, rated_power_kw "
        "from core.dim_turbine order by turbine_id",
    )


def data_span(settings: Settings) -> tuple[date, date] | None:
    """First and last day of the hourly fact, the default range of every view."""
    frame = read(
        settings,
        "select min(hour_date) as first, max(hour_date) as last from core.fct_turbine_hourly",
    )
    if frame.empty or frame.iloc[0]["first"] is None:
        return None
    return frame.iloc[0]["first"], frame.iloc[0]["last"]


def fleet_days(settings: Settings, first: date, last: date) -> pd.DataFrame:
    """Per turbine and day: completeness, QC flags, production and operating-state shares
    (from the hourly fact), and availability where its mart exists."""
    return read(
        settings,
        """
        select
            hourly.turbine_id,
            hourly.hour_date as day,
            sum(hourly.measured_period_count)::float / nullif(sum(hourly.period_count), 0)
                as completeness,
            sum(hourly.flagged_period_count) as flagged_periods,
            sum(hourly.out_of_range_period_count) as out_of_range_periods,
            sum(hourly.frozen_period_count) as frozen_periods,
            sum(hourly.spike_period_count) as spike_periods,
            sum(hourly.power_curve_outlier_period_count) as power_curve_outliers,
            sum(hourly.measured_energy_kwh) as energy_kwh,
            sum(hourly.producing_minutes)::float / nullif(sum(hourly.period_count) * 10, 0)
                as share_producing,
            sum(hourly.down_minutes)::float / nullif(sum(hourly.period_count) * 10, 0)
                as share_down,
            sum(hourly.no_data_minutes)::float / nullif(sum(hourly.period_count) * 10, 0)
                as share_no_data,
            sum(hourly.idle_low_wind_minutes)::float / nullif(sum(hourly.period_count) * 10, 0)
                as share_idle_low_wind
        from core.fct_turbine_hourly as hourly
        where hourly.hour_date between %s and %s
        group by hourly.turbine_id, hourly.hour_date
        order by hourly.turbine_id, hourly.hour_date
        """,
        (first, last),
    )


def availability_days(settings: Settings, first: date, last: date) -> pd.DataFrame:
    """Time- and production-based availability per turbine and local day (IEC 61400-26);
    empty where the warehouse has no availability mart yet."""
    if not _exists(settings, "core.fct_turbine_availability_daily"):
        return pd.DataFrame()
    return read(
        settings,
        "select turbine_id, local_date as day, time_based_availability, "
        "production_based_availability, lost_energy_kwh, lost_energy_unavailable_kwh "
        "from core.fct_turbine_availability_daily where local_date between %s and %s "
        "order by turbine_id, local_date",
        (first, last),
    )


def availability_turbines(settings: Settings, first: date, last: date) -> pd.DataFrame:
    """Each turbine's availability over [first, last] (IEC 61400-26, docs/availability.md):
    time-based from the hours, production-based from the energy, and the energy lost by
    category; worst first. Empty where the warehouse has no availability mart yet."""
    if not _exists(settings, "core.fct_turbine_availability_daily"):
        return pd.DataFrame()
    return read(
        settings,
        """
        select
            turbine_id,
            sum(hours_available) / nullif(sum(hours_with_information), 0)
                as time_based_availability,
            sum(energy_produced_kwh)
                / nullif(sum(energy_produced_kwh) + sum(lost_energy_unavailable_kwh), 0)
                as production_based_availability,
            sum(energy_produced_kwh) as energy_produced_kwh,
            sum(lost_energy_kwh) as lost_energy_kwh,
            sum(lost_energy_forced_outage_kwh) as lost_forced_outage_kwh,
            sum(lost_energy_scheduled_maintenance_kwh) as lost_scheduled_maintenance_kwh,
            sum(lost_energy_curtailment_kwh) as lost_curtailment_kwh,
            sum(lost_energy_grid_kwh) as lost_grid_kwh
        from core.fct_turbine_availability_daily
        where local_date between %s and %s
        group by turbine_id
        order by time_based_availability nulls last, turbine_id
        """,
        (first, last),
    )


def signals(
    settings: Settings, turbine_id: str, first: datetime, last: datetime
) -> tuple[str, pd.DataFrame]:
    """A turbine's signals over [first, last): 10-minute periods for short ranges, hourly
    means beyond MAX_PERIOD_ROWS periods, daily means beyond MAX_HOUR_ROWS hours (the
    grain follows the zoom). Returns the grain and the rows."""
    hours = (last - first).total_seconds() / 3600
    if hours * 6 <= MAX_PERIOD_ROWS:
        return "10 min", read(
            settings,
            "select measured_at as at, wind_speed_avg as wind_speed, "
            "active_power_avg as active_power, "
            "rotor_speed_avg as rotor_speed, gearbox_oil_temp_avg as gearbox_oil_temp, "
            "gearbox_bearing_temp_avg as gearbox_bearing_temp, "
            "generator_stator_temp_avg as generator_stator_temp, nacelle_temp_avg as nacelle_temp, "
            "ambient_temp_avg as ambient_temp, operating_state, qc_flag_count "
            "from core.fct_turbine_measurements "
            "where turbine_id = %s and measured_at >= %s and measured_at < %s order by measured_at",
            (turbine_id, first, last),
        )
    columns = (
        "wind_speed_mean as wind_speed, active_power_mean as active_power, "
        "rotor_speed_mean as rotor_speed, gearbox_oil_temp_mean as gearbox_oil_temp, "
        "gearbox_bearing_temp_mean as gearbox_bearing_temp, "
        "generator_stator_temp_mean as generator_stator_temp, nacelle_temp_mean as nacelle_temp, "
        "ambient_temp_mean as ambient_temp"
    )
    if hours <= MAX_HOUR_ROWS:
        return "hour", read(
            settings,
            f"select hour_at as at, {columns}, flagged_period_count as qc_flag_count, "  # noqa: S608 - constant column list
            "case when down_minutes > 0 then 'down' when no_data_minutes >= 60 then 'no_data' "
            "when producing_minutes > 0 then 'producing' else 'idle_low_wind' end "
            "as operating_state "
            "from core.fct_turbine_hourly "
            "where turbine_id = %s and hour_at >= %s and hour_at < %s order by hour_at",
            (turbine_id, first, last),
        )
    means = ", ".join(
        f"avg({name}_mean) as {name}"
        for name in (
            "wind_speed",
            "active_power",
            "rotor_speed",
            "gearbox_oil_temp",
            "gearbox_bearing_temp",
            "generator_stator_temp",
            "nacelle_temp",
            "ambient_temp",
        )
    )
    return "day", read(
        settings,
        f"select hour_date::timestamptz as at, {means}, "  # noqa: S608 - constant column list
        "sum(flagged_period_count) as qc_flag_count, "
        "case when sum(down_minutes) > 0 then 'down' when sum(producing_minutes) > 0 "
        "then 'producing' else 'idle_low_wind' end as operating_state "
        "from core.fct_turbine_hourly "
        "where turbine_id = %s and hour_date >= %s::date and hour_date < %s::date "
        "group by hour_date order by hour_date",
        (turbine_id, first, last),
    )


def events(settings: Settings, turbine_id: str, first: datetime, last: datetime) -> pd.DataFrame:
    """Alarms and maintenance interventions of a turbine overlapping [first, last), as
    markers: kind, start, end, label. The mart keeps interventions to the hour (their
    exact times could single out a technician: docs/gdpr.md)."""
    return read(
        settings,
        """
        select 'alarm' as kind, started_at, ended_at,
               alarm_code::text || ' ' || alarm_description as label
        from core.fct_alarms
        where turbine_id = %s and started_at < %s and coalesce(ended_at, 'infinity') > %s
        union all
        select 'maintenance' as kind, started_hour_at as started_at,
               started_hour_at + coalesce(duration_hours, 0) * interval '1 hour' as ended_at,
               intervention_type || ' · ' || coalesce(component, '') as label
        from core.fct_maintenance_events
        where turbine_id = %s and started_hour_at < %s
          and started_hour_at + coalesce(duration_hours, 0) * interval '1 hour' > %s
        order by started_at
        """,
        (turbine_id, last, first, turbine_id, last, first),
    )


def failure_labels(
    settings: Settings, turbine_id: str, first: datetime, last: datetime
) -> pd.DataFrame:
    """The ML mart's labels of a turbine by hour: any failure within 7 and 30 days, repair."""
    return read(
        settings,
        "select hour_at as at, will_fail_any_7d, will_fail_any_30d, is_in_repair "
        "from ml.ml_turbine_hourly_features "
        "where turbine_id = %s and hour_at >= %s and hour_at < %s order by hour_at",
        (turbine_id, first, last),
    )


def power_curve(
    settings: Settings, turbine_id: str, first: datetime, last: datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(periods, model curve): the turbine's 10-minute (wind, power) pairs with their QC
    state, at most 20,000 evenly spread periods, and its model's power curve (the curve
    the fact's expected power was read from, sampled at the periods' wind speeds)."""
    periods = read(
        settings,
        """
        select wind_speed_avg as wind_speed, active_power_avg as active_power,
               case when qc_flag_count > 0 then 'flagged' else 'valid' end as qc
        from core.fct_turbine_measurements
        where turbine_id = %s and measured_at >= %s and measured_at < %s
          and wind_speed_avg is not null and active_power_avg is not null
        order by measured_at
        """,
        (turbine_id, first, last),
    )
    if len(periods) > 20_000:
        periods = periods.iloc[:: len(periods) // 20_000 + 1]
    curve = read(
        settings,
        """
        select round(wind_speed_avg::numeric * 2) / 2 as wind_speed,
               avg(expected_power_kw) as expected_power
        from core.fct_turbine_measurements
        where turbine_id = %s and measured_at >= %s and measured_at < %s
          and expected_power_kw is not null
        group by 1 order by 1
        """,
        (turbine_id, first, last),
    )
    return periods, curve


def ml_features(
    settings: Settings, turbine_id: str, first: datetime, last: datetime
) -> pd.DataFrame:
    return read(
        settings,
        "select * from ml.ml_turbine_hourly_features "
        "where turbine_id = %s and hour_at >= %s and hour_at < %s order by hour_at",
        (turbine_id, first, last),
    )


def runs(settings: Settings, limit: int = 50) -> pd.DataFrame:
    """The recent runs of the audit trail (read as the quality reader): status, period,
    duration, rows landed and rejected per source, errors, the quality page."""
    return read(
        settings,
        """
        select run_id, status, started_at, ended_at,
               extract(epoch from ended_at - started_at) as duration_s,
               date_from, date_to, dbt_status, rows_by_source, errors, report_path
        from audit.pipeline_runs
        order by started_at desc
        limit %s
        """,
        (limit,),
        role=QUALITY_READER,
    )


def source_rows(settings: Settings) -> pd.DataFrame:
    """Rows landed and rejected per raw table (quality mart)."""
    return read(settings, "select * from quality.quality_source_rows order by raw_table")


def _exists(settings: Settings, table: str) -> bool:
    frame = read(settings, "select to_regclass(%s) is not null as present", (table,))
    return bool(frame.iloc[0]["present"])
