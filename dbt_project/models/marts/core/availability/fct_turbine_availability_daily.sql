{#-
    Availability and lost production per turbine and local day of its site, as IEC
    61400-26 counts them:
      time-based availability (61400-26-1) = hours in available categories / hours with
        information (information unavailable is left out of both);
      production-based availability (61400-26-2) = energy produced / (energy produced +
        energy lost in the categories the availability_categories seed marks as
        production losses: non-operative time and degraded performance);
      capacity factor = energy produced / (rated power x hours of the day).
    Incremental (delete+insert by local_date over the reprocess window).
-#}
{%- set first_date = reprocess_from_date(this, with_events=true) %}
{{
    config(
        materialized='incremental',
        unique_key='local_date',
        meta={'recent_tests_where': 'local_date >= {window_from}'},
        indexes=[
            {'columns': ['turbine_id', 'local_date'], 'unique': True},
            {'columns': ['local_date']},
            {'columns': ['dlt_load_id']},
        ]
    )
}}

with

categories_daily as (

    select * from {{ ref('fct_turbine_availability_categories_daily') }}
    where {{ in_write_window(first_date, 'local_date') }}

),

categories as (

    select * from {{ ref('availability_categories') }}

),

turbines as (

    select * from {{ ref('dim_turbine') }}

),

periods as (

    select * from {{ ref('int_turbine_periods_categorised') }}
    where {{ in_read_window(first_date) }}

),

sites as (

    select * from {{ ref('sites') }}

),

wind_daily as (

    select
        periods.turbine_id,
        (
            periods.measured_at at time zone {{ time_zone_or_default('sites.time_zone') }}
        )::date as local_date,
        avg(periods.wind_speed_ms) as mean_wind_speed_ms
    from periods
    left join sites
        on periods.site_code = sites.site_code
    group by periods.turbine_id, local_date

),

aggregated as (

    select
        categories_daily.turbine_id,
        categories_daily.local_date,
        max(categories_daily.site_code) as site_code,
        sum(categories_daily.hours) as hours,
        coalesce(sum(categories_daily.hours) filter (
            where categories.information_class != 'information_unavailable'
        ), 0) as hours_with_information,
        coalesce(sum(categories_daily.hours) filter (
            where categories.is_time_available
        ), 0) as hours_available,
        coalesce(sum(categories_daily.hours) filter (
            where categories.is_time_available = false
        ), 0) as hours_unavailable,
        coalesce(sum(categories_daily.energy_produced_kwh), 0) as energy_produced_kwh,
        -- lost energy is known where an expected power is (a power curve and a wind):
        -- a day with none has its losses unknown (null), not zero
        sum(categories_daily.lost_energy_kwh) as lost_energy_kwh,
        {%- for column, condition in [
            ('lost_energy_unavailable_kwh', 'categories.is_production_loss_unavailable'),
            ('lost_energy_forced_outage_kwh', "categories_daily.availability_category = 'forced_outage'"),
            ('lost_energy_scheduled_maintenance_kwh', "categories_daily.availability_category = 'scheduled_maintenance'"),
            ('lost_energy_curtailment_kwh', "categories_daily.availability_category = 'partial_performance_derated'"),
            ('lost_energy_grid_kwh', "categories_daily.availability_category = 'out_of_electrical_specification'"),
        ] %}
        case when count(categories_daily.lost_energy_kwh) > 0 then coalesce(
            sum(categories_daily.lost_energy_kwh) filter (where {{ condition }}), 0
        ) end as {{ column }},
        {%- endfor %}
        sum(categories_daily.lost_energy_fitted_curve_kwh) as lost_energy_fitted_curve_kwh,
        max(categories_daily.dlt_load_id) as dlt_load_id
    from categories_daily
    left join categories
        on categories_daily.availability_category = categories.category
    group by categories_daily.turbine_id, categories_daily.local_date

),

final as (

    select
        -- keys
        aggregated.turbine_id,
        aggregated.local_date,
        aggregated.site_code,

        -- time (IEC 61400-26-1)
        aggregated.hours::double precision as hours,
        aggregated.hours_with_information::double precision as hours_with_information,
        aggregated.hours_available::double precision as hours_available,
        aggregated.hours_unavailable::double precision as hours_unavailable,
        (aggregated.hours_with_information / nullif(aggregated.hours, 0))::double precision
            as information_share,
        (
            aggregated.hours_available / nullif(aggregated.hours_with_information, 0)
        )::double precision as time_based_availability,

        -- energy (IEC 61400-26-2)
        aggregated.energy_produced_kwh::double precision as energy_produced_kwh,
        aggregated.lost_energy_kwh::double precision as lost_energy_kwh,
        aggregated.lost_energy_unavailable_kwh::double precision as lost_energy_unavailable_kwh,
        aggregated.lost_energy_forced_outage_kwh::double precision
            as lost_energy_forced_outage_kwh,
        aggregated.lost_energy_scheduled_maintenance_kwh::double precision
            as lost_energy_scheduled_maintenance_kwh,
        aggregated.lost_energy_curtailment_kwh::double precision as lost_energy_curtailment_kwh,
        aggregated.lost_energy_grid_kwh::double precision as lost_energy_grid_kwh,
        aggregated.lost_energy_fitted_curve_kwh::double precision
            as lost_energy_fitted_curve_kwh,
        (
            aggregated.energy_produced_kwh
            / nullif(aggregated.energy_produced_kwh + aggregated.lost_energy_unavailable_kwh, 0)
        )::double precision as production_based_availability,
        (turbines.rated_power_kw * aggregated.hours)::double precision as rated_energy_kwh,
        (
            aggregated.energy_produced_kwh / nullif(turbines.rated_power_kw * aggregated.hours, 0)
        )::double precision as capacity_factor,
        wind_daily.mean_wind_speed_ms::double precision as mean_wind_speed_ms,

        -- metadata
        aggregated.dlt_load_id

    from aggregated
    left join turbines
        on aggregated.turbine_id = turbines.turbine_id
    left join wind_daily
        on
            aggregated.turbine_id = wind_daily.turbine_id
            and aggregated.local_date = wind_daily.local_date

)

select * from final
