{#-
    QC flags raised per turbine over the fact's newest days (macro quality_recent_days,
    counted back from the newest measured day, whatever the calendar): what a morning's
    check is about, at a cost that does not grow with the history. One row per turbine,
    flag type and signal (as quality_qc_flag_counts, gaps left out: they are
    completeness), plus two row-level types read from the fact: 'duplicate' (the source
    held more than one row for the period, identical or not) and 'any' (periods with at
    least one QC flag).
-#}
{%- set first_date = quality_recent_first_date(ref('fct_turbine_measurements')) %}
{{ config(pre_hook="set local random_page_cost = 1.1") }}
with

measurements as (

    select * from {{ ref('fct_turbine_measurements') }}

),

flag_days as (

    select * from {{ ref('int_qc_flag_days_counted') }}

),

recent as (

    select
        {{ first_date }} as first_date,
        {{ first_date }} + {{ quality_recent_days() - 1 }} as last_date

),

by_flag as (

    select
        flag_days.turbine_id,
        flag_days.flag_type,
        flag_days.signal,
        sum(flag_days.flagged_count)::bigint as flagged_count,
        sum(flag_days.period_count)::bigint as period_count
    from flag_days
    where
        flag_days.measured_date >= {{ first_date }}
        and flag_days.flag_type != 'gap'
    group by flag_days.turbine_id, flag_days.flag_type, flag_days.signal

),

fact_counts as (

    select
        measurements.turbine_id,
        count(*) as period_count,
        count(*) filter (where measurements.has_duplicates) as duplicate_count,
        count(*) filter (where measurements.qc_flag_count > 0) as any_flag_count
    from measurements
    where measurements.measured_date >= {{ first_date }}
    group by measurements.turbine_id

),

row_flags as (

    select
        fact_counts.turbine_id,
        row_flag.flag_type,
        'row' as signal,  -- noqa: RF04
        row_flag.flagged_count,
        fact_counts.period_count
    from fact_counts
    cross join lateral (
        values
        ('duplicate', fact_counts.duplicate_count),
        ('any', fact_counts.any_flag_count)
    ) as row_flag (flag_type, flagged_count)

),

unioned as (

    select * from by_flag
    union all
    select * from row_flags

),

final as (

    select
        -- keys
        md5(unioned.turbine_id) as turbine_key,
        unioned.turbine_id,
        unioned.flag_type,
        unioned.signal,

        -- measures
        unioned.flagged_count,
        unioned.period_count,

        -- attributes
        recent.first_date,
        recent.last_date

    from unioned
    cross join recent

)

select * from final
