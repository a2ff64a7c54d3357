{#-
    Completeness of each critical signal per turbine over the turbine's loaded span
    (the 10-minute grid): expected periods, periods present, values present, values
    flagged by QC, as counts and percentages of the expected periods. Sums the daily
    counts of int_signal_days_counted (kept incrementally) instead of the grid.
-#}
with

signal_days as (

    select * from {{ ref('int_signal_days_counted') }}

),

turbines as (

    select * from {{ ref('int_turbines_registered') }}

),

sensor_bounds as (

    select * from {{ ref('sensor_bounds') }}

),

-- Signals whose frozen check is switched on (a threshold in sensor_bounds) for the
-- turbine's model.
frozen_checked as (

    select
        turbines.turbine_id,
        sensor_bounds.signal
    from turbines
    inner join sensor_bounds
        on turbines.turbine_model = sensor_bounds.model
    where sensor_bounds.frozen_min_minutes is not null

),

counted as (

    select
        turbine_id,
        signal,
        sum(expected_periods)::bigint as expected_periods,
        sum(present_periods)::bigint as present_periods,
        sum(non_null_count)::bigint as non_null_count,
        sum(flagged_count)::bigint as flagged_count,
        sum(valid_count)::bigint as valid_count,
        min(first_period_at) as first_period_at,
        max(last_period_at) as last_period_at
    from signal_days
    group by turbine_id, signal

),

final as (

    select
        -- keys
        md5(counted.turbine_id) as turbine_key,
        counted.turbine_id,
        counted.signal,

        -- measures
        counted.expected_periods,
        counted.present_periods,
        counted.non_null_count,
        counted.flagged_count,
        counted.valid_count,
        round(100.0 * counted.present_periods / counted.expected_periods, 2) as pct_present,
        round(100.0 * counted.non_null_count / counted.expected_periods, 2) as pct_non_null,
        round(100.0 * counted.valid_count / counted.expected_periods, 2) as pct_valid,

        -- attributes
        frozen_checked.signal is not null as is_frozen_checked,
        counted.first_period_at,
        counted.last_period_at

    from counted
    left join frozen_checked
        on
            counted.turbine_id = frozen_checked.turbine_id
            and counted.signal = frozen_checked.signal

)

select * from final
