{#-
    Every non-null timestamp of the column starts a period of the given length counted
    from midnight UTC (10-minute periods start at :00, :10, ... :50). Fails with the
    offending rows.
      arguments:
        minutes: 10
-#}
{% test is_on_time_grid(model, column_name, minutes=10) %}

select *
from {{ model }}
where
    {{ column_name }} is not null
    and mod(extract(epoch from {{ column_name }}), {{ minutes * 60 }}) <> 0

{% endtest %}
