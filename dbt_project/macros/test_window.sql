{#-
    The days the tests of the big tables check (docs/architecture.md, "Incremental
    models"): on a daily run, only the days the build can have changed, so that a day's
    tests cost the same after a month or after years of history.

    The window must be known before the build changes anything (the models' bookmarks
    move as they build), and the tests read it as a literal date (PostgreSQL estimates
    `>= (select ...)` at a third of the table and scans it all). So an on-run-start hook
    (remember_test_window, dbt_project.yml) works it out from the reprocess rule
    (first_day_to_rewrite, macros/reprocess_window.sql: written once) and records it in
    intermediate.dbt_test_windows under the invocation's id; each test reads it when it
    is compiled, which dbt does just before running it (test_window_from). No second dbt
    command before the build: the rule, the window and the tests live in one invocation.
-#}

{#- The first day the tests check: the first day the build's incremental models can
    rewrite (the bookmark of core.fct_turbine_measurements, with the events) minus
    `margin_days`; none (every day) on a full refresh, or when there is no fact or no raw
    measurements yet (a first build checks every day). -#}
{% macro test_window_first_day(margin_days) -%}
{%- if flags.FULL_REFRESH -%}
{{ return(none) }}
{%- endif -%}
{%- set scada = graph_relation('source', 'scada', 'scada_measurements') -%}
{%- set fact = graph_relation('model', 'windfarm', 'fct_turbine_measurements') -%}
{%- set has_raw = adapter.get_relation(
    database=scada.database, schema=scada.schema, identifier=scada.identifier
) is not none -%}
{%- set built_fact = adapter.get_relation(
    database=fact.database, schema=fact.schema, identifier=fact.identifier
) -%}
{%- if not has_raw or built_fact is none -%}
{{ return(none) }}
{%- endif -%}
{%- set first_day = first_day_to_rewrite(built_fact, with_events=true) -%}
{%- if first_day is none -%}
{{ return(none) }}
{%- endif -%}
{{ return(first_day - modules.datetime.timedelta(days=margin_days)) }}
{%- endmacro %}


{#- A source or model of the project as a relation, found in dbt's graph: ref() and
    source() cannot be called from a hook (dbt would look for a dependency to infer), and
    the rule serves the hook and the models alike. `package` is the source's name for a
    source, the project's name for a model. -#}
{% macro graph_relation(resource_type, package, name) -%}
{%- set nodes = graph.sources if resource_type == 'source' else graph.nodes -%}
{%- for node in nodes.values() -%}
{%- if node.resource_type == resource_type and node.name == name and (
    node.source_name == package if resource_type == 'source' else node.package_name == package
) -%}
{{ return(api.Relation.create(
    database=node.database, schema=node.schema,
    identifier=node.identifier if resource_type == 'source' else node.alias
)) }}
{%- endif -%}
{%- endfor -%}
{{ exceptions.raise_compiler_error('no ' ~ resource_type ~ ' ' ~ package ~ '.' ~ name) }}
{%- endmacro %}


{#- The table the hook writes and the tests read. -#}
{% macro test_windows_table() -%}
{{ target.database }}.{{ generate_schema_name('intermediate', none) }}.dbt_test_windows
{%- endmacro %}


{#- on-run-start: records this invocation's first tested day (null: every day), no later
    than env var WINDFARM_TESTS_FROM_AT_MOST when set (Elementary's monitors read days of
    their own: loaders/reports/elementary.py), and says it in dbt's log. Rows older than a
    week are deleted. -#}
{% macro remember_test_window(margin_days) -%}
{%- if not execute -%}
{{ return('') }}
{%- endif -%}
{%- set first_day = test_window_first_day(margin_days) -%}
{%- set at_most = env_var('WINDFARM_TESTS_FROM_AT_MOST', '') -%}
{%- if first_day is not none and at_most -%}
{%- set first_day = [first_day, modules.datetime.date.fromisoformat(at_most)] | min -%}
{%- endif -%}
{%- do log(
    'test window from: ' ~ (first_day.isoformat() if first_day is not none else 'all'),
    info=true
) -%}
create table if not exists {{ test_windows_table() }} (
    invocation_id text primary key,
    window_from date,
    recorded_at timestamp with time zone not null default now()
);
delete from {{ test_windows_table() }} where recorded_at < now() - interval '7 days';
insert into {{ test_windows_table() }} (invocation_id, window_from)
values (
    '{{ invocation_id }}',
    {{ "'" ~ first_day.isoformat() ~ "'::date" if first_day is not none else 'null' }}
)
{%- endmacro %}


{#- The first day this invocation's tests check, as an ISO date: what the hook recorded,
    or 1900-01-01 (every day) when it recorded none or did not run (`dbt compile`). -#}
{% macro test_window_from() -%}
{%- if not execute -%}
{{ return('1900-01-01') }}
{%- endif -%}
{%- set exists_query -%}
select to_regclass('{{ test_windows_table() }}') is not null
{%- endset -%}
{%- if not run_query(exists_query).columns[0].values()[0] -%}
{{ return('1900-01-01') }}
{%- endif -%}
{%- set window_query -%}
select coalesce(max(window_from), '1900-01-01'::date)::text
from {{ test_windows_table() }}
where invocation_id = '{{ invocation_id }}'
{%- endset -%}
{{ return(run_query(window_query).columns[0].values()[0]) }}
{%- endmacro %}


{#- For a person: prints `test window from: <day>` (or `all`), the days the tests of the
    coming build would check. `dbt run-operation print_test_window_from --args
    '{margin_days: 2}'`. -#}
{% macro print_test_window_from(margin_days=0) -%}
{%- set first_day = test_window_first_day(margin_days) -%}
{%- do print(
    'test window from: ' ~ (first_day.isoformat() if first_day is not none else 'all')
) -%}
{%- endmacro %}


{#-
    The condition of the singular tests of the big tables: the days of this invocation's
    test window (test_window_from), or true with `--vars '{full_tests: true}'` (weekly,
    and after a backfill). The generic tests get the same condition from
    get_where_subquery (macros/get_where_subquery.sql).
-#}
{% macro recent_test_window(column='measured_date') -%}
{%- if var('full_tests', false) -%}
true
{%- else -%}
{{ column }} >= '{{ test_window_from() }}'::date
{%- endif -%}
{%- endmacro %}
