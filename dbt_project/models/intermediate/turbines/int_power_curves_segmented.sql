{#-
    The power curves of the power_curves seed as straight segments between consecutive
    points of a model's curve (by wind speed), one row per segment: the curve's power at a
    wind speed v is power_from_kw + (power_to_kw - power_from_kw) * (v - wind_from_ms)
    / (wind_to_ms - wind_from_ms) on the segment where wind_from_ms <= v < wind_to_ms
    (linear interpolation between the seed's points). A model's last point starts no
    segment: a speed from it on, or below the first point, finds none. Read by
    int_measurements_flagged (power-curve outliers) and int_turbine_periods_categorised
    (expected power), each of which decides what a speed without a segment gives.
-#}

with

power_curves as (

    select * from {{ ref('power_curves') }}

),

points as (

    select
        model,
        wind_speed_ms as wind_from_ms,
        power_kw as power_from_kw,
        lead(wind_speed_ms) over by_wind_speed as wind_to_ms,
        lead(power_kw) over by_wind_speed as power_to_kw
    from power_curves
    window by_wind_speed as (partition by model order by wind_speed_ms)

),

final as (

    select
        model,
        wind_from_ms,
        wind_to_ms,
        power_from_kw,
        power_to_kw
    from points
    where wind_to_ms is not null

)

select * from final
