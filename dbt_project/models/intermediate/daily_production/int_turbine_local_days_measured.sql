{#-
    The SCADA side of fct_daily_production: per turbine and local calendar day of its
    site (as the production department exports it), the measured periods and the energy
    the 10-minute mean powers add up to (a power value counts unless it is out of range
    or a spike; a frozen power value is still energy produced). Kept incrementally
    (delete+insert by local_date over the reprocess window, reading one UTC day more
    before it: a local day starts on the UTC day before), so that the daily fact joins
    this small table instead of rescanning the grid.
-#}
{%- set first_date = reprocess_from_date(this) %}

with

flagged as (

    select * from {{ ref('int_measurements_flagged') }}
    where {{ in_read_window(first_date) }}

),

turbines as (

    select * from {{ ref('int_turbines_registered') }}

),

sites as (

    select * from {{ ref('sites') }}

),

turbine_time_zones as (

    select
        turbines.turbine_id,
        coalesce(sites.time_zone, '{{ var("site_time_zone", "Europe/Paris") }}') as time_zone
    from turbines
    left join sites
        on turbines.site_code = sites.site_code

),

scada_periods as (

    select
        flagged.turbine_id,
        (flagged.measured_at at time zone turbine_time_zones.time_zone)::date as local_date,
        flagged.is_gap,
        flagged.dlt_load_id,
        case
            when
                not flagged.is_out_of_range_active_power
                and not flagged.is_spike_active_power
                then flagged.active_power_avg
        end as counted_power_kw
    from flagged
    inner join turbine_time_zones
        on flagged.turbine_id = turbine_time_zones.turbine_id

),

local_days as (

    select
        -- keys
        turbine_id,
        local_date,

        -- measures
        count(*) filter (where not is_gap) as measured_period_count,
        sum(counted_power_kw) / 6.0 as scada_energy_kwh,

        -- metadata
        max(dlt_load_id) as dlt_load_id

    from scada_periods
    where {{ in_write_window(first_date, 'local_date') }}
    group by turbine_id, local_date

)

select * from local_days
