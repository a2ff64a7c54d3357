{#- A site's time zone, or var('site_time_zone') where the sites seed gives none: the
    rule by which every local calendar day of the project is cut, written once. -#}
{% macro time_zone_or_default(column) -%}
coalesce({{ column }}, '{{ var("site_time_zone", "Europe/Paris") }}')
{%- endmacro %}
