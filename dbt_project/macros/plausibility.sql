{#-
    Plausibility before publication of the production exports and the weather
    (docs/quality.md): the measures each source's check covers, named as the columns of its
    staging model and as the `measure` of the plausibility_bounds seed. A measure listed
    here without a seed row, or a seed row without a measure here, fails the tests of
    quality_implausible_values.
-#}
{% macro plausibility_measures(source_name) %}
{%- set measures = {
    'weather': [
        'temperature_2m_c',
        'relative_humidity_2m_pct',
        'surface_pressure_hpa',
        'precipitation_mm',
        'wind_speed_10m_ms',
        'wind_direction_10m_deg',
        'wind_gusts_10m_ms',
    ],
    'production': ['energy_kwh', 'availability_pct', 'operating_hours'],
} -%}
{{ return(measures[source_name]) }}
{% endmacro %}

{#-
    SQL: the select of a source's rows of the plausibility_bounds seed pivoted to one row
    (always one, even with no seed row): <measure>_min, <measure>_max and
    <measure>_max_hours_at_rated_power for each measure, and bound_count. `seed_relation`
    is the CTE holding the seed.
-#}
{% macro plausibility_bounds_row(source_name, measures, seed_relation) -%}
select
{%- for measure in measures %}
max(min_value) filter (where measure = '{{ measure }}') as {{ measure }}_min,
max(max_value) filter (where measure = '{{ measure }}') as {{ measure }}_max,
max(max_hours_at_rated_power) filter (where measure = '{{ measure }}')
as {{ measure }}_max_hours_at_rated_power,
{%- endfor %}
count(*) as bound_count
from {{ seed_relation }}
where source_name = '{{ source_name }}'
{%- endmacro %}


{#-
    SQL: true when the value is outside its bounds (an empty bound is not checked; NaN is
    above every bound), false otherwise, never null. The bounds are the columns
    <measure>_min and <measure>_max of `bounds_relation` (the seed pivoted to one row);
    with `rated_power` (a kW expression), the upper bound is the lower of <measure>_max
    and rated power × <measure>_max_hours_at_rated_power (<measure>_max alone when either
    is null).
-#}
{% macro is_implausible(measure, value_relation, bounds_relation, rated_power=none) -%}
{%- set value = value_relation ~ '.' ~ measure -%}
{%- set upper = bounds_relation ~ '.' ~ measure ~ '_max' -%}
{%- if rated_power -%}
{%- set upper = 'least(' ~ upper ~ ', ' ~ rated_power ~ ' * ' ~ bounds_relation ~ '.'
    ~ measure ~ '_max_hours_at_rated_power)' -%}
{%- endif -%}
coalesce({{ value }} < {{ bounds_relation }}.{{ measure }}_min or {{ value }} > {{ upper }}, false)
{%- endmacro %}


{#-
    The columns a checked model publishes for its `measures` (each with its
    is_implausible_<measure> computed before): each measure, null where implausible; each
    flag; implausible_measures (the names, comma-separated, or null); and
    has_implausible_values. Written once for every source the check covers.
-#}
{% macro plausibility_published_columns(measures) -%}
{%- for measure in measures %}
case when not is_implausible_{{ measure }} then {{ measure }} end as {{ measure }},
{%- endfor %}
{%- for measure in measures %}
is_implausible_{{ measure }},
{%- endfor %}
{%- set names = [] -%}
{%- set flags = [] -%}
{%- for measure in measures -%}
{%- do names.append("case when is_implausible_" ~ measure ~ " then '" ~ measure ~ "' end") -%}
{%- do flags.append("is_implausible_" ~ measure) -%}
{%- endfor %}
nullif(concat_ws(', ', {{ names | join(', ') }}), '') as implausible_measures,
({{ flags | join(' or ') }}) as has_implausible_values
{%- endmacro %}
