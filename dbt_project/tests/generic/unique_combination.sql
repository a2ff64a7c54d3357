{#-
    The combination of the given columns is unique in the model (composite keys).
    Fails with one row per duplicated combination.
      arguments:
        combination_of_columns: [turbine_id, measured_at]
-#}
{% test unique_combination(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(',\n        ') }},
    count(*) as n_rows
from {{ model }}
group by
    {{ combination_of_columns | join(',\n        ') }}
having count(*) > 1

{% endtest %}
