{#-
    One row per turbine component: the components seed, plus any component the park's
    alarm codes name that the seed lacks (so that every alarm finds its component; such
    a row has no name beyond its code until the seed is completed). A maintenance
    intervention on a component the seed lacks is held aside (quality_held_aside), so
    the published ones always find theirs in the seed.
-#}
with

components as (

    select * from {{ ref('components') }}

),

maintenance_events as (

    select * from {{ ref('int_maintenance_events_registered') }}

),

alarm_codes as (

    select * from {{ ref('alarm_codes') }}

),

named_elsewhere as (

    select component
    from maintenance_events
    where component is not null

    union

    select component
    from alarm_codes
    where component is not null

),

unlisted as (

    select named_elsewhere.component
    from named_elsewhere
    left join components
        on named_elsewhere.component = components.component
    where components.component is null

),

all_components as (

    select
        component,
        component_name,
        subsystem,
        iec_logical_node,
        is_failure_labelled,
        true as is_in_seed
    from components

    union all

    select
        component,
        component as component_name,
        null as subsystem,
        null as iec_logical_node,
        false as is_failure_labelled,
        false as is_in_seed
    from unlisted

),

final as (

    select
        -- keys
        md5(component) as component_key,
        component,

        -- attributes
        component_name,
        subsystem,
        iec_logical_node,
        is_failure_labelled,
        is_in_seed

    from all_components

)

select * from final
