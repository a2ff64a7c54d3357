{#-
    Each turbine's 10-minute grid with the weather of its site as of the period: the
    latest hourly value whose hour started at or before the period's start, never a later
    one (no look-ahead: features built on it are safe for forecasting). A value stands
    for at most weather_max_age_hours (qc_thresholds seed); after that, or before the
    first value, the period has no weather.

    Each weather row is expanded to the hours it stands for, which turns the as-of join
    into an equality join on (site, hour); the explicit observed_at <= measured_at
    keeps the rule even for a value off the hourly grid. The weather is read after its
    plausibility check (int_weather_hours_checked): an implausible value is null here.
    Incremental (delete+insert by measured_date): a run rewrites the reprocess window,
    widened to the oldest day of a newer weather load (macro reprocess_from_date).
-#}
{%- set first_date = reprocess_from_date(this, with_events=true) %}

with

gridded as (

    select * from {{ ref('int_measurements_gridded') }}
    where {{ in_write_window(first_date) }}

),

turbines as (

    select * from {{ ref('int_turbines_registered') }}

),

weather as (

    select * from {{ ref('int_weather_hours_checked') }}
    -- a value stands for a few hours at most: one day before the window is enough
    where {{ in_read_window(first_date, 'observed_date') }}

),

qc_thresholds as (

    select * from {{ ref('qc_thresholds') }}

),

thresholds as (

    select {{ qc_threshold('weather_max_age_hours') }}
    from qc_thresholds

),

weather_validity as (

    select
        weather.*,
        least(
            lead(weather.observed_at) over (
                partition by weather.site_code order by weather.observed_at
            ),
            weather.observed_at + thresholds.weather_max_age_hours * interval '1 hour'
        ) as valid_until
    from weather
    cross join thresholds

),

weather_hours as (

    select
        weather_validity.*,
        covered_hours.hour_at
    from weather_validity
    cross join lateral generate_series(
        {{ utc_hour('weather_validity.observed_at') }},
        weather_validity.valid_until - interval '1 microsecond',
        interval '1 hour'
    ) as covered_hours (hour_at)

),

joined as (

    select
        -- keys
        gridded.turbine_id,
        gridded.measured_at,
        gridded.measured_date,
        turbines.site_code,

        -- the weather value used and its age
        weather_hours.observed_at as weather_observed_at,
        (
            extract(epoch from gridded.measured_at - weather_hours.observed_at) / 60
        )::integer as weather_age_minutes,

        -- measures
        weather_hours.temperature_2m_c,
        weather_hours.relative_humidity_2m_pct,
        weather_hours.surface_pressure_hpa,
        weather_hours.precipitation_mm,
        weather_hours.wind_speed_10m_ms,
        weather_hours.wind_direction_10m_deg,
        weather_hours.wind_gusts_10m_ms,

        -- metadata: the SCADA load of the period (the reprocess window's bookmark)
        gridded.dlt_load_id

    from gridded
    left join turbines
        on gridded.turbine_id = turbines.turbine_id
    left join weather_hours
        on
            turbines.site_code = weather_hours.site_code
            and {{ utc_hour('gridded.measured_at') }} = weather_hours.hour_at
            and gridded.measured_at >= weather_hours.observed_at
            and gridded.measured_at < weather_hours.valid_until

)

select * from joined
