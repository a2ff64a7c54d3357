{#-
    fct_turbine_availability_daily rolled up to the park (site) and calendar month of
    local time (macro availability_rollup).
-#}
{{ config(materialized='table') }}

with

daily as (

    select * from {{ ref('fct_turbine_availability_daily') }}

),

park_monthly as (

    select
        -- keys
        site_code,
        date_trunc('month', local_date)::date as month_start_date,

        -- measures
        count(distinct turbine_id)::integer as turbines,
        count(*)::integer as turbine_days,
        {{ availability_rollup() }}
    from daily
    group by site_code, date_trunc('month', local_date)

)

select * from park_monthly
