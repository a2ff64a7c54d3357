{#-
    Grain: one row per alarm or event raised by a turbine's controller (one source row of
    the alarm table), with its code's meaning from the alarm_codes seed. The operator who
    acknowledged it is personal data and stays in staging; only whether it was
    acknowledged is here.
-#}
with

alarms as (

    select * from {{ ref('int_alarms_registered') }}

),

alarm_codes as (

    select * from {{ ref('alarm_codes') }}

),

final as (

    select
        -- keys
        md5(alarms.source_table || '|' || alarms.source_row_id::text) as alarm_key,
        md5(alarms.turbine_id) as turbine_key,
        md5(alarm_codes.component) as component_key,
        to_char(alarms.started_at at time zone 'UTC', 'YYYYMMDD')::integer as date_key,
        alarms.turbine_id,
        alarms.alarm_code,

        -- timestamps
        alarms.started_at,
        alarms.ended_at,

        -- attributes
        alarm_codes.description as alarm_description,
        alarm_codes.severity,
        alarm_codes.component,
        coalesce(alarm_codes.is_stop, false) as is_stop,
        coalesce(alarm_codes.is_failure, false) as is_failure,
        alarms.is_active,
        alarms.is_acknowledged,

        -- measures
        (
            extract(epoch from alarms.ended_at - alarms.started_at) / 60
        )::double precision as duration_minutes,

        -- metadata: origin of the row
        alarms.source_row_id,
        alarms.source_table,
        alarms.dlt_load_id

    from alarms
    left join alarm_codes
        on alarms.alarm_code = alarm_codes.alarm_code

)

select * from final
