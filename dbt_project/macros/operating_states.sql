{#-
    The operating states of a turbine over a 10-minute period (int_turbine_states_classified),
    in the order they are decided: the first that applies wins.
-#}
{% macro operating_states() %}
{{ return([
    'down', 'no_data', 'unknown', 'icing_suspected', 'curtailed', 'producing', 'idle_low_wind',
]) }}
{% endmacro %}

{#-
    The components that carry failure labels in the ML mart: the components seed's rows
    with is_failure_labelled (assert_failure_components_match_seed keeps them equal).
    Columns need names when the SQL is compiled, so the list lives here too.
-#}
{% macro failure_components() %}
{{ return([
    'gearbox', 'gearbox_bearing', 'main_bearing', 'generator', 'converter', 'rotor',
    'pitch_system', 'yaw_system', 'generator_bearing', 'transformer',
]) }}
{% endmacro %}

{#- The label horizons of the ML mart, in days. -#}
{% macro failure_horizons_days() %}
{{ return([7, 30]) }}
{% endmacro %}

{#-
    SQL: one threshold of the qc_thresholds seed as a column, for a select over that seed
    (`select {{ qc_threshold('x') }}, ... from qc_thresholds`).
-#}
{% macro qc_threshold(name) -%}
max(value) filter (where threshold = '{{ name }}') as {{ name }}
{%- endmacro %}
