with

source as (

    select * from {{ optional_source('weather', 'weather_hourly', weather_hourly_columns()) }}

),

renamed as (

    select
        -- keys
        site_code,
        observed_at,
        observed_date,

        -- location of the request
        latitude,
        longitude,

        -- measures, units in the names
        temperature_2m as temperature_2m_c,
        relative_humidity_2m as relative_humidity_2m_pct,
        surface_pressure as surface_pressure_hpa,
        precipitation as precipitation_mm,
        wind_speed_10m as wind_speed_10m_ms,
        wind_direction_10m as wind_direction_10m_deg,
        wind_gusts_10m as wind_gusts_10m_ms,

        -- metadata: origin of the row
        _request as source_request,
        _dlt_load_id as dlt_load_id,
        _dlt_id as dlt_id

    from source

)

select * from renamed
