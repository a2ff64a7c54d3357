{#-
    The ML feature table: one row per turbine per UTC hour, features looking backward
    only, failure labels looking forward only (see docs/ml_features.md and the model's
    YAML for the train/test split rule).
      aggregates     the hour's signals over usable values (int_turbine_hours_aggregated)
      rolling        24 h and 7 d mean and standard deviation of each temperature, over the
                     10-minute values of the window ending with the hour (window frames
                     "range between ... preceding and current row"; exact, from the
                     hourly counts, sums and sums of squares, summed as numeric so that
                     PostgreSQL slides each frame instead of re-adding it per row)
      residuals      a component temperature minus what the turbine's own past predicts
                     from load and a reference temperature (int_turbine_hours_fitted),
                     and their 24-hour mean
      weather        as of the hour's start (never a later value)
      QC, states     shares of the hour's 6 periods
      labels         int_turbine_hours_labelled
    Incremental (delete+insert by date_key): a run rewrites the hours whose labels may
    have changed, i.e. the reprocess window (macro reprocess_from_date, with the late
    alarms and interventions) widened by the longest label horizon. Features look
    backward only: they are recomputed from the reprocess window on (reading the hourly
    aggregates 8 days and the residuals 1 day further back), and kept from the table for
    the earlier hours whose labels only may change. A bounded window: the daily cost
    does not grow with the history.
-#}
{%- set longest = failure_horizons_days() | max %}
{%- set first_date = reprocess_from_date(this, with_events=true) %}
{{
    config(
        materialized='incremental',
        unique_key='date_key',
        meta={
            'recent_tests_where':
            "date_key >= to_char({window_from} - {label_horizon_days}, 'YYYYMMDD')::integer"
        },
        indexes=[
            {'columns': ['turbine_id', 'hour_at'], 'unique': True},
            {'columns': ['date_key']},
            {'columns': ['dlt_load_id']},
        ]
    )
}}
{%- set temperatures = temperature_signals() %}
{%- set residual_signals = ml_residual_references().keys() | list %}

with

-- The hours written and the 8 days before them: the 7-day statistics' frames.
hours as (

    select * from {{ ref('int_turbine_hours_aggregated') }}
    where {{ in_write_window(first_date, 'hour_date', 8) }}

),

-- The residuals of the hours written and of the day before them (their 24-hour means).
fitted as (

    select * from {{ ref('int_turbine_hours_fitted') }}
    where {{ in_write_window(first_date, 'hour_date', 1) }}

),

labels as (

    select * from {{ ref('int_turbine_hours_labelled') }}
    where {{ in_write_window(first_date, 'hour_date', longest) }}

),

rolling as (

    select
        {%- for signal in temperatures %}
        {%- for window_name in ['24h', '7d'] %}
        sum({{ signal.signal }}_value_count) over w{{ window_name }}
            as {{ signal.signal }}_n_{{ window_name }},
        sum({{ signal.signal }}_sum::numeric) over w{{ window_name }}
            as {{ signal.signal }}_s_{{ window_name }},
        sum({{ signal.signal }}_sum_squares::numeric) over w{{ window_name }}
            as {{ signal.signal }}_q_{{ window_name }},
        {%- endfor %}
        {%- endfor %}
        *
    from hours
    window
        w24h as (
            partition by turbine_id order by hour_at
            range between interval '23 hours' preceding and current row
        ),
        w7d as (
            partition by turbine_id order by hour_at
            range between interval '167 hours' preceding and current row
        )

),

-- A numeric mean slides too: each hour's residual is added when it enters the frame and
-- removed when it leaves, not re-added for every hour of every frame.
residual_rolling as (

    select
        {%- for name in residual_signals %}
        avg({{ name }}_residual::numeric) over (
            partition by turbine_id order by hour_at
            range between interval '23 hours' preceding and current row
        )::double precision as {{ name }}_residual_mean_24h,
        {%- endfor %}
        *
    from fitted

),

hourly as (

    select
        {%- for name in residual_signals %}
        residual_rolling.{{ name }}_residual,
        residual_rolling.{{ name }}_residual_mean_24h,
        {%- endfor %}
        residual_rolling.load_factor,
        residual_rolling.load_factor_3h,
        rolling.*
    from rolling
    left join residual_rolling
        on
            rolling.turbine_id = residual_rolling.turbine_id
            and rolling.hour_at = residual_rolling.hour_at

),

-- Features of the hours from the reprocess window on (backward looking: nothing earlier
-- changes).
features as (

    select
        -- keys
        md5(
            hourly.turbine_id || '|'
            || to_char(hourly.hour_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24')
        ) as feature_row_key,
        md5(hourly.turbine_id) as turbine_key,
        to_char(hourly.hour_date, 'YYYYMMDD')::integer as date_key,
        hourly.turbine_id,
        hourly.hour_at,
        extract(hour from hourly.hour_at at time zone 'UTC')::integer
            as hour_of_day_utc,

        -- the hour's signals
        hourly.wind_speed_mean,
        hourly.wind_speed_std,
        hourly.wind_speed_max,
        hourly.wind_direction_mean,
        hourly.active_power_mean,
        hourly.active_power_max,
        hourly.load_factor,
        hourly.load_factor_3h,
        hourly.rotor_speed_mean,
        hourly.pitch_angle_mean,
        {%- for signal in temperatures %}
        hourly.{{ signal.signal }}_mean,
        {%- endfor %}
        hourly.auxiliary_consumption_mean,
        hourly.measured_energy_kwh,
        hourly.expected_energy_kwh,
        case
            when
                hourly.power_period_count = hourly.period_count
                and hourly.expected_energy_kwh > 0
                then hourly.measured_energy_kwh / hourly.expected_energy_kwh
        end as performance_ratio,

        -- rolling temperature statistics (backward only)
        {%- for signal in temperatures %}
        {%- for window_name in ['24h', '7d'] %}
        {%- set n = 'hourly.' ~ signal.signal ~ '_n_' ~ window_name %}
        {%- set s = 'hourly.' ~ signal.signal ~ '_s_' ~ window_name %}
        {%- set q = 'hourly.' ~ signal.signal ~ '_q_' ~ window_name %}
        case
            when {{ n }} > 0 then ({{ s }} / {{ n }})::double precision
        end as {{ signal.signal }}_mean_{{ window_name }},
        case
            when {{ n }} > 1
                then sqrt(greatest(
                    (({{ q }} - {{ s }} * {{ s }} / {{ n }}) / ({{ n }} - 1))::double precision, 0
                ))
        end as {{ signal.signal }}_std_{{ window_name }},
        {%- endfor %}
        {%- endfor %}

        -- temperature residuals against load and ambient (backward only)
        {%- for name in residual_signals %}
        hourly.{{ name }}_residual,
        hourly.{{ name }}_residual_mean_24h,
        {%- endfor %}

        -- weather as of the hour's start
        hourly.temperature_2m_c as weather_temperature_2m_c,
        hourly.relative_humidity_2m_pct as weather_relative_humidity_2m_pct,
        hourly.surface_pressure_hpa as weather_surface_pressure_hpa,
        hourly.precipitation_mm as weather_precipitation_mm,
        hourly.wind_speed_10m_ms as weather_wind_speed_10m_ms,
        hourly.wind_direction_10m_deg as weather_wind_direction_10m_deg,
        hourly.wind_gusts_10m_ms as weather_wind_gusts_10m_ms,
        hourly.weather_age_minutes,

        -- operating state shares
        {%- for state in operating_states() %}
        hourly.{{ state }}_period_count::double precision
        / hourly.period_count as share_{{ state }},
        {%- endfor %}

        -- QC coverage
        hourly.measured_period_count::integer as measured_period_count,
        hourly.valid_period_count::integer as valid_period_count,
        hourly.valid_period_count::double precision
        / hourly.period_count as qc_valid_share,
        hourly.flagged_period_count::integer as flagged_period_count

    from hourly
    where {{ in_write_window(first_date, 'hourly.hour_date') }}

),
{%- if first_date is not none %}
{%- set first_day = modules.datetime.date.fromisoformat((first_date | string)[:10]) %}
{%- set kept_columns = [] %}
{%- set scan = namespace(in_features=true) %}
{%- for column in adapter.get_columns_in_relation(this) %}
{%- if column.name.startswith('will_fail_') %}
{%- set scan.in_features = false %}
{%- endif %}
{%- if scan.in_features %}
{%- do kept_columns.append(column.name) %}
{%- endif %}
{%- endfor %}

-- The hours of the longest label horizon before the window: their labels may change,
-- their features cannot; kept from the table rather than recomputed.
kept_features as (

    select
        {%- for column in kept_columns %}
        {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ this }}
    where
        date_key >= {{ (first_day - modules.datetime.timedelta(days=longest)).strftime('%Y%m%d') }}
        and date_key < {{ first_day.strftime('%Y%m%d') }}

),
{%- endif %}

all_features as (

    {%- if first_date is none %}
    select * from features
    {%- else %}
    -- by name, in the table's order (the contract's, not necessarily the select's)
    select
        {%- for column in kept_columns %}
        {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from features
    union all
    select * from kept_features
    {%- endif %}

),

final as (

    select
        all_features.*,

        -- labels (forward looking: targets, never features)
        {%- for component in failure_components() %}
        {%- for horizon in failure_horizons_days() %}
        labels.will_fail_{{ component }}_{{ horizon }}d,
        {%- endfor %}
        labels.hours_to_failure_{{ component }},
        {%- endfor %}
        {%- for horizon in failure_horizons_days() %}
        labels.will_fail_any_{{ horizon }}d,
        {%- endfor %}
        labels.hours_to_next_failure,

        -- what a row may be used for
        labels.is_in_repair,
        {%- for horizon in failure_horizons_days() %}
        labels.is_label_complete_{{ horizon }}d,
        {%- endfor %}
        labels.labels_observed_until,

        -- metadata: the newest SCADA load of the hour (the reprocess window's bookmark)
        labels.dlt_load_id

    from all_features
    inner join labels
        on
            all_features.turbine_id = labels.turbine_id
            and all_features.hour_at = labels.hour_at

)

select * from final
