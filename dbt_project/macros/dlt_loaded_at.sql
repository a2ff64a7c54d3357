{#-
    dlt's load id is the load's start time as a unix epoch in a string
    ("1761590000.123456"); this turns it into a timestamptz (UTC).
-#}
{% macro dlt_loaded_at(load_id_column) -%}
to_timestamp(({{ load_id_column }})::double precision)
{%- endmacro %}
