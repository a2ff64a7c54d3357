with

weather as (

    select * from {{ ref('stg_weather__hourly') }}

),

final as (

    select
        -- keys
        site_code,
        observed_at,
        to_char(observed_date, 'YYYYMMDD')::integer as date_key,
        observed_date,

        -- measures
        temperature_2m_c,
        relative_humidity_2m_pct,
        surface_pressure_hpa,
        precipitation_mm,
        wind_speed_10m_ms,
        wind_direction_10m_deg,
        wind_gusts_10m_ms,

        -- metadata
        latitude,
        longitude,
        source_request,
        dlt_load_id

    from weather

)

select * from final
