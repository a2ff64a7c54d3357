with

source as (

    select * from {{ source('scada', 'scada_measurements') }}

),

renamed as (

    select
        -- keys
        turbine_id,
        measured_at,
        measured_date,

        -- measures: 10-minute statistics (avg, min, max, std) of every canonical signal,
        -- SI units (null where the historian has none)
        {%- for column in signal_statistic_columns() %}
        {{ column }},
        {%- endfor %}

        -- metadata: origin of the row
        source_row_id,
        _source_table as source_table,
        _dlt_load_id as dlt_load_id,
        _dlt_id as dlt_id

    from source

)

select * from renamed
