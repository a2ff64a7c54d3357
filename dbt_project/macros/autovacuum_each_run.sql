{#-
    Post-hook of every model (dbt_project.yml): an incremental table is vacuumed by
    autovacuum after each daily run rather than once its dead rows reach a fifth of it.
    delete+insert leaves the rewritten window's rows dead; with PostgreSQL's default
    (autovacuum_vacuum_scale_factor 0.2) a table of a year of the fleet (5 M rows) waits
    for a million dead rows, about two weeks of daily windows, and until then the next
    runs' index scans of the window read those dead entries too: a cost that would grow
    with the history. A fixed threshold of var('autovacuum_dead_rows') rows instead.
    Only written when the table's settings differ, so that a daily run does not queue
    behind a vacuum in progress for a lock it does not need. Nothing for other models.
-#}
{% macro autovacuum_each_run() -%}
{%- if config.get('materialized') == 'incremental' -%}
{%- set wanted = [
    'autovacuum_vacuum_scale_factor=0',
    'autovacuum_vacuum_threshold=' ~ var('autovacuum_dead_rows', 10000),
] -%}
do $$
begin
    if not exists (
        select from pg_catalog.pg_class
        where
            oid = '{{ this }}'::regclass
            and reloptions @> array['{{ wanted | join("', '") }}']
    ) then
        alter table {{ this }} set ({{ wanted | join(', ') }});
    end if;
end
$$
{%- endif -%}
{%- endmacro %}
