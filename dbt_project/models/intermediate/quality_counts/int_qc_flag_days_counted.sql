{#-
    QC flags raised per turbine, UTC day, flag type and signal (the row-level gap,
    conflicting-duplicate and power-curve flags under signal 'row'), kept incrementally
    (delete+insert by measured_date over the reprocess window), so that
    quality_qc_flag_counts sums days instead of rescanning the whole grid every run.

    Every flag is counted in one pass per turbine and day, then the few day rows are
    unpivoted: unpivoting first made one row per flag and 10-minute period (36 per period,
    about 520,000 per day of 100 turbines) for the aggregate to group again.
-#}
{%- set first_date = reprocess_from_date(this) %}
{%- set flags = [
    {'flag_type': 'gap', 'signal': 'row', 'column': 'is_gap'},
    {'flag_type': 'conflicting_duplicate', 'signal': 'row',
     'column': 'has_conflicting_duplicates'},
    {'flag_type': 'power_curve_outlier', 'signal': 'row', 'column': 'is_power_curve_outlier'},
] %}
{%- for flag_type in qc_signal_flag_types() %}
{%- for signal in measurement_signals() %}
{%- do flags.append({
    'flag_type': flag_type,
    'signal': signal.signal,
    'column': 'is_' ~ flag_type ~ '_' ~ signal.signal,
}) %}
{%- endfor %}
{%- endfor %}

with

flagged as (

    select * from {{ ref('int_measurements_flagged') }}
    where {{ in_write_window(first_date) }}

),

turbine_days as (

    select
        turbine_id,
        measured_date,
        count(*) as period_count,
        {%- for flag in flags %}
        count(*) filter (where {{ flag.column }}) as {{ flag.column }}_count,
        {%- endfor %}
        max(dlt_load_id) as dlt_load_id
    from flagged
    group by turbine_id, measured_date

),

counted as (

    select
        -- keys
        turbine_days.turbine_id,
        turbine_days.measured_date,
        flag_counts.flag_type,
        flag_counts.signal,

        -- measures
        turbine_days.period_count,
        flag_counts.flagged_count,

        -- metadata
        turbine_days.dlt_load_id

    from turbine_days
    cross join lateral (
        values
        {%- for flag in flags %}
        (
            '{{ flag.flag_type }}',
            '{{ flag.signal }}',
            turbine_days.{{ flag.column }}_count
        ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as flag_counts (flag_type, signal, flagged_count)

)

select * from counted
