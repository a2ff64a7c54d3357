{#-
    Active power against wind speed: every 10-minute period of the fact's newest days
    (macro quality_recent_days) with both values, for the quality page's power-curve
    scatter. The page draws all of them or a deterministic sample on the time grid
    (grid_index), so the same data always gives the same picture.
-#}
{%- set first_date = quality_recent_first_date(ref('fct_turbine_measurements')) %}
{{ config(pre_hook="set local random_page_cost = 1.1") }}
with

measurements as (

    select * from {{ ref('fct_turbine_measurements') }}

),

final as (

    select
        -- keys
        measurements.turbine_id,
        measurements.measured_at,

        -- measures
        measurements.wind_speed_avg,
        measurements.active_power_avg,

        -- attributes
        measurements.qc_flag_count > 0 as is_flagged,
        floor(extract(epoch from measurements.measured_at) / 600)::bigint as grid_index,
        {{ first_date }} as first_date

    from measurements
    where
        measurements.measured_date >= {{ first_date }}
        and measurements.wind_speed_avg is not null
        and measurements.active_power_avg is not null

)

select * from final
