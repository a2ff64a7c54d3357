{#-
    The manufacturer's power curve of each turbine model in service, with its rated power
    (the scatter's scale), for the quality page. A model without a curve in the
    power_curves seed keeps one row with null curve points.
-#}
with

turbines as (

    select * from {{ ref('dim_turbine') }}

),

power_curves as (

    select * from {{ ref('power_curves') }}

),

models as (

    select
        turbine_model,
        max(rated_power_kw) as rated_power_kw
    from turbines
    group by turbine_model

),

final as (

    select
        -- keys
        models.turbine_model,

        -- measures
        power_curves.wind_speed_ms,
        power_curves.power_kw,

        -- attributes
        models.rated_power_kw

    from models
    left join power_curves
        on models.turbine_model = power_curves.model

)

select * from final
