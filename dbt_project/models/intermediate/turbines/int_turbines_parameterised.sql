{#-
    One row per turbine: what its QC checks it against, and the time zone its local days
    are cut in (its site's). Its model's technical data (the
    turbine's own rated power first, as dim_turbine), the sensor_bounds seed's range,
    frozen and spike thresholds of every signal of its model, one column each
    (<signal>_range_min, _range_max, _frozen_min_minutes, _frozen_ignore_below, _frozen_ignore_above,
    _spike_max_step; null where the seed has none, which switches that check off), and the
    qc_thresholds seed's power-curve thresholds. Small: read by int_measurements_flagged
    for every period, and for the rated power by int_turbine_hours_fitted.
-#}
{%- set signals = measurement_signals() %}

with

turbines as (

    select * from {{ ref('int_turbines_registered') }}

),

turbine_models as (

    select * from {{ ref('turbine_models') }}

),

sites as (

    select * from {{ ref('sites') }}

),

sensor_bounds as (

    select * from {{ ref('sensor_bounds') }}

),

qc_thresholds as (

    select * from {{ ref('qc_thresholds') }}

),

thresholds as (

    select
        {{ qc_threshold('power_curve_tolerance_share_of_rated') }},
        {{ qc_threshold('power_curve_min_rotor_speed_rpm') }}
    from qc_thresholds

),

model_bounds as (

    select
        {%- for signal in signals %}
        max(min_value) filter (
            where signal = '{{ signal.signal }}'
        ) as {{ signal.signal }}_range_min,
        max(max_value) filter (
            where signal = '{{ signal.signal }}'
        ) as {{ signal.signal }}_range_max,
        max(frozen_min_minutes) filter (
            where signal = '{{ signal.signal }}'
        ) as {{ signal.signal }}_frozen_min_minutes,
        max(frozen_ignore_below) filter (
            where signal = '{{ signal.signal }}'
        ) as {{ signal.signal }}_frozen_ignore_below,
        max(frozen_ignore_above) filter (
            where signal = '{{ signal.signal }}'
        ) as {{ signal.signal }}_frozen_ignore_above,
        max(spike_max_step) filter (
            where signal = '{{ signal.signal }}'
        ) as {{ signal.signal }}_spike_max_step,
        {%- endfor %}
        model
    from sensor_bounds
    group by model

),

turbine_parameters as (

    select
        turbines.turbine_id,
        turbines.turbine_model,
        coalesce(turbines.rated_power_kw, turbine_models.rated_power_kw) as rated_power_kw,
        turbine_models.cut_in_wind_speed_ms,
        turbine_models.cut_out_wind_speed_ms,
        {{ time_zone_or_default('sites.time_zone') }} as time_zone
    from turbines
    left join turbine_models
        on turbines.turbine_model = turbine_models.model
    left join sites
        on turbines.site_code = sites.site_code

),

final as (

    select
        turbine_parameters.turbine_id,
        turbine_parameters.turbine_model,
        turbine_parameters.rated_power_kw,
        turbine_parameters.cut_in_wind_speed_ms,
        turbine_parameters.cut_out_wind_speed_ms,
        turbine_parameters.time_zone,
        {%- for signal in signals %}
        model_bounds.{{ signal.signal }}_range_min,
        model_bounds.{{ signal.signal }}_range_max,
        model_bounds.{{ signal.signal }}_frozen_min_minutes,
        model_bounds.{{ signal.signal }}_frozen_ignore_below,
        model_bounds.{{ signal.signal }}_frozen_ignore_above,
        model_bounds.{{ signal.signal }}_spike_max_step,
        {%- endfor %}
        thresholds.power_curve_tolerance_share_of_rated,
        thresholds.power_curve_min_rotor_speed_rpm
    from turbine_parameters
    left join model_bounds
        on turbine_parameters.turbine_model = model_bounds.model
    cross join thresholds

)

select * from final
