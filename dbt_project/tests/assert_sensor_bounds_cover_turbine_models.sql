-- Every turbine's model has a range in the sensor_bounds seed for every signal the QC
-- checks; without it the range flags would silently pass.
with

signals as (

    select signal from (
        values
        {%- for signal in measurement_signals() %}
        ('{{ signal.signal }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as checked_signals (signal)

),

turbine_models as (

    select distinct turbine_model
    from {{ ref('stg_scada__turbines') }}

),

bounds as (

    select * from {{ ref('sensor_bounds') }}

)

select
    turbine_models.turbine_model,
    signals.signal
from turbine_models
cross join signals
left join bounds
    on
        turbine_models.turbine_model = bounds.model
        and signals.signal = bounds.signal
where bounds.signal is null
