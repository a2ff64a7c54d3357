{#-
    The raw SCADA measurement rows per UTC day, dlt load and turbine, kept incrementally
    (delete+insert by measured_date over the reprocess window), so that
    quality_source_rows sums days instead of counting the whole raw table every run, and
    quality_held_aside finds the rows of turbines the configuration does not know (and
    reprocess_from_date the first day of a turbine it has just learnt) the same way.
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
        turbine_id,

        -- measures
        count(*) as row_count

    from measurements
    group by measured_date, dlt_load_id, turbine_id

)

select * from counted
