{#-
    One row per turbine per 10-minute period over each turbine's loaded span, gaps
    included (is_gap), with the QC flags and the operating state. Incremental
    (delete+insert by measured_date): a run rewrites the reprocess window (macro
    reprocess_from_date): the days from var('reprocess_days') before the newest loaded
    day, plus any older day that a newer dlt load rewrote (a reloaded day) or that a late
    alarm, intervention or weather value covers. Indexed on the keys analysts filter by
    (the primary key of the contract gives (turbine_id, measured_at)).
-#}
{%- set first_date = reprocess_from_date(this, with_events=true) %}
{{
    config(
        materialized='incremental',
        unique_key='measured_date',
        meta={'recent_tests_where': 'measured_date >= {window_from}'},
        indexes=[
            {'columns': ['measured_date']},
            {'columns': ['date_key']},
            {'columns': ['turbine_key', 'measured_date']},
            {'columns': ['dlt_load_id']},
        ]
    )
}}

with

flagged as (

    select * from {{ ref('int_measurements_flagged') }}
    where {{ in_write_window(first_date) }}

),

states as (

    select * from {{ ref('int_turbine_states_classified') }}
    where {{ in_write_window(first_date) }}

),

measurements as (

    select
        flagged.*,
        states.operating_state
    from flagged
    inner join states
        on
            flagged.turbine_id = states.turbine_id
            and flagged.measured_at = states.measured_at

),

final as (

    select
        -- keys
        md5(turbine_id) as turbine_key,
        to_char(measured_date, 'YYYYMMDD')::integer as date_key,
        turbine_id,
        measured_at,
        measured_date,

        -- measures
        {%- for column in signal_statistic_columns() %}
        {{ column }},
        {%- endfor %}
        expected_power_kw,

        -- operating state
        operating_state,

        -- gaps and duplicates
        is_gap,
        source_row_count,
        has_duplicates,
        has_conflicting_duplicates,

        -- QC flags
        {%- for flag_type in qc_signal_flag_types() %}
        {%- for signal in measurement_signals() %}
        is_{{ flag_type }}_{{ signal.signal }},
        {%- endfor %}
        {%- endfor %}
        is_power_curve_outlier,
        qc_flag_count,
        is_valid,

        -- metadata
        source_row_id,
        dlt_load_id

    from measurements

)

select * from final
