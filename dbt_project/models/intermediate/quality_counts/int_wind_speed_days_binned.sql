{#-
    The 10-minute mean wind speeds per UTC day in quality_wind_speed_distribution's bins
    (1 m/s from 0 to 30 m/s, one bin below 0, one open bin from 30 m/s; gaps and null
    values not counted), kept incrementally (delete+insert by measured_date over the
    reprocess window), so that the distribution sums days instead of rescanning the grid.
-#}
{%- set first_date = reprocess_from_date(this) %}

with

flagged as (

    select * from {{ ref('int_measurements_flagged') }}
    where {{ in_write_window(first_date) }}

),

binned as (

    select
        case
            when wind_speed_avg < 0 then -1
            when wind_speed_avg >= 30 then 30
            else floor(wind_speed_avg)::integer
        end as bin_index,
        measured_date,
        dlt_load_id,
        is_valid,
        is_out_of_range_wind_speed
    from flagged
    where wind_speed_avg is not null

),

counted as (

    select
        -- keys
        measured_date,
        bin_index,

        -- measures
        count(*) as row_count,
        count(*) filter (where not is_valid) as flagged_row_count,
        count(*) filter (where is_out_of_range_wind_speed) as out_of_range_row_count,

        -- metadata
        max(dlt_load_id) as dlt_load_id

    from binned
    group by measured_date, bin_index

)

select * from counted
