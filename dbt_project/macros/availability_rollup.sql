{#-
    SQL: the select list that rolls fct_turbine_availability_daily rows up to a coarser
    grain (a month, a park): every time and energy column summed, and the ratios computed
    again from the sums (never averaged: a day with fewer hours with information weighs
    less). The caller groups by its keys.
-#}
{% macro availability_rollup() -%}
        sum(hours) as hours,
        sum(hours_with_information) as hours_with_information,
        sum(hours_available) as hours_available,
        sum(hours_unavailable) as hours_unavailable,
        sum(hours_with_information) / nullif(sum(hours), 0) as information_share,
        sum(hours_available)
        / nullif(sum(hours_with_information), 0) as time_based_availability,
        sum(energy_produced_kwh) as energy_produced_kwh,
        sum(lost_energy_kwh) as lost_energy_kwh,
        sum(lost_energy_unavailable_kwh) as lost_energy_unavailable_kwh,
        sum(lost_energy_forced_outage_kwh) as lost_energy_forced_outage_kwh,
        sum(lost_energy_scheduled_maintenance_kwh) as lost_energy_scheduled_maintenance_kwh,
        sum(lost_energy_curtailment_kwh) as lost_energy_curtailment_kwh,
        sum(lost_energy_grid_kwh) as lost_energy_grid_kwh,
        sum(lost_energy_fitted_curve_kwh) as lost_energy_fitted_curve_kwh,
        sum(energy_produced_kwh) / nullif(
            sum(energy_produced_kwh) + sum(lost_energy_unavailable_kwh), 0
        ) as production_based_availability,
        sum(rated_energy_kwh) as rated_energy_kwh,
        sum(energy_produced_kwh) / nullif(sum(rated_energy_kwh), 0) as capacity_factor,
        sum(mean_wind_speed_ms * hours) filter (where mean_wind_speed_ms is not null)
        / nullif(sum(hours) filter (where mean_wind_speed_ms is not null), 0)
        as mean_wind_speed_ms
{%- endmacro %}
