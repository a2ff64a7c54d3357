{#-
    Grain: one row per turbine per UTC hour of its 10-minute grid. Hourly aggregates of
    fct_turbine_measurements (int_turbine_hours_aggregated): coverage, signal statistics
    over usable values, energy, minutes per operating state and periods per QC flag type.
    Incremental (delete+insert by hour_date) over the reprocess window, indexed on the
    keys analysts filter by.
-#}
{%- set first_date = reprocess_from_date(this, with_events=true) %}
{{
    config(
        materialized='incremental',
        unique_key='hour_date',
        meta={'recent_tests_where': 'hour_date >= {window_from}'},
        indexes=[
            {'columns': ['turbine_id', 'hour_at'], 'unique': True},
            {'columns': ['hour_date']},
            {'columns': ['date_key']},
            {'columns': ['turbine_key', 'hour_date']},
            {'columns': ['dlt_load_id']},
        ]
    )
}}
{%- set signals = measurement_signals() %}

with

hours as (

    select * from {{ ref('int_turbine_hours_aggregated') }}
    where {{ in_write_window(first_date, 'hour_date') }}

),

final as (

    select
        -- keys
        md5(turbine_id || '|' || to_char(hour_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24'))
            as turbine_hour_key,
        md5(turbine_id) as turbine_key,
        to_char(hour_date, 'YYYYMMDD')::integer as date_key,
        turbine_id,
        hour_at,
        hour_date,

        -- coverage
        period_count::integer as period_count,
        measured_period_count::integer as measured_period_count,
        valid_period_count::integer as valid_period_count,

        -- signal statistics over usable values: mean, lowest, highest, spread
        {%- for signal in signals %}
        {{ signal.signal }}_mean,
        {{ signal.signal }}_min,
        {{ signal.signal }}_max,
        {{ signal.signal }}_std,
        {%- endfor %}

        -- energy
        measured_energy_kwh,
        expected_energy_kwh,

        -- minutes per operating state
        {%- for state in operating_states() %}
        10 * {{ state }}_period_count::integer as {{ state }}_minutes,
        {%- endfor %}

        -- periods per QC flag type
        {%- for flag_type in qc_signal_flag_types() %}
        {{ flag_type }}_period_count::integer as {{ flag_type }}_period_count,
        {%- endfor %}
        power_curve_outlier_period_count::integer as power_curve_outlier_period_count,
        conflicting_duplicate_period_count::integer as conflicting_duplicate_period_count,
        flagged_period_count::integer as flagged_period_count,

        -- metadata
        dlt_load_id

    from hours

)

select * from final
