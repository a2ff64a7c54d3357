{#-
    Rows per day of every series the quality page's volume check judges: each turbine
    (10-minute periods with a source row, from the daily flag counts kept incrementally)
    and each daily-dated raw table (rows per day of its date column, read through the
    staging views that keep every raw row). Days without rows are absent; the page counts
    them as zero from the series' first day (a monthly export only up to its last day).
-#}
with

flag_days as (

    select * from {{ ref('int_qc_flag_days_counted') }}

),

measurement_rows as (

    select * from {{ ref('int_measurement_rows_days_counted') }}

),

weather as (

    select * from {{ ref('stg_weather__hourly') }}

),

production as (

    select * from {{ ref('stg_production__daily_production') }}

),

turbine_days as (

    select
        turbine_id as series,
        'turbine' as series_kind,
        'core.fct_turbine_measurements' as counted_table,
        true as is_daily_feed,
        measured_date as volume_date,
        sum(period_count - flagged_count)::bigint as row_count
    from flag_days
    where flag_type = 'gap'
    group by turbine_id, measured_date

),

measurement_days as (

    select
        'raw.scada_measurements' as series,
        'source' as series_kind,
        'raw.scada_measurements' as counted_table,
        true as is_daily_feed,
        measured_date as volume_date,
        sum(row_count)::bigint as row_count
    from measurement_rows
    group by measured_date

),

weather_days as (

    select
        'raw.weather_hourly' as series,
        'source' as series_kind,
        'raw.weather_hourly' as counted_table,
        true as is_daily_feed,
        observed_date as volume_date,
        count(*) as row_count
    from weather
    where observed_date is not null
    group by observed_date

),

production_days as (

    select
        'raw.production_daily' as series,
        'source' as series_kind,
        'raw.production_daily' as counted_table,
        false as is_daily_feed,
        production_date as volume_date,
        count(*) as row_count
    from production
    where production_date is not null
    group by production_date

),

final as (

    select * from turbine_days
    union all
    select * from measurement_days
    union all
    select * from weather_days
    union all
    select * from production_days

)

select * from final
