{#-
    One row per turbine per 10-minute period over each turbine's loaded span, gaps
    included (is_gap), with the QC flags. Incremental: a run rebuilds the days from
    var('reprocess_days') before the newest loaded day, plus any older day that a newer
    dlt load rewrote (a reloaded day), replacing their rows (delete+insert).
-#}
{{
    config(
        materialized='incremental',
        unique_key=['turbine_id', 'measured_at'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

with

flagged as (

    select * from {{ ref('int_measurements_flagged') }}

),

{% if is_incremental() %}
reprocessed_dates as (

    select measured_date
    from flagged
    where
        measured_date >= (
            select max(newest.measured_date) - {{ var('reprocess_days', 3) }}
            from flagged as newest
        )
        or dlt_load_id::numeric > (
            select coalesce(max(loaded.dlt_load_id::numeric), 0)
            from {{ this }} as loaded
        )
    group by measured_date

),

measurements as (

    select flagged.*
    from flagged
    inner join reprocessed_dates
        on flagged.measured_date = reprocessed_dates.measured_date

),
{% else %}
measurements as (

    select * from flagged

),
{% endif %}

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
