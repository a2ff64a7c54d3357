{#-
    Every `__rejected` table of the raw schema, found when the model builds (dlt creates
    one with its first rejected row, for any source and table), as a list of
    {relation, reason, load_id, location}: SQL for its reason, its dlt load id and where
    to find a row (file:line for a CSV export, 'row <id>' for a sensor database row, the
    request for an API answer), null where the table lacks the column. Empty when dbt
    only parses the project.
-#}
{% macro raw_rejected_tables(raw_schema) %}
{%- set tables = [] %}
{%- if execute %}
{%- set found = run_query(
    "select table_name from information_schema.tables where table_schema = '"
    ~ raw_schema ~ "' and table_name like '%\\_\\_rejected' order by table_name"
) %}
{%- for row in found %}
{%- set relation = adapter.get_relation(
    database=target.database, schema=raw_schema, identifier=row[0]
) %}
{%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list %}
{%- if '_source_file' in columns and '_source_line' in columns %}
{%- set location = "_source_file || ':' || _source_line::text" %}
{%- elif 'source_row_id' in columns %}
{%- set location = "'row ' || source_row_id::text" %}
{%- elif '_request' in columns %}
{%- set location = '_request::text' %}
{%- else %}
{%- set location = 'null::text' %}
{%- endif %}
{%- do tables.append({
    'relation': relation,
    'reason': 'reason' if 'reason' in columns else 'null::text',
    'load_id': '_dlt_load_id' if '_dlt_load_id' in columns else 'null::text',
    'location': location,
}) %}
{%- endfor %}
{%- endif %}
{{ return(tables) }}
{% endmacro %}
