{#-
    Completeness of each critical signal per turbine over the turbine's loaded span
    (the 10-minute grid): expected periods, periods present, values present, values
    flagged by QC, as counts and percentages of the expected periods.
-#}
with

daily as (

    select * from {{ ref('int_signal_days_counted') }}

),

frozen_checked as (

    select signal from (
        values
        {%- for signal in frozen_checked_signals() %}
        ('{{ signal.signal }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as frozen_checked_signals (signal)

),

counted as (

    select
        turbine_id,
        signal,
        sum(expected_periods) as expected_periods,
        sum(present_periods) as present_periods,
        sum(non_null_count) as non_null_count,
        sum(flagged_count) as flagged_count,
        sum(valid_count) as valid_count,
        min(first_period_at) as first_period_at,
        max(last_period_at) as last_period_at
    from daily
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
        on counted.signal = frozen_checked.signal

)

select * from final
