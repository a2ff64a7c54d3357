{#-
    One row per calendar day over the span of the facts' data (SCADA measurements,
    weather) widened by var('date_margin_days') on each side.
-#}
{%- set margin_days = var('date_margin_days', 366) %}
{%- set site_time_zone = var('site_time_zone', 'Europe/Paris') %}

with

-- min and max per source: the SCADA days from the per-day row counts (an index look-up;
-- through the staging view PostgreSQL scans all of raw instead, a cost that grew with the
-- history), the weather from its staging view (small)
data_spans as (

    select
        min(measured_date) as first_date,
        max(measured_date) as last_date
    from {{ ref('int_measurement_rows_days_counted') }}
    union all
    select
        min(observed_date) as first_date,
        max(observed_date) as last_date
    from {{ ref('stg_weather__hourly') }}

),

span as (

    select
        coalesce(min(first_date), current_date) - {{ margin_days }} as first_date,
        coalesce(max(last_date), current_date) + {{ margin_days }} as last_date
    from data_spans

),

days as (

    select calendar_days.calendar_day::date as calendar_date
    from span
    cross join lateral generate_series(
        span.first_date::timestamp, span.last_date::timestamp, interval '1 day'
    ) as calendar_days (calendar_day)

),

final as (

    select
        -- keys
        to_char(calendar_date, 'YYYYMMDD')::integer as date_key,
        calendar_date,

        -- calendar
        extract(year from calendar_date)::integer as calendar_year,
        extract(quarter from calendar_date)::integer as calendar_quarter,
        extract(month from calendar_date)::integer as calendar_month,
        to_char(calendar_date, 'FMMonth') as month_name,
        extract(day from calendar_date)::integer as day_of_month,
        extract(doy from calendar_date)::integer as day_of_year,
        date_trunc('month', calendar_date)::date as month_start_date,

        -- ISO 8601 week
        extract(isoyear from calendar_date)::integer as iso_year,
        extract(week from calendar_date)::integer as iso_week,
        extract(isodow from calendar_date)::integer as iso_day_of_week,
        to_char(calendar_date, 'FMDay') as day_name,
        date_trunc('week', calendar_date)::date as week_start_date,
        extract(isodow from calendar_date) in (6, 7) as is_weekend,

        -- the sites' local day (daylight saving time)
        (
            extract(
                epoch from
                (calendar_date + 1)::timestamp at time zone '{{ site_time_zone }}'
                - calendar_date::timestamp at time zone '{{ site_time_zone }}'
            ) / 3600
        )::integer as site_local_day_hours,
        (
            (calendar_date + 1)::timestamp at time zone '{{ site_time_zone }}'
            - calendar_date::timestamp at time zone '{{ site_time_zone }}'
        ) <> interval '24 hours' as is_dst_change_day

    from days

)

select * from final
