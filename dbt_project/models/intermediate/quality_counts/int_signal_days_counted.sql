{#-
    Completeness counts per turbine, critical signal and UTC day of the 10-minute grid,
    kept incrementally (delete+insert by measured_date over the reprocess window), so
    that quality_completeness sums days instead of rescanning the whole grid every run.

    Every signal is counted in one pass per turbine and day, then the few day rows are
    unpivoted (as int_qc_flag_days_counted: not one row per signal and period to group).
-#}
{%- set first_date = reprocess_from_date(this) %}

with

flagged as (

    select * from {{ ref('int_measurements_flagged') }}
    where {{ in_write_window(first_date) }}

),

turbine_days as (

    select
        turbine_id,
        measured_date,
        count(*) as expected_periods,
        count(*) filter (where not is_gap) as present_periods,
        {%- for signal in critical_signals() %}
        {%- set flag_columns = [] %}
        {%- for flag_type in qc_signal_flag_types() %}
        {%- do flag_columns.append('is_' ~ flag_type ~ '_' ~ signal.signal) %}
        {%- endfor %}
        {%- set is_flagged = '(' ~ flag_columns | join(' or ') ~ ')' %}
        count({{ signal.column }}) as {{ signal.signal }}_non_null_count,
        count(*) filter (where {{ is_flagged }}) as {{ signal.signal }}_flagged_count,
        count(*) filter (
            where {{ signal.column }} is not null and not {{ is_flagged }}
        ) as {{ signal.signal }}_valid_count,
        {%- endfor %}
        min(measured_at) as first_period_at,
        max(measured_at) as last_period_at,
        max(dlt_load_id) as dlt_load_id
    from flagged
    group by turbine_id, measured_date

),

counted as (

    select
        -- keys
        turbine_days.turbine_id,
        turbine_days.measured_date,
        signal_counts.signal,

        -- measures
        turbine_days.expected_periods,
        turbine_days.present_periods,
        signal_counts.non_null_count,
        signal_counts.flagged_count,
        signal_counts.valid_count,

        -- attributes
        turbine_days.first_period_at,
        turbine_days.last_period_at,

        -- metadata
        turbine_days.dlt_load_id

    from turbine_days
    cross join lateral (
        values
        {%- for signal in critical_signals() %}
        (
            '{{ signal.signal }}',
            turbine_days.{{ signal.signal }}_non_null_count,
            turbine_days.{{ signal.signal }}_flagged_count,
            turbine_days.{{ signal.signal }}_valid_count
        ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as signal_counts (signal, non_null_count, flagged_count, valid_count)

)

select * from counted
