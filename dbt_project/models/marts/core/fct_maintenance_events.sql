{#-
    Grain: one row per maintenance intervention (one parsed line of the maintenance
    log). The technicians' pseudonyms stay in staging: the mart needs no personal data.
-#}
with

maintenance_events as (

    select * from {{ ref('stg_production__maintenance_events') }}

),

final as (

    select
        -- keys
        md5(intervention_id) as maintenance_event_key,
        md5(turbine_id) as turbine_key,
        md5(component) as component_key,
        to_char(started_at at time zone 'UTC', 'YYYYMMDD')::integer as date_key,
        intervention_id,
        turbine_id,

        -- timestamps
        started_at,
        ended_at,

        -- attributes
        intervention_type,
        is_corrective,
        component,
        description,

        -- measures
        (extract(epoch from ended_at - started_at) / 3600)::double precision as duration_hours,

        -- metadata: origin of the row
        source_file,
        source_line,
        dlt_load_id

    from maintenance_events

)

select * from final
