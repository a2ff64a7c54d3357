{#-
    One row per turbine per 10-minute period over each turbine's loaded span, gaps
    included (is_gap), with the QC flags and the operating state. Incremental: a run rebuilds the days from
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

states as (

    select * from {{ ref('int_turbine_states_classified') }}

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

    select
        flagged.*,
        states.operating_state
    from flagged
    inner join reprocessed_dates
        on flagged.measured_date = reprocessed_dates.measured_date
    inner join states
        on
            flagged.turbine_id = states.turbine_id
            and flagged.measured_at = states.measured_at

),
{% else %}
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
