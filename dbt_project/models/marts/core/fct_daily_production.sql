{#-
    Grain: one row per turbine per production day (the site's local calendar day, as the
    production department exports it). The meter's energy, availability and hours from
    the CSV exports, beside the energy the SCADA 10-minute means add up to over the same
    local day and the share of that day's periods the SCADA measured: a check of one
    source against the other. The SCADA side comes from int_turbine_local_days_measured,
    kept incrementally; this table joins two small tables. A value of the export outside
    the physical bounds of the plausibility_bounds seed is null here, its row flagged
    (int_daily_production_checked).
-#}
with

production as (

    -- a turbine the configuration does not know is held aside (quality_held_aside)
    select * from {{ ref('int_daily_production_checked') }}
    where {{ is_turbine_registered('turbine_id') }}

),

turbine_time_zones as (

    select * from {{ ref('int_turbines_parameterised') }}

),

-- The SCADA over each local day, kept incrementally (int_turbine_local_days_measured).
scada_local_days as (

    select * from {{ ref('int_turbine_local_days_measured') }}

),

local_day_lengths as (

    select
        production.turbine_id,
        production.production_date,
        (
            extract(
                epoch from
                (production.production_date + 1)::timestamp
                at time zone turbine_time_zones.time_zone
                - production.production_date::timestamp
                at time zone turbine_time_zones.time_zone
            ) / 600
        )::integer as expected_period_count
    from production
    left join turbine_time_zones
        on production.turbine_id = turbine_time_zones.turbine_id

),

final as (

    select
        -- keys
        md5(production.turbine_id || '|' || production.production_date::text)
            as daily_production_key,
        md5(production.turbine_id) as turbine_key,
        to_char(production.production_date, 'YYYYMMDD')::integer as date_key,
        production.turbine_id,
        production.production_date,

        -- measures: the production department's meter
        production.energy_kwh,
        production.availability_pct,
        production.operating_hours,

        -- measures: the SCADA over the same local day
        scada_local_days.scada_energy_kwh,
        coalesce(scada_local_days.measured_period_count, 0)::integer
            as scada_measured_period_count,
        local_day_lengths.expected_period_count,
        round(
            coalesce(scada_local_days.measured_period_count, 0)::numeric
            / nullif(local_day_lengths.expected_period_count, 0),
            4
        )::double precision as scada_coverage_share,

        -- plausibility: the export's measures set to null as implausible
        production.has_implausible_values,
        production.implausible_measures,

        -- metadata: origin of the row
        production.source_file,
        production.source_line,
        production.dlt_load_id

    from production
    left join scada_local_days
        on
            production.turbine_id = scada_local_days.turbine_id
            and production.production_date = scada_local_days.local_date
    left join local_day_lengths
        on
            production.turbine_id = local_day_lengths.turbine_id
            and production.production_date = local_day_lengths.production_date

)

select * from final
