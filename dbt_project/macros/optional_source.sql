{#-
    A source table that may not exist yet. dlt creates a table with its first row, so a
    `__rejected` table is missing until something is rejected; nothing rejected is not
    an error. Renders the relation when it exists, else an empty, aliased row set of the
    given columns ({name: type}), so the models over it still build.
-#}
{% macro optional_source(source_name, table_name, columns) -%}
{%- set relation = source(source_name, table_name) -%}
{%- set found = adapter.get_relation(
    database=relation.database, schema=relation.schema, identifier=relation.identifier
) if execute else relation -%}
{%- if found is none -%}
(select
{%- for name, type in columns.items() %} null::{{ type }} as {{ name }}{{ ',' if not loop.last }}
{%- endfor %} where false) as {{ table_name }}
{%- else -%}
{{ relation }}
{%- endif -%}
{%- endmacro %}

{#- Columns of the CSV loaders' rejected tables. -#}
{% macro csv_rejected_columns() -%}
{{ return({
    '_source_file': 'text', '_source_line': 'bigint', '_source_file_sha256': 'text',
    'raw_line': 'text', 'reason': 'text', '_dlt_load_id': 'text', '_dlt_id': 'text',
}) }}
{%- endmacro %}

{#- Columns of the production CSV loader's clean tables (loaders/sources/production_csv,
    specs.py: text, double, date and timestamp hints), for a warehouse that never
    received a CSV export. -#}
{% macro production_daily_columns() -%}
{{ return({
    'production_date': 'date', 'turbine_id': 'text', 'energy_kwh': 'double precision',
    'availability_pct': 'double precision', 'operating_hours': 'double precision',
    '_source_file': 'text', '_source_line': 'bigint', '_source_file_sha256': 'text',
    '_dlt_load_id': 'text', '_dlt_id': 'text',
}) }}
{%- endmacro %}

{% macro maintenance_log_columns() -%}
{{ return({
    'intervention_id': 'text', 'turbine_id': 'text', 'started_at': 'timestamptz',
    'ended_at': 'timestamptz', 'intervention_type': 'text', 'component': 'text',
    'description': 'text', 'technician_pseudonym': 'text',
    'technician_email_pseudonym': 'text', '_source_file': 'text', '_source_line': 'bigint',
    '_source_file_sha256': 'text', '_dlt_load_id': 'text', '_dlt_id': 'text',
}) }}
{%- endmacro %}

{#- Columns of the sensor database's optional tables (loaders/sources/sensor_db): a
    historian without a turbine registry or an alarm table (docs/sources.md). -#}
{% macro scada_turbines_columns() -%}
{{ return({
    'turbine_id': 'text', 'turbine_name': 'text', 'site_code': 'text', 'site_name': 'text',
    'model': 'text', 'manufacturer': 'text', 'rated_power_kw': 'double precision',
    'hub_height_m': 'double precision', 'rotor_diameter_m': 'double precision',
    'latitude': 'double precision', 'longitude': 'double precision',
    'commissioned_on': 'date', '_source_table': 'text', '_dlt_load_id': 'text',
    '_dlt_id': 'text',
}) }}
{%- endmacro %}

{% macro scada_alarms_columns() -%}
{{ return({
    'source_row_id': 'bigint', 'turbine_id': 'text', 'alarm_code': 'text',
    'started_at': 'timestamptz', 'ended_at': 'timestamptz',
    'acknowledged_by_pseudonym': 'text', 'started_date': 'date', '_source_table': 'text',
    '_dlt_load_id': 'text', '_dlt_id': 'text',
}) }}
{%- endmacro %}

{#- Columns of the weather loader's table (loaders/sources/weather_api), for a warehouse
    whose weather has not landed yet. -#}
{% macro weather_hourly_columns() -%}
{{ return({
    'site_code': 'text', 'latitude': 'double precision', 'longitude': 'double precision',
    'observed_at': 'timestamptz', 'observed_date': 'date',
    'temperature_2m': 'double precision', 'relative_humidity_2m': 'double precision',
    'surface_pressure': 'double precision', 'precipitation': 'double precision',
    'wind_speed_10m': 'double precision', 'wind_direction_10m': 'double precision',
    'wind_gusts_10m': 'double precision', '_request': 'text', '_dlt_load_id': 'text',
    '_dlt_id': 'text',
}) }}
{%- endmacro %}
