{#-
    Grain: one row per site per UTC hour of weather reanalysis (Open-Meteo archive), as
    the API gave it; the 10-minute and hourly turbine facts join it as of each period
    (int_measurements_weather_joined). A value outside the physical bounds of the
    plausibility_bounds seed is null here, its row flagged (int_weather_hours_checked).
    Only the sites of dim_site (the registered turbines' sites): the weather of a site
    the configuration does not know waits with its turbines (docs/sources.md).
-#}
with

weather as (

    select * from {{ ref('int_weather_hours_checked') }}

),

registered_turbines as (

    select * from {{ ref('int_turbines_registered') }}

),

final as (

    select
        -- keys
        md5(site_code || '|' || to_char(observed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24'))
            as weather_hour_key,
        md5(site_code) as site_key,
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

        -- plausibility: the measures set to null as implausible
        has_implausible_values,
        implausible_measures,

        -- metadata
        latitude,
        longitude,
        source_request,
        dlt_load_id

    from weather
    where exists (
        select 1 from registered_turbines
        where registered_turbines.site_code = weather.site_code
    )

)

select * from final
