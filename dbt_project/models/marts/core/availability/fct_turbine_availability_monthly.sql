{#-
    fct_turbine_availability_daily rolled up to calendar months of the site's local time
    (macro availability_rollup): what maintenance contracts and management reports run
    on. A table rebuilt from the daily fact (one row per turbine and day: small).
-#}
{{ config(materialized='table') }}

with

daily as (

    select * from {{ ref('fct_turbine_availability_daily') }}

),

monthly as (

    select
        -- keys
        turbine_id,
        date_trunc('month', local_date)::date as month_start_date,
        max(site_code) as site_code,

        -- measures
        count(*)::integer as days_with_data,
        {{ availability_rollup() }}
    from daily
    group by turbine_id, date_trunc('month', local_date)

)

select * from monthly
