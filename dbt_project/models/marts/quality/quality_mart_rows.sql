{#-
    Rows in the core marts the quality page lists. The fact is counted from the daily
    flag counts kept incrementally (one row per 10-minute period of the grid), so the
    figure does not cost a scan of the whole history every run.
-#}
with

flag_days as (

    select * from {{ ref('int_qc_flag_days_counted') }}

),

turbines as (

    select * from {{ ref('dim_turbine') }}

),

weather as (

    select * from {{ ref('fct_weather_hourly') }}

),

counted as (

    select
        'core' as mart_schema,
        'dim_turbine' as mart_table,
        count(*) as row_count
    from turbines

    union all

    select
        'core' as mart_schema,
        'fct_turbine_measurements' as mart_table,
        coalesce(sum(period_count), 0)::bigint as row_count
    from flag_days
    where flag_type = 'gap'

    union all

    select
        'core' as mart_schema,
        'fct_weather_hourly' as mart_table,
        count(*) as row_count
    from weather

),

final as (

    select
        -- keys
        mart_schema || '.' || mart_table as mart_name,

        -- attributes
        mart_schema,
        mart_table,

        -- measures
        row_count

    from counted

)

select * from final
