{#-
    The two halves of "which source row stands for a period", shared by
    int_measurements_deduplicated (keeps it) and int_measurement_conflicts_set_aside
    (marks it is_kept among the versions set aside): one definition, so that the row kept
    and the row marked kept can never differ.
-#}

{#- SQL: a fingerprint of a staged row's signal values (equal values, equal prints). -#}
{% macro signal_fingerprint() -%}
{%- set columns = signal_statistic_columns() -%}
md5(row({{ columns | join(', ') }})::text)
{%- endmacro %}

{#- SQL: the order of a period's source rows, the kept one first: written last in the
    source (highest source_row_id), then by table, values and dlt id so that the choice
    is deterministic. `relation` prefixes the columns when given. -#}
{% macro kept_version_first(relation=none) -%}
{%- set p = (relation ~ '.') if relation else '' -%}
{{ p }}source_row_id desc nulls last,
{{ p }}source_table asc,
{{ p }}signal_fingerprint asc,
{{ p }}dlt_id asc
{%- endmacro %}
