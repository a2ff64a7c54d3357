{#-
    One row per turbine and 10-minute period. Source rows repeating the same period are
    collapsed: identical copies silently, conflicting ones (same period, different
    values) keep the row written last in the source (highest source_row_id) and are
    flagged has_conflicting_duplicates. Only the turbines of int_turbines_registered:
    the rows of any other are held aside (quality_held_aside) until the configuration
    knows it; the reprocess window then reaches back to its first day (macro
    reprocess_from_date).
    Incremental (delete+insert by measured_date): a run rewrites the reprocess window
    (macro reprocess_from_date) from the staged rows of those days only.
-#}
{#- runs after int_measurement_conflicts_set_aside, whose window reads this model's
    newest load id before this run moves it on -#}
-- depends_on: {{ ref('int_measurement_conflicts_set_aside') }}
{%- set first_date = reprocess_from_date(this) %}

with

measurements as (

    select * from {{ ref('stg_scada__measurements') }}
    where
        {{ in_write_window(first_date) }}
        -- a turbine the configuration does not know is held aside (quality_held_aside)
        and {{ is_turbine_registered('turbine_id') }}

),

fingerprinted as (

    select
        *,
        {{ signal_fingerprint() }} as signal_fingerprint
    from measurements

),

periods as (

    select
        turbine_id,
        measured_at,
        count(*) as source_row_count,
        count(distinct signal_fingerprint) as distinct_version_count
    from fingerprinted
    group by turbine_id, measured_at

),

ranked as (

    select
        *,
        row_number() over (
            partition by turbine_id, measured_at
            order by {{ kept_version_first() }}
        ) as row_rank
    from fingerprinted

),

deduplicated as (

    select
        -- keys
        ranked.turbine_id,
        ranked.measured_at,
        (ranked.measured_at at time zone 'UTC')::date as measured_date,

        -- measures
        {%- for column in signal_statistic_columns() %}
        ranked.{{ column }},
        {%- endfor %}

        -- duplicate detection
        periods.source_row_count,
        periods.source_row_count > 1 as has_duplicates,
        periods.distinct_version_count > 1 as has_conflicting_duplicates,

        -- metadata: origin of the kept row
        ranked.source_row_id,
        ranked.source_table,
        ranked.dlt_load_id

    from ranked
    inner join periods
        on
            ranked.turbine_id = periods.turbine_id
            and ranked.measured_at = periods.measured_at
    where ranked.row_rank = 1

)

select * from deduplicated
