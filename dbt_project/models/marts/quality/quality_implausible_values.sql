{#-
    Implausible values of the production exports and the weather, per source and measure,
    for the quality page: the rows checked, those whose value was outside the bounds of
    the plausibility_bounds seed (set to null in core and ml, the row flagged), and where
    to find one in staging. Every seed row and every checked measure is present, with
    zero counts when nothing was implausible. The SCADA's out-of-range values are counted
    per turbine in quality_qc_flag_counts.
-#}
{%- set weather_measures = plausibility_measures('weather') %}
{%- set production_measures = plausibility_measures('production') %}

with

weather as (

    select * from {{ ref('int_weather_hours_checked') }}

),

production as (

    select * from {{ ref('int_daily_production_checked') }}

),

plausibility_bounds as (

    select * from {{ ref('plausibility_bounds') }}

),

weather_counted as (

    select
        {%- for measure in weather_measures %}
        count(*) filter (where is_implausible_{{ measure }}) as {{ measure }}_count,
        min(
            site_code || ' ' || to_char(observed_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI')
        ) filter (where is_implausible_{{ measure }}) as {{ measure }}_example,
        {%- endfor %}
        count(*) as checked_row_count
    from weather

),

production_counted as (

    select
        {%- for measure in production_measures %}
        count(*) filter (where is_implausible_{{ measure }}) as {{ measure }}_count,
        min(source_file || ':' || source_line) filter (
            where is_implausible_{{ measure }}
        ) as {{ measure }}_example,
        {%- endfor %}
        count(*) as checked_row_count
    from production

),

weather_measures as (

    select
        'weather' as source_name,
        measures.measure,
        weather_counted.checked_row_count,
        measures.implausible_count,
        measures.example_location
    from weather_counted
    cross join lateral (
        values
        {%- for measure in weather_measures %}
        (
            '{{ measure }}',
            weather_counted.{{ measure }}_count,
            weather_counted.{{ measure }}_example
        ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as measures (measure, implausible_count, example_location)

),

production_measures as (

    select
        'production' as source_name,
        measures.measure,
        production_counted.checked_row_count,
        measures.implausible_count,
        measures.example_location
    from production_counted
    cross join lateral (
        values
        {%- for measure in production_measures %}
        (
            '{{ measure }}',
            production_counted.{{ measure }}_count,
            production_counted.{{ measure }}_example
        ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as measures (measure, implausible_count, example_location)

),

counted as (

    select * from weather_measures
    union all
    select * from production_measures

),

final as (

    select
        -- keys
        coalesce(plausibility_bounds.source_name, counted.source_name) as source_name,
        coalesce(plausibility_bounds.measure, counted.measure) as measure,

        -- the bounds
        plausibility_bounds.min_value,
        plausibility_bounds.max_value,
        plausibility_bounds.max_hours_at_rated_power,
        plausibility_bounds.unit,

        -- measures
        counted.checked_row_count,
        counted.implausible_count,
        round(
            100.0 * counted.implausible_count / nullif(counted.checked_row_count, 0), 3
        ) as pct_of_rows,

        -- attributes
        counted.example_location

    from plausibility_bounds
    full outer join counted
        on
            plausibility_bounds.source_name = counted.source_name
            and plausibility_bounds.measure = counted.measure

)

select * from final
