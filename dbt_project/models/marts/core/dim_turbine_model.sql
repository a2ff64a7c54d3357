{#-
    One row per turbine model: the turbine_models seed's datasheet, derived quantities
    (swept area, specific power) and a summary of its power curve (power_curves seed).
-#}
with

turbine_models as (

    select * from {{ ref('turbine_models') }}

),

power_curves as (

    select * from {{ ref('power_curves') }}

),

curve_summaries as (

    select
        model,
        count(*) as power_curve_point_count,
        max(power_kw) as power_curve_max_kw
    from power_curves
    group by model

),

final as (

    select
        -- keys
        md5(turbine_models.model) as turbine_model_key,
        turbine_models.model as turbine_model,

        -- attributes
        turbine_models.manufacturer,
        turbine_models.rated_power_kw,
        turbine_models.rotor_diameter_m,
        turbine_models.hub_height_m,
        pi() * power(turbine_models.rotor_diameter_m / 2, 2) as swept_area_m2,
        1000 * turbine_models.rated_power_kw
        / (pi() * power(turbine_models.rotor_diameter_m / 2, 2)) as specific_power_w_m2,
        turbine_models.cut_in_wind_speed_ms,
        turbine_models.rated_wind_speed_ms,
        turbine_models.cut_out_wind_speed_ms,

        -- power curve
        coalesce(curve_summaries.power_curve_point_count, 0)::integer
            as power_curve_point_count,
        curve_summaries.power_curve_max_kw

    from turbine_models
    left join curve_summaries
        on turbine_models.model = curve_summaries.model

)

select * from final
