with

source as (

    select *
    from {{ optional_source('scada', 'scada_measurements__rejected', {
        'source_row_id': 'bigint', 'raw_record': 'text', 'reason': 'text',
        '_record_hash': 'text', '_source_table': 'text',
        '_dlt_load_id': 'text', '_dlt_id': 'text',
    }) }}

),

renamed as (

    select
        -- keys
        _record_hash as record_hash,
        source_row_id,

        -- attributes
        reason,
        raw_record,

        -- metadata: origin of the row
        _source_table as source_table,
        _dlt_load_id as dlt_load_id,
        _dlt_id as dlt_id

    from source

)

select * from renamed
