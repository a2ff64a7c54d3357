with

source as (

    select
        'production_daily' as target_table,
        _source_file,
        _source_line,
        _source_file_sha256,
        raw_line,
        reason,
        _dlt_load_id,
        _dlt_id
    from
        {{ optional_source('production', 'production_daily__rejected', csv_rejected_columns()) }}

    union all

    select
        'maintenance_log' as target_table,
        _source_file,
        _source_line,
        _source_file_sha256,
        raw_line,
        reason,
        _dlt_load_id,
        _dlt_id
    from
        {{ optional_source('production', 'maintenance_log__rejected', csv_rejected_columns()) }}

),

renamed as (

    select
        -- keys
        target_table,
        _source_file as source_file,
        _source_line::integer as source_line,

        -- attributes
        reason,
        raw_line,

        -- metadata
        _source_file_sha256 as source_file_sha256,
        _dlt_load_id as dlt_load_id,
        _dlt_id as dlt_id

    from source

)

select * from renamed
