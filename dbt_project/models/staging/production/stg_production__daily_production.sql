with

source as (

    -- optional: a warehouse that never received a CSV export has no such table
    select *
    from {{ optional_source('production', 'production_daily', production_daily_columns()) }}

),

renamed as (

    select
        -- keys
        production_date,
        turbine_id,

        -- measures
        energy_kwh,
        availability_pct,
        operating_hours,

        -- metadata: origin of the row
        _source_file as source_file,
        _source_line::integer as source_line,
        _source_file_sha256 as source_file_sha256,
        _dlt_load_id as dlt_load_id,
        _dlt_id as dlt_id

    from source

)

select * from renamed
