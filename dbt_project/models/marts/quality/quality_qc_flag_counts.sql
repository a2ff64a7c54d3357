{#-
    QC flags raised per turbine, by flag type and signal, over the turbine's loaded span
    (its 10-minute grid), for the quality page: gaps, conflicting duplicates and
    power-curve outliers (row-level, signal 'row'), and the per-signal out-of-range,
    frozen and spike flags. Every combination is present, with zero counts when nothing
    was flagged. Sums the daily counts of int_qc_flag_days_counted (kept incrementally)
    instead of the grid.
-#}
with

flag_days as (

    select * from {{ ref('int_qc_flag_days_counted') }}

),

counted as (

    select
        turbine_id,
        flag_type,
        signal,
        sum(period_count)::bigint as period_count,
        sum(flagged_count)::bigint as flagged_count
    from flag_days
    group by turbine_id, flag_type, signal

),

final as (

    select
        -- keys
        md5(turbine_id) as turbine_key,
        turbine_id,
        flag_type,
        signal,

        -- measures
        flagged_count,
        period_count,
        round(100.0 * flagged_count / period_count, 3) as pct_of_periods

    from counted

)

select * from final
