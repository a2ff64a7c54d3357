{#-
    None of the given columns is null, checked in one query (one test node instead of one
    per column: wide models such as the QC-flagged grid have dozens of flag columns).
    Fails with the offending rows and the names of their null columns.
      arguments:
        column_names: [is_gap, is_valid]
-#}
{% test columns_not_null(model, column_names) %}

select
    concat_ws(
        ', ',
        {% for column in column_names -%}
        case when {{ column }} is null then '{{ column }}' end{{ ',' if not loop.last }}
        {% endfor -%}
    ) as null_columns,
    *
from {{ model }}
where
    false
    {% for column in column_names -%}
    or {{ column }} is null
    {% endfor -%}

{% endtest %}
