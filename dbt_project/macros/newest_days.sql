{#-
    The first of the newest `days` days of `relation` as a SQL date literal: its newest
    `column` (read through that column's index) minus days - 1; null::date when the
    relation is empty or dbt only parses. For a model that reads a fixed number of recent
    days whatever the history: a literal rather than `>= (select max(...) ...)`, which
    PostgreSQL estimates at a third of the table and answers by scanning the whole history
    (as reprocess_from_date).
-#}
{% macro newest_days_first_date(relation, days, column='measured_date') %}
{%- if execute -%}
{%- set found = run_query(
    'select max(' ~ column ~ ') - ' ~ (days - 1) ~ ' from ' ~ relation
).columns[0].values()[0] -%}
{%- if found is not none -%}
{{ return("'" ~ found ~ "'::date") }}
{%- endif -%}
{%- endif -%}
{{ return('null::date') }}
{% endmacro %}
