{#- scripts/bench overlay: completeness counts per turbine, signal and day, kept
    incrementally, so that quality_completeness sums days instead of rescanning the
    whole grid every run. -#}
{%- set first_date = reprocess_from_date(this) %}
{{
    config(
        materialized='incremental',
        unique_key='measured_date',
        incremental_strategy='delete+insert',
        incremental_predicates=[
            "DBT_INTERNAL_DEST.measured_date >= '" ~ (first_date or '1900-01-01') ~ "'::date"
        ],
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
            flagged.is_out_of_range_{{ signal.signal }}
            {%- if signal.is_temperature %}
            or flagged.is_frozen_{{ signal.signal }}
            {%- endif %}
        ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as signals (signal, signal_value, is_flagged)

),

counted as (

    select
        turbine_id,
        measured_date,
        signal,
        count(*) as expected_periods,
        count(*) filter (where not is_gap) as present_periods,
        count(signal_value) as non_null_count,
        count(*) filter (where is_flagged) as flagged_count,
        count(*) filter (where signal_value is not null and not is_flagged) as valid_count,
        min(measured_at) as first_period_at,
        max(measured_at) as last_period_at,
        max(dlt_load_id) as dlt_load_id
    from signal_values
    group by turbine_id, measured_date, signal

)

select * from counted
