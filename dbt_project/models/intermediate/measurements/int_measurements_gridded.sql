{#-
    The complete 10-minute grid of each turbine over its loaded span: every period from
    00:00 UTC of the turbine's first loaded day to 23:50 UTC of its last (144 periods a
    day), with the measurement when there is one and is_gap when there is none.
    Incremental (delete+insert by measured_date): a run rewrites the reprocess window; a
    turbine that already has earlier days gets its grid from the window's first day.
-#}
{%- set first_date = reprocess_from_date(this) %}

with

measurements as (

    select * from {{ ref('int_measurements_deduplicated') }}
    where {{ in_write_window(first_date) }}

),

window_spans as (

    select
        turbine_id,
        min(measured_date) as first_date,
        max(measured_date) as last_date
    from measurements
    group by turbine_id

),

turbine_spans as (

    select
        window_spans.turbine_id,
        {%- if first_date is not none %}
        case
            when exists (
                select 1 from {{ this }} as earlier
                where
                    earlier.turbine_id = window_spans.turbine_id
                    and earlier.measured_at < '{{ first_date }}'::timestamp at time zone 'UTC'
            ) then '{{ first_date }}'::date
            else window_spans.first_date
        end as first_date,
        {%- else %}
        window_spans.first_date,
        {%- endif %}
        window_spans.last_date
    from window_spans

),

grid as (

    select
        turbine_spans.turbine_id,
        periods.measured_at
    from turbine_spans
    cross join lateral generate_series(
        turbine_spans.first_date::timestamp at time zone 'UTC',
        (turbine_spans.last_date + 1)::timestamp at time zone 'UTC' - interval '10 minutes',
        interval '10 minutes'
    ) as periods (measured_at)

),

gridded as (

    select
        -- keys
        grid.turbine_id,
        grid.measured_at,
        (grid.measured_at at time zone 'UTC')::date as measured_date,

        -- measures
        {%- for column in signal_statistic_columns() %}
        measurements.{{ column }},
        {%- endfor %}

        -- gap and duplicate detection
        measurements.turbine_id is null as is_gap,
        coalesce(measurements.source_row_count, 0) as source_row_count,
        coalesce(measurements.has_duplicates, false) as has_duplicates,
        coalesce(measurements.has_conflicting_duplicates, false) as has_conflicting_duplicates,

        -- metadata: origin of the measurement
        measurements.source_row_id,
        measurements.source_table,
        measurements.dlt_load_id

    from grid
    left join measurements
        on
            grid.turbine_id = measurements.turbine_id
            and grid.measured_at = measurements.measured_at

)

select * from gridded
