{#-
    Custom schemas are used as they are (staging, intermediate, core, ml, quality,
    reference), not prefixed with the target schema as dbt does by default. A node
    without a custom schema goes to the target schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
{%- if custom_schema_name is none -%}
{{ target.schema }}
{%- else -%}
{{ custom_schema_name | trim }}
{%- endif -%}
{%- endmacro %}
