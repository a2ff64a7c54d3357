{#-
    No value published in core lies outside the physical bounds of the plausibility_bounds
    seed (docs/quality.md): the weather hours and the daily production exports, each
    measure against its bounds (the energy's scaled by the turbine's rated power). Read
    from the marts themselves, independently of the models that null such values.
-#}
with

weather as (

    select * from {{ ref('fct_weather_hourly') }}

),

production as (

    select * from {{ ref('fct_daily_production') }}

),

turbines as (

    select * from {{ ref('dim_turbine') }}

),

bounds as (

    select * from {{ ref('plausibility_bounds') }}

),

published as (

    {%- for measure in plausibility_measures('weather') %}
    select
        'weather' as source_name,
        '{{ measure }}' as measure,
        weather.site_code || ' ' || weather.observed_at::text as row_location,
        weather.{{ measure }} as published_value,
        null::double precision as rated_power_kw
    from weather
    union all
    {%- endfor %}
    {%- for measure in plausibility_measures('production') %}
    select
        'production' as source_name,
        '{{ measure }}' as measure,
        production.turbine_id || ' ' || production.production_date::text as row_location,
        production.{{ measure }} as published_value,
        turbines.rated_power_kw
    from production
    left join turbines
        on production.turbine_key = turbines.turbine_key
    {{ 'union all' if not loop.last }}
    {%- endfor %}

)

select
    published.source_name,
    published.measure,
    published.row_location,
    published.published_value
from published
inner join bounds
    on
        published.source_name = bounds.source_name
        and published.measure = bounds.measure
where
    published.published_value < bounds.min_value
    or published.published_value > least(
        bounds.max_value, published.rated_power_kw * bounds.max_hours_at_rated_power
    )
