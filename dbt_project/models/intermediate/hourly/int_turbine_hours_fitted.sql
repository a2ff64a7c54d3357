{#-
    The temperature residuals of the ML mart, one row per turbine per UTC hour: a component
    temperature minus what the turbine's own past predicts from load and a reference
    temperature (macro ml_residual_references): a per-turbine linear fit of
    (temperature - reference) on the 3-hour mean load factor (the metal lags the load) over
    the fully producing hours of the var('ml_residual_fit_days') days before the hour (the
    hour itself excluded), used once it has var('ml_residual_min_fit_hours') points.
    Backward looking only. Incremental (delete+insert by hour_date): a run rewrites the
    reprocess window (macro reprocess_from_date, with the late alarms, interventions and
    weather), reading the hourly aggregates var('ml_residual_fit_days') + 2 days further
    back.
-#}
{%- set first_date = reprocess_from_date(this, with_events=true) %}
{%- set residual_references = ml_residual_references() %}
{%- set residual_signals = residual_references.keys() | list %}
{%- set fit_days = var('ml_residual_fit_days', 30) %}
{%- set min_fit_hours = var('ml_residual_min_fit_hours', 72) %}

with

hours as (

    select * from {{ ref('int_turbine_hours_aggregated') }}
    where {{ in_write_window(first_date, 'hour_date', fit_days ~ ' + 2') }}

),

turbines as (

    select * from {{ ref('int_turbines_parameterised') }}

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

-- From here on, only the hours written: the fit's numeric arithmetic is work per row.
recent_fit_sums as (

    select * from fit_sums
    where {{ in_write_window(first_date, 'hour_date') }}

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

residuals as (

    select
        {%- for name, reference in residual_references.items() %}
        case
            when
                {{ name }}_fit_count >= {{ min_fit_hours }}
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
    from fits

),

final as (

    select
        -- keys
        turbine_id,
        hour_at,
        hour_date,

        -- load
        load_factor,
        load_factor_3h,

        -- residuals
        {%- for name in residual_signals %}
        {{ name }}_residual,
        {%- endfor %}

        -- metadata: the newest SCADA load of the hour (the reprocess window's bookmark)
        dlt_load_id

    from residuals

)

select * from final
