{#-
    Grain: one row per staged table, column and value the configuration does not know
    (docs/sources.md, "Ids the configuration does not know"). Rows carrying such a value
    are held aside: they stay in raw and staging, core and ml do not publish them
    (int_turbines_registered, int_alarms_registered, int_maintenance_events_registered),
    and the first build after the value is added to the configuration publishes them.
    The pipeline reads this mart after the build: while it has rows the run is partial,
    its message naming the values. A row with two unknown values counts under both.
-#}
with

measurement_rows as (

    select * from {{ ref('int_measurement_rows_days_counted') }}

),

alarms as (

    select * from {{ ref('stg_scada__alarms') }}

),

maintenance_events as (

    select * from {{ ref('stg_production__maintenance_events') }}

),

daily_production as (

    select * from {{ ref('stg_production__daily_production') }}

),

registry as (

    select * from {{ ref('stg_scada__turbines') }}

),

sites as (

    select * from {{ ref('sites') }}

),

alarm_codes as (

    select * from {{ ref('alarm_codes') }}

),

components as (

    select * from {{ ref('components') }}

),

intervention_types as (

    select * from {{ ref('intervention_types') }}

),

registry_size as (

    select count(*) as turbine_count from registry

),

-- the rows of every staged table that names a turbine, per turbine and day
turbine_rows as (

    select
        'stg_scada__measurements' as source_model,
        turbine_id,
        measured_date as seen_date,
        row_count
    from measurement_rows

    union all

    select
        'stg_scada__alarms' as source_model,
        turbine_id,
        started_date as seen_date,
        1 as row_count
    from alarms

    union all

    select
        'stg_production__maintenance_events' as source_model,
        turbine_id,
        (started_at at time zone 'UTC')::date as seen_date,
        1 as row_count
    from maintenance_events

    union all

    select
        'stg_production__daily_production' as source_model,
        turbine_id,
        production_date as seen_date,
        1 as row_count
    from daily_production

),

unknown_turbines as (

    select
        turbine_rows.source_model,
        'turbine_id' as column_name,
        turbine_rows.turbine_id as unknown_value,
        turbine_rows.seen_date,
        turbine_rows.row_count
    from turbine_rows
    cross join registry_size
    left join registry
        on turbine_rows.turbine_id = registry.turbine_id
    where
        registry.turbine_id is null
        -- a park with no registry at all publishes every turbine (is_turbine_registered)
        and registry_size.turbine_count > 0

),

unknown_sites as (

    select
        turbine_rows.source_model,
        'site_code' as column_name,
        registry.site_code as unknown_value,
        turbine_rows.seen_date,
        turbine_rows.row_count
    from turbine_rows
    inner join registry
        on turbine_rows.turbine_id = registry.turbine_id
    left join sites
        on registry.site_code = sites.site_code
    where sites.site_code is null

),

unknown_alarm_codes as (

    select
        'stg_scada__alarms' as source_model,
        'alarm_code' as column_name,
        alarms.alarm_code::text as unknown_value,
        alarms.started_date as seen_date,
        1 as row_count
    from alarms
    left join alarm_codes
        on alarms.alarm_code = alarm_codes.alarm_code
    where alarm_codes.alarm_code is null

),

unknown_components as (

    select
        'stg_production__maintenance_events' as source_model,
        'component' as column_name,
        maintenance_events.component as unknown_value,
        (maintenance_events.started_at at time zone 'UTC')::date as seen_date,
        1 as row_count
    from maintenance_events
    left join components
        on maintenance_events.component = components.component
    where
        maintenance_events.component is not null
        and components.component is null

),

unknown_intervention_types as (

    select
        'stg_production__maintenance_events' as source_model,
        'intervention_type' as column_name,
        maintenance_events.intervention_type as unknown_value,
        (maintenance_events.started_at at time zone 'UTC')::date as seen_date,
        1 as row_count
    from maintenance_events
    left join intervention_types
        on maintenance_events.intervention_type = intervention_types.intervention_type
    where
        maintenance_events.intervention_type is not null
        and intervention_types.intervention_type is null

),

held as (

    select * from unknown_turbines
    union all
    select * from unknown_sites
    union all
    select * from unknown_alarm_codes
    union all
    select * from unknown_components
    union all
    select * from unknown_intervention_types

),

final as (

    select
        -- keys
        source_model,
        column_name,
        unknown_value,

        -- measures
        sum(row_count)::bigint as held_row_count,

        -- dates
        min(seen_date) as first_seen_date,
        max(seen_date) as last_seen_date

    from held
    group by source_model, column_name, unknown_value

)

select * from final
