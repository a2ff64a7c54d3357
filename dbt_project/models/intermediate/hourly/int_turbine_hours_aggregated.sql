{#-
    One row per turbine per UTC hour of its 10-minute grid (6 periods): the signals'
    means over their usable values (angles as circular means), their lowest, highest and
    standard deviation (from the historian's 10-minute minimum, maximum and standard
    deviation where it has them, else from the 10-minute averages), the sums behind
    exact rolling statistics of the temperatures, energy, period counts per operating
    state and per QC flag type, and the weather as of the hour's start. Shared by
    core.fct_turbine_hourly and the ML mart.
    Incremental (delete+insert by hour_date): a run rewrites the hours of the reprocess
    window (macro reprocess_from_date, with the late alarms, interventions and weather).
-#}
{%- set first_date = reprocess_from_date(this, with_events=true) %}
{%- set signals = measurement_signals() %}
{%- set power = signal_named('active_power') %}
{%- set wind = signal_named('wind_speed') %}

with

flagged as (

    select * from {{ ref('int_measurements_flagged') }}
    where {{ in_write_window(first_date) }}

),

states as (

    select * from {{ ref('int_turbine_states_classified') }}
    where {{ in_write_window(first_date) }}

),

weather as (

    select * from {{ ref('int_measurements_weather_joined') }}
    where {{ in_write_window(first_date) }}

),

periods as (

    select
        {%- for signal in signals %}
        case
            when {{ signal_is_usable(signal, 'flagged') }} then flagged.{{ signal.column }}
        end as {{ signal.signal }}_usable,
        {%- endfor %}
        {{ utc_hour('flagged.measured_at') }} as hour_at,
        states.operating_state,
        flagged.*
    from flagged
    inner join states
        on
            flagged.turbine_id = states.turbine_id
            and flagged.measured_at = states.measured_at

),

aggregated as (

    select
        turbine_id,
        hour_at,
        min(measured_date) as hour_date,

        -- coverage
        count(*) as period_count,
        count(*) filter (where not is_gap) as measured_period_count,
        count(*) filter (where is_valid) as valid_period_count,

        -- signal means over usable values
        {%- for signal in signals %}
        {%- if signal.is_angle %}
        mod(
            (
                360 + degrees(
                    atan2(
                        avg(sin(radians({{ signal.signal }}_usable))),
                        avg(cos(radians({{ signal.signal }}_usable)))
                    )
                )
            )::numeric,
            360
        )::double precision as {{ signal.signal }}_mean,
        {%- else %}
        avg({{ signal.signal }}_usable) as {{ signal.signal }}_mean,
        {%- endif %}
        {%- endfor %}

        -- signal spreads over usable periods: the historian's 10-minute statistics where
        -- it has them, else the 10-minute averages (a linear spread, angles included)
        {%- for signal in signals %}
        {%- set name = signal.signal %}
        min(coalesce({{ name }}_min, {{ name }}_usable)) filter (
            where {{ name }}_usable is not null
        ) as {{ name }}_min,
        max(coalesce({{ name }}_max, {{ name }}_usable)) filter (
            where {{ name }}_usable is not null
        ) as {{ name }}_max,
        case
            when
                count({{ name }}_std) filter (where {{ name }}_usable is not null)
                = count({{ name }}_usable)
                and count({{ name }}_usable) > 0
                then sqrt(
                    avg({{ name }}_std * {{ name }}_std) filter (
                        where {{ name }}_usable is not null
                    )
                    + var_pop({{ name }}_usable)
                )
            else stddev_samp({{ name }}_usable)
        end as {{ name }}_std,
        {%- endfor %}

        -- sums for exact rolling statistics of the temperatures
        {%- for signal in temperature_signals() %}
        count({{ signal.signal }}_usable) as {{ signal.signal }}_value_count,
        sum({{ signal.signal }}_usable) as {{ signal.signal }}_sum,
        sum({{ signal.signal }}_usable * {{ signal.signal }}_usable)
            as {{ signal.signal }}_sum_squares,
        {%- endfor %}

        -- energy (a 10-minute mean power times 1/6 h)
        coalesce(sum({{ power.signal }}_usable), 0) / 6.0 as measured_energy_kwh,
        coalesce(sum(expected_power_kw) filter (where {{ wind.signal }}_usable is not null), 0)
        / 6.0 as expected_energy_kwh,
        count({{ power.signal }}_usable) as power_period_count,

        -- operating states
        {%- for state in operating_states() %}
        count(*) filter (where operating_state = '{{ state }}') as {{ state }}_period_count,
        {%- endfor %}

        -- QC flags by type
        {%- for flag_type in qc_signal_flag_types() %}
        count(*) filter (
            where
            {%- for signal in signals %}
            {{ 'or ' if not loop.first }}is_{{ flag_type }}_{{ signal.signal }}
            {%- endfor %}
        ) as {{ flag_type }}_period_count,
        {%- endfor %}
        count(*) filter (where is_power_curve_outlier) as power_curve_outlier_period_count,
        count(*) filter (
            where has_conflicting_duplicates
        ) as conflicting_duplicate_period_count,
        count(*) filter (where qc_flag_count > 0) as flagged_period_count,

        -- metadata: the newest SCADA load of the hour (the reprocess window's bookmark)
        max(dlt_load_id) as dlt_load_id

    from periods
    group by turbine_id, hour_at

),

final as (

    select
        -- keys and aggregates
        aggregated.*,

        -- weather as of the hour's start
        weather.weather_observed_at,
        weather.weather_age_minutes,
        weather.temperature_2m_c,
        weather.relative_humidity_2m_pct,
        weather.surface_pressure_hpa,
        weather.precipitation_mm,
        weather.wind_speed_10m_ms,
        weather.wind_direction_10m_deg,
        weather.wind_gusts_10m_ms

    from aggregated
    left join weather
        on
            aggregated.turbine_id = weather.turbine_id
            and aggregated.hour_at = weather.measured_at

)

select * from final
