{#-
    The relation a generic test reads (overrides dbt's get_where_subquery). A test's own
    `where` config applies, and the tests of the big incremental tables check, on a
    daily run, only the days the run can have changed (both when a test has both: a
    `where` of its own must not make a test scan the history): from the invocation's
    test window (macros/test_window.sql: a literal date, recorded by an on-run-start
    hook before the build changes anything), on the
    column the model's meta `recent_tests_where` names (macro recent_test_window_of). The
    hourly ML tables rewrite the longest label horizon more (int_turbine_hours_labelled),
    so their tests start that much earlier. `--vars '{full_tests: true}'` checks everything
    (weekly, and after a backfill or a full refresh). One place instead of a `where` on
    every test: a generic test's `where` cannot call a project macro, and a value read at
    run time, unlike a --vars value that changes daily, keeps dbt's partial parsing.
    `offset 0` keeps the filtered rows a subquery of their own: merged into the test's
    query, PostgreSQL answered `measured_at is null` by walking the whole
    (turbine_id, measured_at) index, a cost that grows with the history.
-#}
{% macro get_where_subquery(relation) -%}
{%- set conditions = [
    config.get('where', ''), recent_test_window_of(relation)
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

{#-
    The recent-days condition on a big table's tests, or '' (everything): the model's
    meta `recent_tests_where` (set per folder in dbt_project.yml, or in a model's config),
    a condition in which {window_from} stands for the first day checked (a date literal)
    and {label_horizon_days} for the longest failure-label horizon, in days.
-#}
{% macro recent_test_window_of(relation) -%}
{#- the graph is known once dbt executes (not while it parses) -#}
{%- if not execute or var('full_tests', false) -%}
{{ return('') }}
{%- endif -%}
{%- set found = namespace(condition='') -%}
{%- for node in graph.nodes.values() -%}
{%- if node.resource_type == 'model'
    and node.alias == relation.identifier
    and node.schema == relation.schema -%}
{%- set found.condition = (node.config.meta or {}).get('recent_tests_where', '') -%}
{%- endif -%}
{%- endfor -%}
{%- if not found.condition -%}
{{ return('') }}
{%- endif -%}
{%- set window_from = test_window_from() -%}
{{ return(found.condition
    | replace('{window_from}', "'" ~ window_from ~ "'::date")
    | replace('{label_horizon_days}', failure_horizons_days() | max | string)) }}
{%- endmacro %}
