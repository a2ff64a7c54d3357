{#-
    Rows the loaders rejected, per raw `__rejected` table, reason and dlt load, with one
    place to find an example. Every `__rejected` table present in the raw schema is read
    (macro raw_rejected_tables): none may be missed by the page that says nothing is
    lost, and the staging models know only the tables that were expected.
-#}
{%- set rejected_tables = raw_rejected_tables(source('scada', 'scada_measurements').schema) %}
with

{%- for table in rejected_tables %}

{{ table.relation.identifier }} as (

    select
        '{{ table.relation.schema }}.{{ table.relation.identifier }}' as rejected_table,
        {{ table.reason }} as reason,
        {{ table.load_id }} as dlt_load_id,
        {{ table.location }} as example_location
    from {{ table.relation }}

),
{%- endfor %}

rejected as (

    {%- for table in rejected_tables %}
    select * from {{ table.relation.identifier }}
    {{ 'union all' if not loop.last }}
    {%- else %}
    select
        null::text as rejected_table,
        null::text as reason,
        null::text as dlt_load_id,
        null::text as example_location
    where false
    {%- endfor %}

),

final as (

    select
        -- keys
        rejected_table,
        coalesce(reason, '(no reason given)') as reason,
        dlt_load_id,

        -- measures
        count(*) as row_count,

        -- attributes
        min(example_location) as example_location,
        {{ dlt_loaded_at('dlt_load_id') }} as loaded_at

    from rejected
    group by rejected_table, coalesce(reason, '(no reason given)'), dlt_load_id

)

select * from final
