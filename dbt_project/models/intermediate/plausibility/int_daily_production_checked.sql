{#-
    The production exports' daily rows as staged, each measure checked against the
    physical bounds of the plausibility_bounds seed (source 'production'): an implausible
    value (negative energy, more energy than the turbine's rated power can give in a day,
    availability over 100 %...) is set to null and its row flagged
    (is_implausible_<measure>, implausible_measures), so it never reaches core as if it
    were true; the row is kept, with its other values. Staging keeps the value as received.
    A bound with max_hours_at_rated_power scales with the turbine's rated power
    (int_turbines_parameterised): the upper bound is the lower of max_value and rated
    power × those hours, max_value alone for a turbine the registry does not know.
    Rebuilt whole on each run: one row per turbine and production day.
-#}
{%- set measures = plausibility_measures('production') %}

with

production as (

    select * from {{ ref('stg_production__daily_production') }}

),

turbines as (

    select * from {{ ref('int_turbines_parameterised') }}

),

plausibility_bounds as (

    select * from {{ ref('plausibility_bounds') }}

),

-- the seed's rows for this source as one row: <measure>_min, <measure>_max, ...
bounds as (

    {{ plausibility_bounds_row('production', measures, 'plausibility_bounds') | indent(4) }}

),

checked as (

    select
        {%- for measure in measures %}
        {{ is_implausible(measure, 'production', 'bounds', 'turbines.rated_power_kw') }}
            as is_implausible_{{ measure }},
        {%- endfor %}
        production.*
    from production
    left join turbines
        on production.turbine_id = turbines.turbine_id
    cross join bounds

),

final as (

    select
        -- keys
        production_date,
        turbine_id,

        -- measures, null where implausible, and the flags that say which
        {{ plausibility_published_columns(measures) }},

        -- metadata: origin of the row
        source_file,
        source_line,
        source_file_sha256,
        dlt_load_id,
        dlt_id

    from checked

)

select * from final
