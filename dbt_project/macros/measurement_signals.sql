{#-
    The canonical 10-minute signals carried by raw.scada_measurements (docs/architecture.md),
    one vocabulary from loader to mart (DESIGN.md, "Canonical signals"): the var `signals`
    of dbt_project.yml, which the loaders read too (loaders/signals.py).
      signal          canonical name, the key of the sensor_bounds seed
      column          the column holding its 10-minute average (<signal>_avg)
      unit, label     its SI unit and what it measures
      is_temperature  a temperature: rolling statistics in the ML mart
      is_critical     reported by quality_completeness
      is_angle        averaged as a circular mean over an hour
    Every signal gets the three per-signal QC flags (qc_signal_flag_types); the
    sensor_bounds seed decides which checks apply (an empty threshold switches one off).
-#}
{% macro measurement_signals() %}
{%- set entries = var('signals') -%}
{%- if entries is string -%}
{#- the linter (sqlfluff) renders var() as text: sample signals to lint the loops -#}
{%- set entries = [
    {'signal': 'wind_speed', 'is_temperature': false, 'is_critical': true, 'is_angle': false},
    {'signal': 'wind_direction', 'is_temperature': false, 'is_critical': false,
     'is_angle': true},
    {'signal': 'active_power', 'is_temperature': false, 'is_critical': true, 'is_angle': false},
    {'signal': 'ambient_temp', 'is_temperature': true, 'is_critical': true, 'is_angle': false},
] -%}
{%- endif -%}
{%- set signals = [] -%}
{%- for entry in entries -%}
{%- do signals.append(dict(entry, column=entry.signal ~ '_avg')) -%}
{%- endfor -%}
{{ return(signals) }}
{% endmacro %}

{#-
    Every statistic column of every signal, in vocabulary order (wind_speed_avg,
    wind_speed_min, wind_speed_max, wind_speed_std, wind_direction_avg...): the columns
    raw.scada_measurements always has and staging, the de-duplicated measurements and
    fct_turbine_measurements carry (null where a historian has no such statistic).
-#}
{% macro signal_statistic_columns() %}
{%- set statistics = var('signal_statistics') -%}
{%- set statistics = ['avg', 'std'] if statistics is string else statistics -%}
{%- set columns = [] -%}
{%- for signal in measurement_signals() -%}
{%- for statistic in statistics -%}
{%- do columns.append(signal.signal ~ '_' ~ statistic) -%}
{%- endfor -%}
{%- endfor -%}
{{ return(columns) }}
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
