{#-
    Time and energy per turbine, local day of its site and IEC 61400-26 information
    category: the long form that every availability figure adds up from (hours, energy
    produced, energy expected and lost, with the turbine's own fitted curve as a second
    estimate of the loss). Incremental: delete+insert by local_date over the reprocess
    window, reading one UTC day more before it (a local day starts on the UTC day before).
-#}
{%- set first_date = reprocess_from_date(this, with_events=true) %}
{{
    config(
        materialized='incremental',
        unique_key='local_date',
        meta={'recent_tests_where': 'local_date >= {window_from}'},
        indexes=[
            {'columns': ['turbine_id', 'local_date', 'availability_category'], 'unique': True},
            {'columns': ['local_date']},
            {'columns': ['dlt_load_id']},
        ]
    )
}}

with

periods as (

    select * from {{ ref('int_turbine_periods_categorised') }}
    where {{ in_read_window(first_date) }}

),

fitted_curves as (

    select * from {{ ref('int_turbine_power_curves_fitted') }}

),

sites as (

    select * from {{ ref('sites') }}

),

local_periods as (

    select
        periods.*,
        (
            periods.measured_at at time zone {{ time_zone_or_default('sites.time_zone') }}
        )::date as local_date,
        fitted_curves.fitted_power_kw
    from periods
    left join sites
        on periods.site_code = sites.site_code
    left join fitted_curves
        on
            periods.turbine_id = fitted_curves.turbine_id
            and round(periods.normalised_wind_speed_ms * 2) / 2 = fitted_curves.wind_bin_ms

),

aggregated as (

    select
        -- keys
        turbine_id,
        local_date,
        availability_category,
        max(site_code) as site_code,

        -- measures
        count(*)::integer as periods,
        (count(*) / 6.0)::double precision as hours,
        sum(energy_produced_kwh)::double precision as energy_produced_kwh,
        (sum(expected_power_kw) / 6.0)::double precision as expected_energy_kwh,
        sum(lost_energy_kwh)::double precision as lost_energy_kwh,
        sum(
            case
                when availability_category = 'full_performance' then 0.0
                when availability_category != 'information_unavailable'
                    then
                        greatest(fitted_power_kw - greatest(coalesce(actual_power_kw, 0), 0), 0)
                        / 6.0
            end
        )::double precision as lost_energy_fitted_curve_kwh,
        (count(*) filter (where is_wind_from_neighbours))::integer as periods_wind_from_neighbours,

        -- metadata: the newest SCADA load of the day (the reprocess window's bookmark)
        max(dlt_load_id) as dlt_load_id
    from local_periods
    group by turbine_id, local_date, availability_category

)

select * from aggregated
{%- if first_date is not none %}
where local_date >= '{{ first_date }}'::date
{%- endif %}
