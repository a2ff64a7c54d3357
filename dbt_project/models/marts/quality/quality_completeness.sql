{#-
    Completeness of each critical signal per turbine over the turbine's loaded span
    (the 10-minute grid): expected periods, periods present, values present, values
    flagged by QC, as counts and percentages of the expected periods.
-#}
with

flagged as (

    select * from {{ ref('int_measurements_flagged') }}

),

turbines as (

    select * from {{ ref('stg_scada__turbines') }}

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

signal_values as (

    select
        flagged.turbine_id,
        flagged.measured_at,
        flagged.is_gap,
        signals.signal,
        signals.signal_value,
        signals.is_flagged
    from flagged
    cross join lateral (
        values
        {%- for signal in critical_signals() %}
        (
            '{{ signal.signal }}',
            flagged.{{ signal.column }},
            {%- for flag_type in qc_signal_flag_types() %}
            {{ 'or ' if not loop.first }}flagged.is_{{ flag_type }}_{{ signal.signal }}
            {%- endfor %}
        ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as signals (signal, signal_value, is_flagged)

),

counted as (

    select
        turbine_id,
        signal,
        count(*) as expected_periods,
        count(*) filter (where not is_gap) as present_periods,
        count(signal_value) as non_null_count,
        count(*) filter (where is_flagged) as flagged_count,
        count(*) filter (where signal_value is not null and not is_flagged) as valid_count,
        min(measured_at) as first_period_at,
        max(measured_at) as last_period_at
    from signal_values
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
