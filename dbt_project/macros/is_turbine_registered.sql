{#-
    Whether the turbine in `column` may be published in core and ml: it is in
    int_turbines_registered (the registry, on a site of the sites seed), or the park has
    no turbine registry at all (no turbine table in the historian, no turbines.csv: a
    historian of one unnamed turbine, config/turkey_t1), in which case there is nothing
    to check it against. Rows failing it are held aside (quality_held_aside).
-#}
{% macro is_turbine_registered(column='turbine_id') -%}
(
    {{ column }} in (
        select registered.turbine_id
        from {{ ref('int_turbines_registered') }} as registered
    )
    or not exists (select from {{ ref('stg_scada__turbines') }})
)
{%- endmacro %}
