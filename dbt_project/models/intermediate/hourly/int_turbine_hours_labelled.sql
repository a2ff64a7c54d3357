{#-
    Failure labels per turbine and UTC hour (the ML mart's targets), from
    int_failure_events_unioned (its onsets: the intervention repairing an alarmed failure
    is not a second failure). For the hour starting at hour_at and each component c:
      will_fail_<c>_<h>d    a failure of c starts in (hour_at, hour_at + h days]
      hours_to_failure_<c>  hours from hour_at to the next failure of c when it starts
                            within the longest horizon, else null (censored)
      is_in_repair          the hour overlaps a failure's repair period
                            [failed_at, repair_ended_at) (open-ended while unfinished)
      is_label_complete_<h>d  the data reaches hour_at + h days, so a false label means
                            "no failure" rather than "not known yet"
    A label looks only at failures starting after hour_at and no later than the horizon:
    changing anything after t changes no label at or before t - horizon.
    Incremental (delete+insert by hour_date): a failure starting on day d changes the
    labels of the hours up to the longest horizon before it, and a new day completes the
    labels of the hours up to that horizon before it; so a run rewrites the reprocess
    window (macro reprocess_from_date, with the late alarms and interventions) widened by
    the longest horizon: bounded, whatever the history. labels_observed_until is capped
    at hour_at + the longest horizon (no label looks further), so that older rows never
    change.
-#}
{%- set horizons = failure_horizons_days() %}
{%- set longest = horizons | max %}
{%- set first_date = reprocess_from_date(this, with_events=true) %}
{#- a run rewrites the longest label horizon before the window: so many more days tested -#}
{{ config(meta={'recent_tests_where': 'hour_date >= {window_from} - {label_horizon_days}'}) }}

with

hours as (

    select
        turbine_id,
        hour_at,
        hour_date,
        dlt_load_id
    from {{ ref('int_turbine_hours_aggregated') }}
    where {{ in_write_window(first_date, 'hour_date', longest) }}

),

failures as (

    select * from {{ ref('int_failure_events_unioned') }}

),

observed as (

    select
        turbine_id,
        max(hour_at) + interval '1 hour' as labels_observed_until
    from hours
    group by turbine_id

),

upcoming as (

    select
        hours.turbine_id,
        hours.hour_at,
        failures.component,
        min(failures.failed_at) as next_failed_at
    from hours
    inner join failures
        on
            hours.turbine_id = failures.turbine_id
            and hours.hour_at < failures.failed_at
            and hours.hour_at + interval '{{ longest }} days' >= failures.failed_at
            and failures.is_onset
    group by hours.turbine_id, hours.hour_at, failures.component

),

labels as (

    select
        hours.turbine_id,
        hours.hour_at,
        hours.hour_date,
        hours.dlt_load_id,
        {%- for component in failure_components() %}
        {%- for horizon in horizons %}
        coalesce(
            bool_or(
                upcoming.component = '{{ component }}'
                and upcoming.next_failed_at <= hours.hour_at + interval '{{ horizon }} days'
            ),
            false
        ) as will_fail_{{ component }}_{{ horizon }}d,
        {%- endfor %}
        (
            extract(
                epoch from min(upcoming.next_failed_at) filter (
                    where upcoming.component = '{{ component }}'
                ) - hours.hour_at
            ) / 3600
        )::double precision as hours_to_failure_{{ component }},
        {%- endfor %}
        {%- for horizon in horizons %}
        coalesce(
            bool_or(upcoming.next_failed_at <= hours.hour_at + interval '{{ horizon }} days'),
            false
        ) as will_fail_any_{{ horizon }}d,
        {%- endfor %}
        (
            extract(epoch from min(upcoming.next_failed_at) - hours.hour_at) / 3600
        )::double precision as hours_to_next_failure
    from hours
    left join upcoming
        on
            hours.turbine_id = upcoming.turbine_id
            and hours.hour_at = upcoming.hour_at
    group by hours.turbine_id, hours.hour_at, hours.hour_date, hours.dlt_load_id

),

repairs as (

    select
        hours.turbine_id,
        hours.hour_at,
        count(*) as repair_count
    from hours
    inner join failures
        on
            hours.turbine_id = failures.turbine_id
            and hours.hour_at + interval '1 hour' > failures.failed_at
            and hours.hour_at < coalesce(failures.repair_ended_at, 'infinity')
    group by hours.turbine_id, hours.hour_at

),

final as (

    select
        -- keys
        labels.turbine_id,
        labels.hour_at,
        labels.hour_date,

        -- labels
        {%- for component in failure_components() %}
        {%- for horizon in horizons %}
        labels.will_fail_{{ component }}_{{ horizon }}d,
        {%- endfor %}
        labels.hours_to_failure_{{ component }},
        {%- endfor %}
        {%- for horizon in horizons %}
        labels.will_fail_any_{{ horizon }}d,
        {%- endfor %}
        labels.hours_to_next_failure,

        -- what the labels can be trusted for
        repairs.turbine_id is not null as is_in_repair,
        {%- for horizon in horizons %}
        labels.hour_at + interval '{{ horizon }} days'
        <= observed.labels_observed_until as is_label_complete_{{ horizon }}d,
        {%- endfor %}
        least(
            observed.labels_observed_until, labels.hour_at + interval '{{ longest }} days'
        ) as labels_observed_until,

        -- metadata: the newest SCADA load of the hour (the reprocess window's bookmark)
        labels.dlt_load_id

    from labels
    inner join observed
        on labels.turbine_id = observed.turbine_id
    left join repairs
        on
            labels.turbine_id = repairs.turbine_id
            and labels.hour_at = repairs.hour_at

)

select * from final
