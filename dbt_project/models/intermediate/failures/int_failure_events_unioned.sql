{#-
    Component failures, from the two places that report them: corrective maintenance
    interventions (the maintenance log) and failure alarms (alarm_codes.is_failure: the
    controller saw the component fail). One failure often appears in both, the alarm
    first: both rows are kept, the repair period is the union of their intervals, and
    is_onset marks the one that starts it: an event is an onset unless an earlier event
    of the same turbine and component is still unrepaired when it starts (the
    intervention that repairs an alarmed failure is not a second failure). Whether a row
    is an onset depends only on rows that started before it, so a record arriving later
    never moves an earlier failure (the ML mart's leakage safety rests on it).
-#}
with

maintenance_events as (

    select * from {{ ref('int_maintenance_events_registered') }}

),

alarms as (

    select * from {{ ref('int_alarms_registered') }}

),

alarm_codes as (

    select * from {{ ref('alarm_codes') }}

),

corrective_interventions as (

    select
        'maintenance' as failure_source,
        intervention_id as source_event_id,
        turbine_id,
        component,
        started_at as failed_at,
        ended_at as repair_ended_at
    from maintenance_events
    where is_corrective

),

failure_alarms as (

    select
        'alarm' as failure_source,
        alarms.source_table || ':' || alarms.source_row_id::text as source_event_id,
        alarms.turbine_id,
        alarm_codes.component,
        alarms.started_at as failed_at,
        alarms.ended_at as repair_ended_at
    from alarms
    inner join alarm_codes
        on alarms.alarm_code = alarm_codes.alarm_code
    where alarm_codes.is_failure

),

unioned as (

    select * from corrective_interventions
    union all
    select * from failure_alarms

),

ordered as (

    select
        *,
        row_number() over (
            order by turbine_id, component, failed_at, failure_source, source_event_id
        ) as event_order
    from unioned

),

-- Events that start while an earlier event of the same turbine and component is still
-- being repaired (an event without an end is still being repaired).
continuations as (

    select distinct later.event_order
    from ordered as later
    inner join ordered as earlier
        on
            later.turbine_id = earlier.turbine_id
            and later.component = earlier.component
            and later.event_order > earlier.event_order
            and later.failed_at >= earlier.failed_at
            and later.failed_at < coalesce(earlier.repair_ended_at, 'infinity')

),

final as (

    select
        -- keys
        md5(ordered.failure_source || '|' || ordered.source_event_id) as failure_event_key,
        ordered.turbine_id,
        ordered.component,

        -- timestamps
        ordered.failed_at,
        ordered.repair_ended_at,

        -- attributes
        continuations.event_order is null as is_onset,
        ordered.failure_source,
        ordered.source_event_id

    from ordered
    left join continuations
        on ordered.event_order = continuations.event_order

)

select * from final
