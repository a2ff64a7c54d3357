{#-
    Every non-null value of the column lies within [min_value, max_value] (bounds
    optional; inclusive unless inclusive=false). Fails with the offending rows.
      arguments:
        min_value: 0
        max_value: 100
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

{% set lower_op = '<' if inclusive else '<=' %}
{% set upper_op = '>' if inclusive else '>=' %}
{#- A missing bound compares with null, which never selects a row. #}
{% set lower_bound = min_value if min_value is not none else 'null' %}
{% set upper_bound = max_value if max_value is not none else 'null' %}

select *
from {{ model }}
where
    {{ column_name }} {{ lower_op }} {{ lower_bound }}
    or {{ column_name }} {{ upper_op }} {{ upper_bound }}

{% endtest %}
