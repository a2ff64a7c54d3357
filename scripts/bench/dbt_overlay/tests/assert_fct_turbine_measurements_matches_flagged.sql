-- The incremental fact holds exactly what a full rebuild would: the same rows as
-- int_measurements_flagged, column for column (rows in one and not the other fail).
-- scripts/bench overlay: the recent days on a daily run, everything with full_tests.
{% set column_list = ['turbine_id', 'measured_at', 'measured_date'] %}
{% for signal in measurement_signals() %}
{% do column_list.append(signal.column) %}
{% do column_list.append('is_out_of_range_' ~ signal.signal) %}
{% endfor %}
{% for signal in frozen_checked_signals() %}
{% do column_list.append('is_frozen_' ~ signal.signal) %}
{% endfor %}
{% do column_list.extend([
    'is_gap', 'source_row_count', 'has_duplicates', 'has_conflicting_duplicates',
    'qc_flag_count', 'is_valid', 'source_row_id', 'dlt_load_id'
]) %}
{% set columns = column_list | join(',\n        ') %}

with

expected as (

    select
        {{ columns }}
    from {{ ref('int_measurements_flagged') }}
    where {{ recent_test_window() }}

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
