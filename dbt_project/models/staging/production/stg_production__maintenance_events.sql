with

source as (

    -- optional: a warehouse that never received a CSV export has no such table
    select *
    from {{ optional_source('production', 'maintenance_log', maintenance_log_columns()) }}

),

renamed as (

    select
        -- keys
        intervention_id,
        turbine_id,

        -- timestamps
        started_at,
        ended_at,

        -- attributes: the export's French labels normalised to lowercase ASCII
        case
            when translate(lower(intervention_type), 'é', 'e') like 'prevent%'
                then 'preventive'
            when lower(intervention_type) like 'correct%'
                then 'corrective'
            else lower(intervention_type)
        end as intervention_type,
        lower(component) as component,
        description,
        coalesce(lower(intervention_type) like 'correct%', false) as is_corrective,

        -- personal data, pseudonymised by the loader
        technician_pseudonym,
        technician_email_pseudonym,

        -- metadata: origin of the row
        _source_file as source_file,
        _source_line::integer as source_line,
        _source_file_sha256 as source_file_sha256,
        _dlt_load_id as dlt_load_id,
        _dlt_id as dlt_id

    from source

)

select * from renamed
