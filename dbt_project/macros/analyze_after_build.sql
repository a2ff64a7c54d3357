{#-
    Post-hook of every model (dbt_project.yml), for the incremental ones only: fresh planner statistics after each build.
    Neither `create table as` nor delete+insert collects any, and without them PostgreSQL
    estimates a third of the table for every `measured_date >= …` and scans it all.

    A table the first time it exists (a first build, or a full refresh, which creates a
    new table) gets statistics of every column. Afterwards only the columns queries
    search and join by are analyzed: the model's unique key and the columns of its
    indexes. Why: ANALYZE of every column took 7 s of a daily build's statements on the
    bench's month and 10 s on its year (1.0–2.0 s per wide table: the ML mart, the
    facts), nearly all of it the statistics of measures no query searches on, whose
    distribution one day does not change. Those keep the statistics of the last full
    analyze (and of autovacuum's, where it runs). Every ANALYZE updates the table's row
    count and last_analyze, which macros/reprocess_window.sql reads as the build's time.
    A model with neither a unique key nor indexes is analyzed whole. Nothing for the
    other models.
-#}
{% macro analyze_after_build() -%}
{%- if config.get('materialized') != 'incremental' -%}
{{ return('') }}
{%- endif -%}
{%- set columns = [] -%}
{%- set unique_key = config.get('unique_key') -%}
{%- for column in ([unique_key] if unique_key is string else (unique_key or [])) -%}
{%- if column not in columns -%}{%- do columns.append(column) -%}{%- endif -%}
{%- endfor -%}
{%- for index in config.get('indexes') or [] -%}
{%- for column in index['columns'] -%}
{%- if column not in columns -%}{%- do columns.append(column) -%}{%- endif -%}
{%- endfor -%}
{%- endfor -%}
{%- if not columns -%}
analyze {{ this }}
{%- else -%}
do $$
begin
    if exists (
        select from pg_catalog.pg_stat_user_tables
        where
            relid = '{{ this }}'::regclass
            and coalesce(last_analyze, last_autoanalyze) is not null
    ) then
        analyze {{ this }} ({{ columns | join(', ') }});
    else
        analyze {{ this }};
    end if;
end
$$
{%- endif -%}
{%- endmacro %}
