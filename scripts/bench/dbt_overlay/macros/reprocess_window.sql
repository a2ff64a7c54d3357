{#-
    The window an incremental run rebuilds, so that a day's run costs the same after a
    month or after years of history (scripts/bench: the benchmark's tuned variant).

    reprocess_from_date(relation) is the first day whose rows may have changed since
    `relation` was last built: the newest loaded day minus var('reprocess_days'), or the
    oldest day of any dlt load newer than the newest load `relation` holds (a reloaded or
    backfilled day), whichever is earlier. Both look-ups use the loader's indexes on
    raw.scada_measurements (measured_date) and (_dlt_load_id), so they cost the same
    whatever the history. Returns none on a full build (everything is rebuilt).

    Models write the days from reprocess_from_date - 1 and read one more day before that:
    the frozen-value runs of the QC need context, and a run crossing the window's first
    midnight may flip the flags of the last periods before it.
-#}
{% macro reprocess_from_date(relation) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set raw = source('scada', 'scada_measurements') -%}
    {#- two queries, so that the second compares with a literal: PostgreSQL estimates
        `> (select ...)` at a third of the table and would scan all of raw -#}
    {%- set seen_query -%}
        select coalesce(max(dlt_load_id), '0') from {{ relation }}
    {%- endset -%}
    {%- set seen = run_query(seen_query).columns[0].values()[0] -%}
    {%- set query -%}
        select least(
            (select max(measured_date) from {{ raw }}) - {{ var('reprocess_days', 3) }},
            (select min(measured_date) from {{ raw }} where _dlt_load_id > '{{ seen }}')
        ) - 1
    {%- endset -%}
    {%- set first_date = run_query(query).columns[0].values()[0] -%}
    {{ return(first_date) }}
{%- endmacro %}

{#- The rows of the window a model writes, as a where-clause condition. -#}
{% macro in_write_window(first_date, column='measured_date') -%}
    {%- if first_date is none -%}
        true
    {%- else -%}
        {{ column }} >= '{{ first_date }}'::date
    {%- endif -%}
{%- endmacro %}

{#- The rows a model reads: the write window and one day of context before it. -#}
{% macro in_read_window(first_date, column='measured_date') -%}
    {%- if first_date is none -%}
        true
    {%- else -%}
        {{ column }} >= '{{ first_date }}'::date - 1
    {%- endif -%}
{%- endmacro %}

{#-
    Tests of the big tables check, on a daily run, the days it can have changed: from
    env var WINDFARM_TEST_WINDOW_FROM, which the runner sets to the reprocess window's
    first day minus two (default: everything; `--vars '{full_tests: true}'` also checks
    everything: weekly, and after a backfill). A literal date, not a subquery: PostgreSQL
    estimates `>= (select ...)` at a third of the table and scans it all. A generic test's
    `where` config cannot call a project macro, so the YAML repeats this expression; an
    environment variable, unlike a --vars value, does not cost dbt its partial parsing.
-#}
{% macro recent_test_window(column='measured_date') -%}
    {%- if var('full_tests', false) -%}
        true
    {%- else -%}
        {{ column }} >= '{{ env_var("WINDFARM_TEST_WINDOW_FROM", "1900-01-01") }}'::date
    {%- endif -%}
{%- endmacro %}
