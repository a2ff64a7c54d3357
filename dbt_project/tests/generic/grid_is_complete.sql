{#-
    The model is a complete time grid: for each entity (turbine), every UTC day between
    its first and last day is present, each with exactly periods_per_day distinct,
    aligned periods (144 for 10-minute data). Fails with one row per faulty
    entity-day (or per entity with missing days).
      arguments:
        entity_column: turbine_id
        timestamp_column: measured_at
        periods_per_day: 144
-#}
{% test grid_is_complete(model, entity_column, timestamp_column, periods_per_day=144) %}

{% set period_seconds = (86400 // periods_per_day) %}

with

periods as (

    select
        {{ entity_column }} as entity_id,
        {{ timestamp_column }} as period_at,
        ({{ timestamp_column }} at time zone 'UTC')::date as period_date
    from {{ model }}

),

days as (

    select
        entity_id,
        period_date,
        count(*) as n_rows,
        count(distinct period_at) as n_periods,
        count(*) filter (
            where mod(extract(epoch from period_at), {{ period_seconds }}) <> 0
        ) as n_misaligned
    from periods
    group by entity_id, period_date

),

spans as (

    select
        entity_id,
        count(*) as n_days,
        max(period_date) - min(period_date) + 1 as n_days_expected
    from days
    group by entity_id

)

select
    entity_id,
    period_date,
    'expected {{ periods_per_day }} aligned distinct periods, got '
    || n_rows || ' rows, ' || n_periods || ' distinct, '
    || n_misaligned || ' misaligned' as failure
from days
where
    n_rows <> {{ periods_per_day }}
    or n_periods <> {{ periods_per_day }}
    or n_misaligned > 0

union all

select
    entity_id,
    null as period_date,
    'expected ' || n_days_expected || ' days, got ' || n_days as failure
from spans
where n_days <> n_days_expected

{% endtest %}
