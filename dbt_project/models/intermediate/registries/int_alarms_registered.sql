{#-
    The alarms core and ml may publish: those of a registered turbine
    (macro is_turbine_registered) with a code of the alarm_codes seed. The others stay in
    staging and are listed in quality_held_aside until the configuration knows them.
    Personal data stays in staging: whether the alarm was acknowledged, not by whom.
-#}
with

alarms as (

    select * from {{ ref('stg_scada__alarms') }}

),

alarm_codes as (

    select * from {{ ref('alarm_codes') }}

),

registered as (

    select
        alarms.source_row_id,
        alarms.turbine_id,
        alarms.alarm_code,
        alarms.started_at,
        alarms.ended_at,
        alarms.started_date,
        alarms.is_active,
        alarms.acknowledged_by_pseudonym is not null as is_acknowledged,
        alarms.source_table,
        alarms.dlt_load_id,
        alarms.dlt_id
    from alarms
    where
        {{ is_turbine_registered('alarms.turbine_id') }}
        and exists (
            select 1 from alarm_codes
            where alarm_codes.alarm_code = alarms.alarm_code
        )

)

select * from registered
