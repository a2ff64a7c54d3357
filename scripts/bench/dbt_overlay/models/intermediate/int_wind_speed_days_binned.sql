{#- scripts/bench overlay: wind-speed bin counts per day, kept incrementally. -#}
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
    where wind_speed_avg is not null and {{ in_write_window(first_date) }}

),

counted as (

    select
        measured_date,
        bin_index,
        count(*) as row_count,
        count(*) filter (where not is_valid) as flagged_row_count,
        count(*) filter (where is_out_of_range_wind_speed) as out_of_range_row_count,
        max(dlt_load_id) as dlt_load_id
    from binned
    group by measured_date, bin_index

)

select * from counted
