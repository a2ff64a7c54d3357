{#-
    One row per turbine the configuration knows: in the turbine registry
    (stg_scada__turbines) and on a site of the sites seed. The rows of any other turbine
    are held aside (quality_held_aside) and never reach core or ml; they are published by
    the first build after the configuration names the turbine and its site.
-#}
with

turbines as (

    select * from {{ ref('stg_scada__turbines') }}

),

sites as (

    select * from {{ ref('sites') }}

),

registered as (

    select
        turbines.turbine_id,
        turbines.site_code,
        turbines.turbine_model,
        turbines.turbine_name,
        turbines.site_name,
        turbines.manufacturer,
        turbines.rated_power_kw,
        turbines.hub_height_m,
        turbines.rotor_diameter_m,
        turbines.latitude,
        turbines.longitude,
        turbines.commissioned_date,
        turbines.dlt_load_id,
        turbines.dlt_id
    from turbines
    where exists (
        select 1 from sites
        where sites.site_code = turbines.site_code
    )

)

select * from registered
