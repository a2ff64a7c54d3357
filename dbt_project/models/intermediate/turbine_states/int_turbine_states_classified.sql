{#-
    The operating state of each turbine over each 10-minute period, decided in this order
    (the first that applies wins; thresholds in the qc_thresholds seed):
      down             a stopping alarm (alarm_codes.is_stop) is active during the period,
                       or a maintenance intervention covers it
      no_data          a gap (no source row) and no known stop
      unknown          wind speed or power not usable (missing or QC-flagged)
      icing_suspected  cold (the turbine's ambient temperature, else the weather's, below
                       icing_max_ambient_temp_c) and power below icing_max_power_ratio of
                       the curve's expected power
      curtailed        wind at least curtailment_min_wind_speed_ms and power below
                       curtailment_max_power_ratio of expected, with no alarm to explain it
                       (pitched up or capped by the operator or the grid)
      producing        power above producing_min_power_kw
      idle_low_wind    otherwise: standing by, below cut-in
    Icing and curtailment are judged only where the curve promises at least
    state_min_expected_power_kw.
    Incremental (delete+insert by measured_date): a run rewrites the reprocess window,
    widened to the oldest day of a newer alarm, maintenance or weather load (a late
    intervention turns past periods to down; macro reprocess_from_date).
-#}
{%- set first_date = reprocess_from_date(this, with_events=true) %}
{%- set wind = signal_named('wind_speed') %}
{%- set power = signal_named('active_power') %}
{%- set ambient = signal_named('ambient_temp') %}

with

flagged as (

    select * from {{ ref('int_measurements_flagged') }}
    where {{ in_write_window(first_date) }}

),

weather as (

    select * from {{ ref('int_measurements_weather_joined') }}
    where {{ in_write_window(first_date) }}

),

alarms as (

    select * from {{ ref('int_alarms_registered') }}
    where {{ in_write_window(first_date, "coalesce(ended_at, 'infinity')") }}

),

alarm_codes as (

    select * from {{ ref('alarm_codes') }}

),

maintenance_events as (

    select * from {{ ref('int_maintenance_events_registered') }}
    where {{ in_write_window(first_date, "coalesce(ended_at, 'infinity')") }}

),

qc_thresholds as (

    select * from {{ ref('qc_thresholds') }}

),

thresholds as (

    select
        {{ qc_threshold('producing_min_power_kw') }},
        {{ qc_threshold('state_min_expected_power_kw') }},
        {{ qc_threshold('curtailment_min_wind_speed_ms') }},
        {{ qc_threshold('curtailment_max_power_ratio') }},
        {{ qc_threshold('icing_max_ambient_temp_c') }},
        {{ qc_threshold('icing_max_power_ratio') }}
    from qc_thresholds

),

stop_alarms as (

    select
        alarms.turbine_id,
        alarms.alarm_code,
        alarms.started_at,
        alarms.ended_at
    from alarms
    inner join alarm_codes
        on alarms.alarm_code = alarm_codes.alarm_code
    where alarm_codes.is_stop

),

-- Alarms and interventions overlapping a period [measured_at, measured_at + 10 min); an
-- alarm without an end is still active.
periods_with_stop_alarm as (

    select
        flagged.turbine_id,
        flagged.measured_at,
        min(stop_alarms.alarm_code) as stop_alarm_code
    from flagged
    inner join stop_alarms
        on
            flagged.turbine_id = stop_alarms.turbine_id
            and stop_alarms.started_at < flagged.measured_at + interval '10 minutes'
            and coalesce(stop_alarms.ended_at, 'infinity') > flagged.measured_at
    group by flagged.turbine_id, flagged.measured_at

),

periods_in_maintenance as (

    select
        flagged.turbine_id,
        flagged.measured_at,
        min(maintenance_events.intervention_id) as intervention_id
    from flagged
    inner join maintenance_events
        on
            flagged.turbine_id = maintenance_events.turbine_id
            and maintenance_events.started_at < flagged.measured_at + interval '10 minutes'
            and coalesce(maintenance_events.ended_at, 'infinity') > flagged.measured_at
    group by flagged.turbine_id, flagged.measured_at

),

assembled as (

    select
        flagged.turbine_id,
        flagged.measured_at,
        flagged.measured_date,
        flagged.dlt_load_id,
        flagged.is_gap,
        {{ signal_is_usable(wind, 'flagged') }} as is_wind_usable,
        {{ signal_is_usable(power, 'flagged') }} as is_power_usable,
        flagged.{{ wind.column }},
        flagged.{{ power.column }},
        flagged.expected_power_kw,
        case
            when {{ signal_is_usable(ambient, 'flagged') }} then flagged.{{ ambient.column }}
            else weather.temperature_2m_c
        end as state_ambient_temp_c,
        periods_with_stop_alarm.stop_alarm_code,
        periods_in_maintenance.intervention_id as maintenance_intervention_id,
        thresholds.*
    from flagged
    left join weather
        on
            flagged.turbine_id = weather.turbine_id
            and flagged.measured_at = weather.measured_at
    left join periods_with_stop_alarm
        on
            flagged.turbine_id = periods_with_stop_alarm.turbine_id
            and flagged.measured_at = periods_with_stop_alarm.measured_at
    left join periods_in_maintenance
        on
            flagged.turbine_id = periods_in_maintenance.turbine_id
            and flagged.measured_at = periods_in_maintenance.measured_at
    cross join thresholds

),

classified as (

    select
        -- keys
        turbine_id,
        measured_at,
        measured_date,

        -- state
        case
            when
                stop_alarm_code is not null or maintenance_intervention_id is not null
                then 'down'
            when is_gap then 'no_data'
            when not (is_wind_usable and is_power_usable) then 'unknown'
            when
                state_ambient_temp_c < icing_max_ambient_temp_c
                and expected_power_kw >= state_min_expected_power_kw
                and {{ power.column }} < icing_max_power_ratio * expected_power_kw
                then 'icing_suspected'
            when
                {{ wind.column }} >= curtailment_min_wind_speed_ms
                and expected_power_kw >= state_min_expected_power_kw
                and {{ power.column }} < curtailment_max_power_ratio * expected_power_kw
                then 'curtailed'
            when {{ power.column }} > producing_min_power_kw then 'producing'
            else 'idle_low_wind'
        end as operating_state,

        -- why
        stop_alarm_code,
        maintenance_intervention_id,
        state_ambient_temp_c,
        case
            when expected_power_kw > 0 and is_power_usable
                then {{ power.column }} / expected_power_kw
        end as power_ratio,

        -- metadata: the SCADA load of the period (the reprocess window's bookmark)
        dlt_load_id

    from assembled

)

select * from classified
