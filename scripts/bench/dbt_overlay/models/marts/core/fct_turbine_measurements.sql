{#-
    One row per turbine per 10-minute period over each turbine's loaded span, gaps
    included (is_gap), with the QC flags. Incremental: a run rebuilds the days from
    var('reprocess_days') before the newest loaded day, plus any older day that a newer
    dlt load rewrote (a reloaded day), replacing their rows (delete+insert).
-#}
{%- set first_date = reprocess_from_date(this) %}
{{
    config(
        materialized='incremental',
        unique_key='measured_date',
        incremental_strategy='delete+insert',
        incremental_predicates=[
            "DBT_INTERNAL_DEST.measured_date >= '" ~ (first_date or '1900-01-01') ~ "'::date"
        ],
        indexes=[
            {'columns': ['turbine_id', 'measured_at'], 'unique': True},
            {'columns': ['measured_date']},
            {'columns': ['date_key']},
            {'columns': ['dlt_load_id']},
        ],
        on_schema_change='append_new_columns',
        post_hook=['analyze {{ this }}']
    )
}}
{#- scripts/bench overlay: the reprocess window replaces the scans of reprocessed_dates;
    indexes on the keys the analysts filter by. -#}

with

flagged as (

    select * from {{ ref('int_measurements_flagged') }}

),

measurements as (

    select * from flagged
    where {{ in_write_window(first_date) }}

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
        {%- for signal in measurement_signals() %}
        {{ signal.column }},
        {%- endfor %}

        -- gaps and duplicates
        is_gap,
        source_row_count,
        has_duplicates,
        has_conflicting_duplicates,

        -- QC flags
        {%- for signal in measurement_signals() %}
        is_out_of_range_{{ signal.signal }},
        {%- endfor %}
        {%- for signal in frozen_checked_signals() %}
        is_frozen_{{ signal.signal }},
        {%- endfor %}
        qc_flag_count,
        is_valid,

        -- metadata
        source_row_id,
        dlt_load_id

    from measurements

)

select * from final
