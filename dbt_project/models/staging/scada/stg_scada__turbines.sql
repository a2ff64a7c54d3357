with

source as (

    select * from {{ optional_source('scada', 'scada_turbines', scada_turbines_columns()) }}

),

renamed as (

    select
        -- keys
        turbine_id,
        site_code,
        model as turbine_model,

        -- attributes
        turbine_name,
        site_name,
        manufacturer,
        rated_power_kw,
        hub_height_m,
        rotor_diameter_m,
        latitude,
        longitude,
        commissioned_on as commissioned_date,

        -- metadata
        _dlt_load_id as dlt_load_id,
        _dlt_id as dlt_id

    from source

)

select * from renamed
