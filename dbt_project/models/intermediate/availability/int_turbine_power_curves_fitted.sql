{#-
    Each turbine's own power curve, fitted on its valid periods (IEC 61400-12-1 binning:
    0.5 m/s bins centred on multiples of 0.5 m/s of the density-normalised wind speed,
    mean power per bin): the second estimate of expected power, for a turbine whose real
    curve differs from its model's sheet. Fitted on the periods in full performance of
    the fit_days (var availability_curve_fit_days, default 90) up to the newest measured
    day, so that a daily build reads a window of constant size whatever the history (the
    first day a literal, read through the day index: with the newest day found in SQL,
    PostgreSQL read the whole history twice); a bin needs availability_curve_min_periods
    periods (default 3) to count.
-#}
{%- set first_date = newest_days_first_date(
    ref('int_turbine_periods_categorised'), var('availability_curve_fit_days', 90)
) %}
{{
    config(
        materialized='table',
        unique_key=none,
        indexes=[{'columns': ['turbine_id', 'wind_bin_ms'], 'unique': True}],
        meta={'recent_tests_where': ''}
    )
}}

with

periods as (

    select * from {{ ref('int_turbine_periods_categorised') }}
    where measured_date >= {{ first_date }}

),

valid as (

    select
        periods.turbine_id,
        round(periods.normalised_wind_speed_ms * 2) / 2 as wind_bin_ms,
        periods.actual_power_kw
    from periods
    where
        periods.availability_category = 'full_performance'
        and periods.actual_power_kw is not null
        and periods.normalised_wind_speed_ms is not null

),

fitted as (

    select
        -- keys
        turbine_id,
        wind_bin_ms,

        -- measures
        avg(actual_power_kw) as fitted_power_kw,
        count(*) as periods_in_bin
    from valid
    group by turbine_id, wind_bin_ms
    having count(*) >= {{ var('availability_curve_min_periods', 3) }}

)

select * from fitted
