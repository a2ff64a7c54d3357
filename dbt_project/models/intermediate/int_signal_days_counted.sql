{#-
    Completeness counts per turbine, critical signal and UTC day of the 10-minute grid,
    kept incrementally (delete+insert by measured_date over the reprocess window), so
    that quality_completeness sums days instead of rescanning the whole grid every run.
-#}
{%- set first_date = reprocess_from_date(this) %}
{{
    config(
        materialized='incremental',
        unique_key='measured_date',
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['measured_date']}, {'columns': ['dlt_load_id']}],
        on_schema_change='append_new_columns',
        post_hook=['analyze {{ this }}']
    )
}}

with

flagged as (

    select * from {{ ref('int_measurements_flagged') }}
    where {{ in_write_window(first_date) }}

),

signal_values as (

    select
        flagged.turbine_id,
        flagged.measured_at,
        flagged.measured_date,
        flagged.dlt_load_id,
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
        -- keys
        turbine_id,
        measured_date,
        signal,

        -- measures
        count(*) as expected_periods,
        count(*) filter (where not is_gap) as present_periods,
        count(signal_value) as non_null_count,
        count(*) filter (where is_flagged) as flagged_count,
        count(*) filter (where signal_value is not null and not is_flagged) as valid_count,

        -- attributes
        min(measured_at) as first_period_at,
        max(measured_at) as last_period_at,

        -- metadata
        max(dlt_load_id) as dlt_load_id

    from signal_values
    group by turbine_id, measured_date, signal

)

select * from counted
