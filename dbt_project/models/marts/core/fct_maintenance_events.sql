{#-
    Grain: one row per maintenance intervention (one parsed line of the maintenance
    log). Minimised (GDPR art. 5(1)(c), 25): what maintenance and the models need
    (turbine, component, kind, hour, duration), nothing that leads back to the
    technician: no pseudonym, no intervention number, no exact times, no free text, no
    source file or line. Engineers trace a row to staging through maintenance_event_key
    (docs/traceability.md).
-#}
with

maintenance_events as (

    select * from {{ ref('int_maintenance_events_registered') }}

),

final as (

    select
        -- keys
        md5(intervention_id) as maintenance_event_key,
        md5(turbine_id) as turbine_key,
        md5(component) as component_key,
        to_char(started_at at time zone 'UTC', 'YYYYMMDD')::integer as date_key,
        turbine_id,

        -- timestamps, to the hour
        date_trunc('hour', started_at, 'UTC') as started_hour_at,

        -- attributes
        intervention_type,
        is_corrective,
        component,

        -- measures, to the quarter hour
        (
            round((extract(epoch from ended_at - started_at) / 900)::numeric) / 4
        )::double precision as duration_hours,

        -- metadata: origin of the row
        dlt_load_id

    from maintenance_events

)

select * from final
