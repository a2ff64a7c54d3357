{#-
    The canonical 10-minute signals carried by raw.scada_measurements (docs/architecture.md),
    one vocabulary from loader to mart (DESIGN.md, "Canonical signals").
      signal          canonical name, the key of the sensor_bounds seed
      column          the column holding its 10-minute average
      is_temperature  checked for frozen values (unresponsive sensor)
      is_critical     reported by quality_completeness
-#}
{% macro measurement_signals() %}
{{ return([
    {'signal': 'wind_speed', 'column': 'wind_speed_avg',
     'is_temperature': false, 'is_critical': true},
    {'signal': 'wind_direction', 'column': 'wind_direction_avg',
     'is_temperature': false, 'is_critical': false},
    {'signal': 'active_power', 'column': 'active_power_avg',
     'is_temperature': false, 'is_critical': true},
    {'signal': 'rotor_speed', 'column': 'rotor_speed_avg',
     'is_temperature': false, 'is_critical': true},
    {'signal': 'pitch_angle', 'column': 'pitch_angle_avg',
     'is_temperature': false, 'is_critical': true},
    {'signal': 'gearbox_oil_temp', 'column': 'gearbox_oil_temp_avg',
     'is_temperature': true, 'is_critical': true},
    {'signal': 'gearbox_bearing_temp', 'column': 'gearbox_bearing_temp_avg',
     'is_temperature': true, 'is_critical': true},
    {'signal': 'generator_stator_temp', 'column': 'generator_stator_temp_avg',
     'is_temperature': true, 'is_critical': true},
    {'signal': 'nacelle_temp', 'column': 'nacelle_temp_avg',
     'is_temperature': true, 'is_critical': false},
    {'signal': 'ambient_temp', 'column': 'ambient_temp_avg',
     'is_temperature': true, 'is_critical': true},
    {'signal': 'auxiliary_consumption', 'column': 'auxiliary_consumption_avg',
     'is_temperature': false, 'is_critical': false},
]) }}
{% endmacro %}

{#- Signals checked for frozen values (the temperatures). -#}
{% macro frozen_checked_signals() %}
{{ return(measurement_signals() | selectattr('is_temperature') | list) }}
{% endmacro %}

{#- Signals reported by quality_completeness. -#}
{% macro critical_signals() %}
{{ return(measurement_signals() | selectattr('is_critical') | list) }}
{% endmacro %}
