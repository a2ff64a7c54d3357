{#-
    The quality page's QC flags and power curve cover the fact's newest this many days
    (a month, whatever the calendar): what a morning's check is about, at a cost that
    does not grow with the history. A macro rather than a var, so that the monitoring
    project, which repeats the main project's vars, needs no copy of it.
-#}
{% macro quality_recent_days() %}
{{ return(31) }}
{% endmacro %}

{#-
    The first of those days as a SQL date literal: the newest measured day of `fact`
    (its measured_date index) minus quality_recent_days() - 1; null::date when the fact
    is empty or dbt only parses. A literal rather than `>= (select ...)`, which PostgreSQL
    estimates at a third of the table and answers by scanning the whole history (as
    reprocess_from_date).
-#}
{% macro quality_recent_first_date(fact) %}
{%- if execute -%}
{%- set found = run_query(
    'select max(measured_date) - ' ~ (quality_recent_days() - 1) ~ ' from ' ~ fact
).columns[0].values()[0] -%}
{%- if found is not none -%}
{{ return("'" ~ found ~ "'::date") }}
{%- endif -%}
{%- endif -%}
{{ return('null::date') }}
{% endmacro %}
