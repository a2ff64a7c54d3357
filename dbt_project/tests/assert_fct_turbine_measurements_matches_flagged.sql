-- The incremental fact holds exactly what a full rebuild would: the same rows as
-- int_measurements_flagged with the operating state of int_turbine_states_classified,
-- column for column (rows in one and not the other fail). On a daily run, over the days
-- the run can have changed (macro recent_test_window; var full_tests: everything).
{% set column_list = ['turbine_id', 'measured_at', 'measured_date', 'expected_power_kw'] %}
{% for signal in measurement_signals() %}
{% do column_list.append(signal.column) %}
{% for flag_type in qc_signal_flag_types() %}
{% do column_list.append('is_' ~ flag_type ~ '_' ~ signal.signal) %}
{% endfor %}
{% endfor %}
{% do column_list.extend([
    'is_gap', 'source_row_count', 'has_duplicates', 'has_conflicting_duplicates',
    'is_power_curve_outlier', 'qc_flag_count', 'is_valid', 'source_row_id', 'dlt_load_id',
    'operating_state'
]) %}
{% set columns = column_list | join(',\n        ') %}

with

expected as (

    select
        {{ columns }}
    from (
        select
            flagged.*,
            states.operating_state
        from {{ ref('int_measurements_flagged') }} as flagged
        inner join {{ ref('int_turbine_states_classified') }} as states
            on
                flagged.turbine_id = states.turbine_id
                and flagged.measured_at = states.measured_at
        where
            {{ recent_test_window('flagged.measured_date') }}
            and {{ recent_test_window('states.measured_date') }}
    ) as flagged_with_states

),

actual as (

    select
        {{ columns }}
    from {{ ref('fct_turbine_measurements') }}
    where {{ recent_test_window() }}

),

missing as (

    select
        'missing from the fact' as failure,
        {{ columns }}
    from (
        select * from expected
        except all
        select * from actual
    ) as missing_rows

),

unexpected as (

    select
        'not in int_measurements_flagged' as failure,
        {{ columns }}
    from (
        select * from actual
        except all
        select * from expected
    ) as unexpected_rows

)

select * from missing
union all
select * from unexpected
