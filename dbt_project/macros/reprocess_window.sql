{#-
    The window an incremental run rebuilds, so that a day's run costs the same after a
    month or after years of history (docs/architecture.md, "Incremental models").

    reprocess_from_date(relation, with_events) is the first day an incremental run of
    `relation` rewrites: the day before the earliest of
      - the newest loaded SCADA day minus var('reprocess_days');
      - the oldest SCADA day of any dlt load newer than the newest load `relation` holds
        (a late, reloaded or backfilled day);
      - with_events=true (models that use alarms, maintenance or weather): the oldest day
        an alarm, a maintenance intervention or a weather hour loaded after the model's
        last build starts on (a late alarm or intervention changes the operating state
        of the periods it covers); the build's time is that of its `analyze` post-hook.
      - `relation` has a turbine_id column: the oldest SCADA day of a turbine the
        configuration knows (int_turbines_registered) but `relation` holds no row of,
        i.e. a turbine whose rows were held aside until the configuration learnt it
        (quality_held_aside, docs/sources.md); found through the per-turbine counts of
        int_measurement_rows_days_counted and one index probe per registered turbine.
    The day before is rewritten too: a frozen-value run or a spike can cross midnight.
    The SCADA look-ups use the loader's indexes on raw.scada_measurements (measured_date)
    and (_dlt_load_id), so they cost the same whatever the history. Returns none on a
    full build (everything is rebuilt). `relation` must have a dlt_load_id column.

    `bookmark` (default: `relation` itself) names a table of the same schema whose newest
    dlt_load_id says what has been processed: a model that may hold no rows at all (the
    conflicts set aside) takes the bookmark of a model that runs after it and always has
    rows (a name, not a ref(): a ref would make the two models depend on each other).
-#}
{% macro reprocess_from_date(relation, with_events=false, bookmark=none) -%}
{#- a unit test has no relation (and builds the model in full) -#}
{%- if not execute or relation is none or not is_incremental() -%}
{{ return(none) }}
{%- endif -%}
{%- if bookmark is not none -%}
{%- set found = adapter.get_relation(
    database=relation.database, schema=relation.schema, identifier=bookmark
) -%}
{%- if found is none -%}
{{ return(none) }}
{%- endif -%}
{%- set relation = found -%}
{%- endif -%}
{{ return(first_day_to_rewrite(relation, with_events)) }}
{%- endmacro %}


{#- The rule itself, for an existing `relation` (see reprocess_from_date). -#}
{% macro first_day_to_rewrite(relation, with_events=false) -%}
{%- set scada = graph_relation('source', 'scada', 'scada_measurements') -%}
{#- two queries, so that the second compares with a literal: PostgreSQL estimates
    `> (select ...)` at a third of the table and would scan all of raw -#}
{%- set seen_query -%}
select coalesce(max(dlt_load_id), '0') from {{ relation }}
{%- endset -%}
{%- set seen = run_query(seen_query).columns[0].values()[0] -%}
{#- the newer loads' rows through the load-id index, then their oldest day (`offset 0`):
    left to itself, PostgreSQL walks the measured_date index from the oldest day until a
    row of a newer load turns up, i.e. through the whole history (0.8 s per model after a
    year, 8 ms this way) -#}
{%- set candidates = [
    '(select max(measured_date) from ' ~ scada ~ ') - ' ~ var('reprocess_days', 3),
    '(select min(measured_date) from (select measured_date from ' ~ scada
    ~ " where _dlt_load_id > '" ~ seen ~ "' offset 0) as newer_loads)",
] -%}
{%- set released = turbines_released_into(relation) -%}
{%- if released is not none -%}
{%- do candidates.append(released) -%}
{%- endif -%}
{%- if with_events -%}
{#- events: loads after the model's last build, i.e. its last `analyze` post-hook (the
    other sources load after the SCADA in a run, so the SCADA load id is too early a
    mark: yesterday's weather would look new every day) -#}
{%- set built_query -%}
select coalesce(
    to_char(extract(epoch from last_analyze), 'FM0000000000.000000'), '{{ seen }}'
)
from pg_stat_user_tables
where relid = '{{ relation }}'::regclass
{%- endset -%}
{%- set built_rows = run_query(built_query).columns[0].values() -%}
{%- set built = built_rows[0] if built_rows | length > 0 else seen -%}
{%- for source_name, table_name, column in [
    ('scada', 'scada_alarms', 'started_at'),
    ('production', 'maintenance_log', 'started_at'),
    ('weather', 'weather_hourly', 'observed_at'),
] -%}
{%- set event_source = graph_relation('source', source_name, table_name) -%}
{%- set event_table = adapter.get_relation(
    database=event_source.database,
    schema=event_source.schema,
    identifier=event_source.identifier
) -%}
{%- if event_table is not none -%}
{%- do candidates.append(
    "(select min((" ~ column ~ " at time zone 'UTC')::date) from "
    ~ event_table ~ " where _dlt_load_id > '" ~ built ~ "')"
) -%}
{%- endif -%}
{%- endfor -%}
{%- endif -%}
{%- set query -%}
select least({{ candidates | join(', ') }}) - 1
{%- endset -%}
{{ return(run_query(query).columns[0].values()[0]) }}
{%- endmacro %}


{#- The oldest SCADA day of the registered turbines `relation` holds no row of, as SQL
    (see first_day_to_rewrite); none when `relation` has no turbine_id or the tables it
    needs are not built yet. By name, not ref(): a ref at run time would have to be a
    declared dependency of every incremental model. -#}
{% macro turbines_released_into(relation) -%}
{%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
{%- if 'turbine_id' not in names -%}
{{ return(none) }}
{%- endif -%}
{%- set registered = adapter.get_relation(
    database=relation.database, schema='intermediate', identifier='int_turbines_registered'
) -%}
{%- set counted = adapter.get_relation(
    database=relation.database,
    schema='intermediate',
    identifier='int_measurement_rows_days_counted'
) -%}
{%- if registered is none or counted is none or counted.identifier == relation.identifier -%}
{{ return(none) }}
{%- endif -%}
{{ return(
    '(select min(measured_date) from ' ~ counted ~ ' where turbine_id in ('
    ~ 'select registered.turbine_id from ' ~ registered ~ ' as registered where not exists ('
    ~ 'select 1 from ' ~ relation ~ ' as published'
    ~ ' where published.turbine_id = registered.turbine_id)))'
) }}
{%- endmacro %}


{#- The rows of the window a model writes, as a where-clause condition on a date column
    (`days_before`: a window widened that many days before the reprocess window). -#}
{% macro in_write_window(first_date, column='measured_date', days_before=0) -%}
{%- if first_date is none -%}
        true
{%- else -%}
{{ column }} >= '{{ first_date }}'::date - ({{ days_before }})
{%- endif -%}
{%- endmacro %}


{#- The rows a model reads: the write window and `context_days` days before it. -#}
{% macro in_read_window(first_date, column='measured_date', context_days=1) -%}
{%- if first_date is none -%}
        true
{%- else -%}
{{ column }} >= '{{ first_date }}'::date - {{ context_days }}
{%- endif -%}
{%- endmacro %}
