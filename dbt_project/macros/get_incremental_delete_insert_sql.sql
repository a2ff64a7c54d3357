{#-
    delete+insert for the incremental models (overrides dbt's): before the delete, the
    smallest key the new rows hold (their first day) is read from the temporary table and
    added to the delete as a literal, `key >= '<first day>'`, so that PostgreSQL plans
    the delete as an index range on the day column instead of a join over the whole table
    (a subquery there is estimated at a third of the table). incremental_predicates cannot
    carry it: a model's config is rendered when dbt parses the project, before any
    window is known.
-#}
{% macro get_incremental_delete_insert_sql(arg_dict) -%}
{%- set unique_key = arg_dict['unique_key'] -%}
{%- set predicates = (arg_dict['incremental_predicates'] or []) | list -%}
{%- if execute and unique_key is string -%}
{%- set first_key_query -%}
select min({{ unique_key }})::text from {{ arg_dict['temp_relation'] }}
{%- endset -%}
{%- set first_key = run_query(first_key_query).columns[0].values()[0] -%}
{%- if first_key is not none -%}
{%- do predicates.append("DBT_INTERNAL_DEST." ~ unique_key ~ " >= '" ~ first_key ~ "'") -%}
{%- endif -%}
{%- endif -%}
{{ return(get_delete_insert_merge_sql(
    arg_dict['target_relation'],
    arg_dict['temp_relation'],
    unique_key,
    arg_dict['dest_columns'],
    predicates
)) }}
{%- endmacro %}
