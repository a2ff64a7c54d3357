{#-
    The temperatures of the ML mart that get a residual, each with the reference
    temperature its fit subtracts: ambient, or for the gearbox bearing the gearbox oil that
    bathes it (which follows load and ambient, and so removes the gearbox's common thermal
    state). Shared by int_turbine_hours_fitted (the residuals) and the ML mart (their
    24-hour means and columns).
-#}
{% macro ml_residual_references() %}
{{ return({
    'gearbox_oil_temp': 'ambient_temp',
    'gearbox_bearing_temp': 'gearbox_oil_temp',
    'generator_stator_temp': 'ambient_temp',
}) }}
{% endmacro %}
