{#-
    fct_turbine_availability_daily rolled up to the park (site) and local day (macro
    availability_rollup): the park's availability is its turbines' hours and energy
    added, not the mean of their ratios.
-#}
{{ config(materialized='table') }}

with

daily as (

    select * from {{ ref('fct_turbine_availability_daily') }}

),

park_daily as (

    select
        -- keys
        site_code,
        local_date,

        -- measures
        count(*)::integer as turbines,
        {{ availability_rollup() }}
    from daily
    group by site_code, local_date

)

select * from park_daily
