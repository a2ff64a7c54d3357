-- The incremental fact holds exactly what a full rebuild would: the same rows as
-- int_measurements_flagged with the operating state of int_turbine_states_classified,
-- column for column (rows in one and not the other fail, and so do extra copies). On a
-- daily run, over the days the run can have changed (macro recent_test_window; var
-- full_tests: everything).
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

compared as (

    -- one grouping of both sides instead of two EXCEPT ALL: a row's copies in the
    -- expected rows count +1, in the fact -1; what does not sum to zero differs
    select
        {{ columns }},
        sum(side) as surplus
    from (
        select
            1 as side,
            {{ columns }}
        from expected
        union all
        select
            -1 as side,
            {{ columns }}
        from actual
    ) as both_sides
    group by
        {{ columns }}
    having sum(side) <> 0

)

select
    case
        when surplus > 0 then 'missing from the fact'
        else 'not in int_measurements_flagged'
    end as failure,
    abs(surplus) as row_copies,
    {{ columns }}
from compared
