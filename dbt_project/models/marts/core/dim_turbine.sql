{#-
    One row per turbine: the turbine, its site and its model's technical data (the
    turbine's own record first, the turbine_models seed for what it lacks), with the keys
    of dim_site and dim_turbine_model.
-#}
with

turbines as (

    select * from {{ ref('int_turbines_registered') }}

),

turbine_models as (

    select * from {{ ref('turbine_models') }}

),

final as (

    select
        -- keys
        md5(turbines.turbine_id) as turbine_key,
        turbines.turbine_id,
        md5(turbines.site_code) as site_key,
        md5(turbines.turbine_model) as turbine_model_key,

        -- turbine
        turbines.turbine_name,
        turbines.latitude,
        turbines.longitude,
        turbines.commissioned_date,

        -- site
        turbines.site_code,
        turbines.site_name,

        -- model: the turbine's own record first, the turbine_models seed otherwise
        turbines.turbine_model,
        coalesce(turbines.manufacturer, turbine_models.manufacturer) as manufacturer,
        coalesce(turbines.rated_power_kw, turbine_models.rated_power_kw) as rated_power_kw,
        coalesce(turbines.hub_height_m, turbine_models.hub_height_m) as hub_height_m,
        coalesce(
            turbines.rotor_diameter_m, turbine_models.rotor_diameter_m
        ) as rotor_diameter_m,
        turbine_models.cut_in_wind_speed_ms,
        turbine_models.rated_wind_speed_ms,
        turbine_models.cut_out_wind_speed_ms,

        -- metadata
        turbines.dlt_load_id

    from turbines
    left join turbine_models
        on turbines.turbine_model = turbine_models.model

)

select * from final
