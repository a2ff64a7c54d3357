{#-
    The relation a generic test reads (overrides dbt's get_where_subquery). A test's own
    `where` config applies, and the tests of the big incremental tables check, on a
    daily run, only the days the run can have changed (both when a test has both: a
    `where` of its own must not make a test scan the history): from env var
    WINDFARM_TEST_WINDOW_FROM (a literal date; loaders/transform/dbt.py sets it to the
    reprocess window's first day minus two; default 1900-01-01: everything). The hourly
    ML tables rewrite the longest label horizon more (int_turbine_hours_labelled), so
    their tests start that much earlier. `--vars '{full_tests: true}'` checks everything
    (weekly, and after a backfill or a full refresh). One place instead of a `where` on
    every test: a generic test's `where` cannot call a project macro, and an environment
    variable, unlike a --vars value that changes daily, keeps dbt's partial parsing.
    `offset 0` keeps the filtered rows a subquery of their own: merged into the test's
    query, PostgreSQL answered `measured_at is null` by walking the whole
    (turbine_id, measured_at) index, a cost that grows with the history.
-#}
{% macro get_where_subquery(relation) -%}
{%- set conditions = [
    config.get('where', ''), recent_test_window_of(relation.identifier)
] | select | list -%}
{%- if conditions -%}
{%- set filtered -%}
            (
                select * from {{ relation }}
                where ({{ conditions | join(') and (') }})
                offset 0
            ) dbt_subquery
{%- endset -%}
{{ return(filtered) }}
{%- else -%}
{{ return(relation) }}
{%- endif -%}
{%- endmacro %}

{#- The recent-days condition on a big table's tests, or '' (everything). -#}
{% macro recent_test_window_of(identifier) -%}
{%- if var('full_tests', false) -%}
{{ return('') }}
{%- endif -%}
{%- set by_measured_date = [
    'stg_scada__measurements',
    'int_measurement_conflicts_set_aside',
    'int_measurements_deduplicated',
    'int_measurements_gridded',
    'int_measurements_flagged',
    'int_measurements_weather_joined',
    'int_turbine_states_classified',
    'fct_turbine_measurements',
    'int_signal_days_counted',
    'int_qc_flag_days_counted',
    'int_wind_speed_days_binned',
    'int_measurement_rows_days_counted',
] -%}
{%- set by_hour_date = ['int_turbine_hours_aggregated', 'fct_turbine_hourly'] -%}
{%- set window_from = env_var('WINDFARM_TEST_WINDOW_FROM', '1900-01-01') -%}
{%- set longest = failure_horizons_days() | max -%}
{%- if identifier in by_measured_date -%}
{{ return("measured_date >= '" ~ window_from ~ "'::date") }}
{%- elif identifier in by_hour_date -%}
{{ return("hour_date >= '" ~ window_from ~ "'::date") }}
{%- elif identifier == 'int_turbine_local_days_measured' -%}
{{ return("local_date >= '" ~ window_from ~ "'::date") }}
{%- elif identifier == 'int_turbine_hours_labelled' -%}
{{ return("hour_date >= '" ~ window_from ~ "'::date - " ~ longest) }}
{%- elif identifier == 'ml_turbine_hourly_features' -%}
{{ return(
    "date_key >= to_char('" ~ window_from ~ "'::date - " ~ longest ~ ", 'YYYYMMDD')::integer"
) }}
{%- endif -%}
{{ return('') }}
{%- endmacro %}
