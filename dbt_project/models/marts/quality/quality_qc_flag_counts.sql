{#-
    QC flags raised per turbine, by flag type and signal, over the turbine's loaded span
    (its 10-minute grid), for the quality page: gaps, conflicting duplicates and
    power-curve outliers (row-level, signal 'row'), and the per-signal out-of-range,
    frozen and spike flags. Every combination is present, with zero counts when nothing
    was flagged.
-#}
with

flagged as (

    select * from {{ ref('int_measurements_flagged') }}

),

flag_values as (

    select
        flagged.turbine_id,
        flags.flag_type,
        flags.signal,
        flags.is_flagged
    from flagged
    cross join lateral (
        values
        ('gap', 'row', flagged.is_gap),
        ('conflicting_duplicate', 'row', flagged.has_conflicting_duplicates),
        ('power_curve_outlier', 'row', flagged.is_power_curve_outlier),
        {%- for flag_type in qc_signal_flag_types() %}
        {%- set outer_last = loop.last %}
        {%- for signal in measurement_signals() %}
        (
            '{{ flag_type }}',
            '{{ signal.signal }}',
            flagged.is_{{ flag_type }}_{{ signal.signal }}
        ){{ ',' if not (outer_last and loop.last) }}
        {%- endfor %}
        {%- endfor %}
    ) as flags (flag_type, signal, is_flagged)

),

counted as (

    select
        turbine_id,
        flag_type,
        signal,
        count(*) as period_count,
        count(*) filter (where is_flagged) as flagged_count
    from flag_values
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
