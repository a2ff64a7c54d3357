{#-
    One row per wind farm (site): the turbines' master data summarised per site, and the
    sites seed for what the sensor database does not carry (time zone, country,
    elevation). Only the registered turbines (int_turbines_registered): a turbine whose
    site the seed lacks is held aside (quality_held_aside), so every site here is in it;
    var('site_time_zone') stays the fallback of a seed row without a time zone.
-#}
with

turbines as (

    select * from {{ ref('int_turbines_registered') }}

),

sites as (

    select * from {{ ref('sites') }}

),

site_turbines as (

    select
        site_code,
        min(site_name) as site_name,
        avg(latitude) as latitude,
        avg(longitude) as longitude,
        count(*) as turbine_count,
        sum(rated_power_kw) as installed_capacity_kw
    from turbines
    group by site_code

),

final as (

    select
        -- keys
        md5(site_turbines.site_code) as site_key,
        site_turbines.site_code,

        -- attributes
        site_turbines.site_name,
        {{ time_zone_or_default('sites.time_zone') }} as time_zone,
        sites.country_code,
        site_turbines.latitude,
        site_turbines.longitude,
        sites.elevation_m,

        -- measures
        site_turbines.turbine_count::integer as turbine_count,
        site_turbines.installed_capacity_kw

    from site_turbines
    left join sites
        on site_turbines.site_code = sites.site_code

)

select * from final
