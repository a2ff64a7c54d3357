{#-
    The weather hours as staged, each measure checked against the physical bounds of the
    plausibility_bounds seed (source 'weather'): an implausible value (900 °C, a negative
    wind speed, 5 hPa...) is set to null and its row flagged (is_implausible_<measure>,
    implausible_measures), so it never reaches core or ml as if it were true; the row is
    kept, with its other values. Staging keeps the value as received.
    Rebuilt whole on each run: one row per site and hour.
-#}
{%- set measures = plausibility_measures('weather') %}
{{
    config(
        indexes=[
            {'columns': ['site_code', 'observed_at']},
            {'columns': ['observed_date']},
        ]
    )
}}

with

weather as (

    select * from {{ ref('stg_weather__hourly') }}

),

plausibility_bounds as (

    select * from {{ ref('plausibility_bounds') }}

),

-- the seed's rows for this source as one row: <measure>_min, <measure>_max, ...
bounds as (

    {{ plausibility_bounds_row('weather', measures, 'plausibility_bounds') | indent(4) }}

),

checked as (

    select
        {%- for measure in measures %}
        {{ is_implausible(measure, 'weather', 'bounds') }} as is_implausible_{{ measure }},
        {%- endfor %}
        weather.*
    from weather
    cross join bounds

),

final as (

    select
        -- keys
        site_code,
        observed_at,
        observed_date,

        -- location of the request
        latitude,
        longitude,

        -- measures, null where implausible, and the flags that say which
        {{ plausibility_published_columns(measures) }},

        -- metadata: origin of the row
        source_request,
        dlt_load_id,
        dlt_id

    from checked

)

select * from final
