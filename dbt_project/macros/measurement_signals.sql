{#-
    The canonical 10-minute signals carried by raw.scada_measurements (docs/architecture.md),
    one vocabulary from loader to mart (DESIGN.md, "Canonical signals").
      signal          canonical name, the key of the sensor_bounds seed
      column          the column holding its 10-minute average
      is_temperature  a temperature: rolling statistics in the ML mart
      is_critical     reported by quality_completeness
    Every signal gets the three per-signal QC flags (qc_signal_flag_types); the
    sensor_bounds seed decides which checks apply (an empty threshold switches one off).
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

{#- The temperatures (rolling statistics in the ML mart). -#}
{% macro temperature_signals() %}
{{ return(measurement_signals() | selectattr('is_temperature') | list) }}
{% endmacro %}

{#- Signals reported by quality_completeness. -#}
{% macro critical_signals() %}
{{ return(measurement_signals() | selectattr('is_critical') | list) }}
{% endmacro %}

{#-
    The per-signal QC flags of int_measurements_flagged, each a column
    is_<type>_<signal>: out of the plausible range, frozen (unresponsive sensor), spike.
-#}
{% macro qc_signal_flag_types() %}
{{ return(['out_of_range', 'frozen', 'spike']) }}
{% endmacro %}

{#-
    SQL: true when the signal's value of a flagged row can be used in aggregates (a value,
    on a row that is neither a gap nor a conflicting duplicate, with none of the signal's
    own QC flags). `relation` prefixes the columns when given. Never null (a missing flag
    counts as not raised, which keeps hand-made unit-test inputs short).
-#}
{% macro signal_is_usable(signal, relation=none) -%}
{%- set p = (relation ~ '.') if relation else '' -%}
{%- set conditions = [
    p ~ signal.column ~ ' is not null',
    p ~ 'has_conflicting_duplicates is not true',
] -%}
{%- for flag_type in qc_signal_flag_types() -%}
{%- do conditions.append(p ~ 'is_' ~ flag_type ~ '_' ~ signal.signal ~ ' is not true') -%}
{%- endfor -%}
({{ conditions | join(' and ') }})
{%- endmacro %}

{#- The signal of measurement_signals() with this canonical name. -#}
{% macro signal_named(name) %}
{{ return(measurement_signals() | selectattr('signal', 'equalto', name) | first) }}
{% endmacro %}

{#-
    The hour (UTC) a timestamp falls in. date_bin from a UTC origin does not depend on the
    session time zone, unlike date_trunc on a timestamptz.
-#}
{% macro utc_hour(column) -%}
date_bin(interval '1 hour', {{ column }}, timestamptz '2000-01-01 00:00:00+00')
{%- endmacro %}
