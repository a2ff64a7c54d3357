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
                     from load and a reference temperature (ambient; for the gearbox
                     bearing, the gearbox oil that bathes it, which follows load and
                     ambient and so removes the gearbox's common thermal state): a
                     per-turbine linear fit of (temperature - reference) on the 3-hour
                     mean load factor (the metal lags the load) over the fully producing
                     hours of the var('ml_residual_fit_days') days before the hour (the
                     hour itself excluded), used once it has
                     var('ml_residual_min_fit_hours') points
      weather        as of the hour's start (never a later value)
      QC, states     shares of the hour's 6 periods
      labels         int_turbine_hours_labelled
    Incremental (delete+insert by date_key): a run rewrites the hours whose labels may
    have changed, i.e. the reprocess window (macro reprocess_from_date, with the late
    alarms and interventions) widened by the longest label horizon. Features look
    backward only: they are recomputed from the reprocess window on (reading the hourly
    aggregates var('ml_residual_fit_days') + 2 days further back), and kept from the table
    for the earlier hours whose labels only may change. A bounded window: the daily cost
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
{%- set residual_references = {
    'gearbox_oil_temp': 'ambient_temp',
    'gearbox_bearing_temp': 'gearbox_oil_temp',
    'generator_stator_temp': 'ambient_temp',
} %}
{%- set residual_signals = residual_references.keys() | list %}
{%- set fit_days = var('ml_residual_fit_days', 30) %}
{%- set min_fit_hours = var('ml_residual_min_fit_hours', 72) %}

with

hours as (

    select * from {{ ref('int_turbine_hours_aggregated') }}
    where {{ in_write_window(first_date, 'hour_date', fit_days ~ ' + 2') }}

),

labels as (

    select * from {{ ref('int_turbine_hours_labelled') }}
    where {{ in_write_window(first_date, 'hour_date', longest) }}

),

turbines as (

    select * from {{ ref('dim_turbine') }}

),

hours_with_load as (

    select
        hours.*,
        hours.active_power_mean / nullif(turbines.rated_power_kw, 0) as load_factor,
        (
            hours.producing_period_count = hours.period_count
            and hours.power_period_count = hours.period_count
        ) as is_fully_producing
    from hours
    left join turbines
        on hours.turbine_id = turbines.turbine_id

),

hours_with_lagged_load as (

    select
        {%- for name, reference in residual_references.items() %}
        (
            is_fully_producing
            and {{ name }}_value_count = period_count
            and {{ reference }}_value_count = period_count
        ) as {{ name }}_is_fit_point,
        {%- endfor %}
        avg(load_factor) over (
            partition by turbine_id order by hour_at
            range between interval '2 hours' preceding and current row
        ) as load_factor_3h,
        *
    from hours_with_load

),

-- The hours a fit uses: fit points with both coordinates (what regr_* would count).
fit_pairs as (

    select
        {%- for name, reference in residual_references.items() %}
        (
            {{ name }}_is_fit_point
            and load_factor_3h is not null
            and {{ name }}_mean is not null
            and {{ reference }}_mean is not null
        ) as {{ name }}_is_fit_pair,
        {%- endfor %}
        *
    from hours_with_lagged_load

),

-- The fit's points as exact numbers: PostgreSQL slides a window of numeric sums by adding
-- the hour entering and removing the one leaving, where a sum of double precision or a
-- regr_* aggregate is recomputed over the whole frame for every row (720 hours for the
-- fit): the difference between seconds and minutes on a year of the fleet.
fit_points as (

    select
        {%- for name, reference in residual_references.items() %}
        case
            when {{ name }}_is_fit_pair then load_factor_3h::numeric
        end as {{ name }}_fit_x,
        case
            when {{ name }}_is_fit_pair then ({{ name }}_mean - {{ reference }}_mean)::numeric
        end as {{ name }}_fit_y,
        {%- endfor %}
        *
    from fit_pairs

),

fit_sums as (

    select
        {%- for name in residual_signals %}
        count({{ name }}_fit_x) over wfit as {{ name }}_fit_count,
        sum({{ name }}_fit_x) over wfit as {{ name }}_fit_sx,
        sum({{ name }}_fit_y) over wfit as {{ name }}_fit_sy,
        sum({{ name }}_fit_x * {{ name }}_fit_x) over wfit as {{ name }}_fit_sxx,
        sum({{ name }}_fit_x * {{ name }}_fit_y) over wfit as {{ name }}_fit_sxy,
        {%- endfor %}
        *
    from fit_points
    window
        wfit as (
            partition by turbine_id order by hour_at
            range between interval '{{ fit_days }} days' preceding
            and interval '1 hour' preceding
        )

),

-- From here on, only the hours written and the 8 days before them: the 24-hour and 7-day
-- statistics need 7 days, not the fit's 30, and every sliding frame and the fit's
-- numeric arithmetic are work per row.
recent_fit_sums as (

    select * from fit_sums
    where {{ in_write_window(first_date, 'hour_date', 8) }}

),

-- The least-squares line of each fit (what regr_slope and regr_intercept return), from
-- the window's exact sums.
fit_slopes as (

    select
        {%- for name in residual_signals %}
        (
            {{ name }}_fit_count * {{ name }}_fit_sxy - {{ name }}_fit_sx * {{ name }}_fit_sy
        ) / nullif(
            {{ name }}_fit_count * {{ name }}_fit_sxx - {{ name }}_fit_sx * {{ name }}_fit_sx, 0
        ) as {{ name }}_fit_slope_exact,
        {%- endfor %}
        *
    from recent_fit_sums

),

fits as (

    select
        {%- for name in residual_signals %}
        {{ name }}_fit_slope_exact::double precision as {{ name }}_fit_slope,
        (
            ({{ name }}_fit_sy - {{ name }}_fit_slope_exact * {{ name }}_fit_sx)
            / nullif({{ name }}_fit_count, 0)
        )::double precision as {{ name }}_fit_intercept,
        {%- endfor %}
        *
    from fit_slopes

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
    from fits
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

-- Only for the hours written and the day before them (their 24-hour mean reads it).
residuals as (

    select
        {%- for name, reference in residual_references.items() %}
        case
            when
                {{ name }}_fit_count >= {{ min_fit_hours }}
                and {{ in_write_window(first_date, 'hour_date', 1) }}
                then
                    {{ name }}_mean
                    - (
                        {{ reference }}_mean
                        + {{ name }}_fit_intercept
                        + {{ name }}_fit_slope * load_factor_3h
                    )
        end as {{ name }}_residual,
        {%- endfor %}
        *
    from rolling

),

-- A numeric mean slides too: each hour's residual (an expression over the fit's sums) is
-- evaluated when it enters the frame and when it leaves, not once per hour of every frame.
residual_rolling as (

    select
        {%- for name in residual_signals %}
        avg({{ name }}_residual::numeric) over (
            partition by turbine_id order by hour_at
            range between interval '23 hours' preceding and current row
        )::double precision as {{ name }}_residual_mean_24h,
        {%- endfor %}
        *
    from residuals

),

-- Features of the hours from the reprocess window on (backward looking: nothing earlier
-- changes).
features as (

    select
        -- keys
        md5(
            residual_rolling.turbine_id || '|'
            || to_char(residual_rolling.hour_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24')
        ) as feature_row_key,
        md5(residual_rolling.turbine_id) as turbine_key,
        to_char(residual_rolling.hour_date, 'YYYYMMDD')::integer as date_key,
        residual_rolling.turbine_id,
        residual_rolling.hour_at,
        extract(hour from residual_rolling.hour_at at time zone 'UTC')::integer
            as hour_of_day_utc,

        -- the hour's signals
        residual_rolling.wind_speed_mean,
        residual_rolling.wind_speed_std,
        residual_rolling.wind_speed_max,
        residual_rolling.wind_direction_mean,
        residual_rolling.active_power_mean,
        residual_rolling.active_power_max,
        residual_rolling.load_factor,
        residual_rolling.load_factor_3h,
        residual_rolling.rotor_speed_mean,
        residual_rolling.pitch_angle_mean,
        {%- for signal in temperatures %}
        residual_rolling.{{ signal.signal }}_mean,
        {%- endfor %}
        residual_rolling.auxiliary_consumption_mean,
        residual_rolling.measured_energy_kwh,
        residual_rolling.expected_energy_kwh,
        case
            when
                residual_rolling.power_period_count = residual_rolling.period_count
                and residual_rolling.expected_energy_kwh > 0
                then residual_rolling.measured_energy_kwh / residual_rolling.expected_energy_kwh
        end as performance_ratio,

        -- rolling temperature statistics (backward only)
        {%- for signal in temperatures %}
        {%- for window_name in ['24h', '7d'] %}
        {%- set n = 'residual_rolling.' ~ signal.signal ~ '_n_' ~ window_name %}
        {%- set s = 'residual_rolling.' ~ signal.signal ~ '_s_' ~ window_name %}
        {%- set q = 'residual_rolling.' ~ signal.signal ~ '_q_' ~ window_name %}
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
        residual_rolling.{{ name }}_residual,
        residual_rolling.{{ name }}_residual_mean_24h,
        {%- endfor %}

        -- weather as of the hour's start
        residual_rolling.temperature_2m_c as weather_temperature_2m_c,
        residual_rolling.relative_humidity_2m_pct as weather_relative_humidity_2m_pct,
        residual_rolling.surface_pressure_hpa as weather_surface_pressure_hpa,
        residual_rolling.precipitation_mm as weather_precipitation_mm,
        residual_rolling.wind_speed_10m_ms as weather_wind_speed_10m_ms,
        residual_rolling.wind_direction_10m_deg as weather_wind_direction_10m_deg,
        residual_rolling.wind_gusts_10m_ms as weather_wind_gusts_10m_ms,
        residual_rolling.weather_age_minutes,

        -- operating state shares
        {%- for state in operating_states() %}
        residual_rolling.{{ state }}_period_count::double precision
        / residual_rolling.period_count as share_{{ state }},
        {%- endfor %}

        -- QC coverage
        residual_rolling.measured_period_count::integer as measured_period_count,
        residual_rolling.valid_period_count::integer as valid_period_count,
        residual_rolling.valid_period_count::double precision
        / residual_rolling.period_count as qc_valid_share,
        residual_rolling.flagged_period_count::integer as flagged_period_count

    from residual_rolling
    where {{ in_write_window(first_date, 'residual_rolling.hour_date') }}

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
