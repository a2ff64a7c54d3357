{#-
    QC flags raised per turbine, UTC day, flag type and signal (the row-level gap,
    conflicting-duplicate and power-curve flags under signal 'row'), kept incrementally
    (delete+insert by measured_date over the reprocess window), so that
    quality_qc_flag_counts sums days instead of rescanning the whole grid every run.
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

flag_values as (

    select
        flagged.turbine_id,
        flagged.measured_date,
        flagged.dlt_load_id,
        flags.flag_type,
        flags.signal,
        flags.is_flagged
    from flagged
    cross join lateral (
        values
        ('gap', 'row', flagged.is_gap),
        ('conflicting_duplicate', 'row', flagged.has_conflicting_duplicates),
        ('power_curve_outlier', 'row', flagged.is_power_curve_outlier),
        {%- for flag_type in qc_signal_flag_types() %}
        {%- set outer_last = loop.last %}
        {%- for signal in measurement_signals() %}
        (
            '{{ flag_type }}',
            '{{ signal.signal }}',
            flagged.is_{{ flag_type }}_{{ signal.signal }}
        ){{ ',' if not (outer_last and loop.last) }}
        {%- endfor %}
        {%- endfor %}
    ) as flags (flag_type, signal, is_flagged)

),

counted as (

    select
        -- keys
        turbine_id,
        measured_date,
        flag_type,
        signal,

        -- measures
        count(*) as period_count,
        count(*) filter (where is_flagged) as flagged_count,

        -- metadata
        max(dlt_load_id) as dlt_load_id

    from flag_values
    group by turbine_id, measured_date, flag_type, signal

)

select * from counted
