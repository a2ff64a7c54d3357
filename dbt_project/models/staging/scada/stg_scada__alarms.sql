with

source as (

    select * from {{ optional_source('scada', 'scada_alarms', scada_alarms_columns()) }}

),

renamed as (

    select
        -- keys
        source_row_id,
        turbine_id,
        alarm_code::text as alarm_code,

        -- timestamps
        started_at,
        ended_at,
        started_date,

        -- attributes
        ended_at is null as is_active,
        acknowledged_by_pseudonym,

        -- metadata: origin of the row
        _source_table as source_table,
        _dlt_load_id as dlt_load_id,
        _dlt_id as dlt_id

    from source

)

select * from renamed
