{#-
    The maintenance interventions core and ml may publish: those of a registered turbine
    (macro is_turbine_registered) whose component (when it names one) is in the components seed
    and whose type (when it has one) is in the intervention_types seed. The others stay in staging and are listed in
    quality_held_aside until the configuration knows them.
    Minimised: what the models downstream use, no pseudonym, free text or source line
    (they stay in staging).
-#}
with

maintenance_events as (

    select * from {{ ref('stg_production__maintenance_events') }}

),

components as (

    select * from {{ ref('components') }}

),

intervention_types as (

    select * from {{ ref('intervention_types') }}

),

registered as (

    select
        maintenance_events.intervention_id,
        maintenance_events.turbine_id,
        maintenance_events.started_at,
        maintenance_events.ended_at,
        maintenance_events.intervention_type,
        maintenance_events.component,
        maintenance_events.is_corrective,
        maintenance_events.dlt_load_id,
        maintenance_events.dlt_id
    from maintenance_events
    where
        {{ is_turbine_registered('maintenance_events.turbine_id') }}
        and (maintenance_events.component is null or exists (
            select 1 from components
            where components.component = maintenance_events.component
        ))
        and (maintenance_events.intervention_type is null or exists (
            select 1 from intervention_types
            where intervention_types.intervention_type = maintenance_events.intervention_type
        ))

)

select * from registered
