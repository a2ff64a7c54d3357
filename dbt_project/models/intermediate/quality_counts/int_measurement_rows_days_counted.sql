{#-
    The raw SCADA measurement rows per UTC day and dlt load, kept incrementally
    (delete+insert by measured_date over the reprocess window), so that
    quality_source_rows sums days instead of counting the whole raw table every run.
-#}
{%- set first_date = reprocess_from_date(this) %}

with

measurements as (

    select * from {{ ref('stg_scada__measurements') }}
    where {{ in_write_window(first_date) }}

),

counted as (

    select
        -- keys
        measured_date,
        dlt_load_id,

        -- measures
        count(*) as row_count

    from measurements
    group by measured_date, dlt_load_id

)

select * from counted
