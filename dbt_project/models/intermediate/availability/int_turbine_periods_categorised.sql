{#-
    Every 10-minute period of every turbine in one IEC 61400-26-1 information category,
    with its expected power and the energy lost against it (IEC 61400-26-2).

    The category is decided by the rules of the availability_rules seed, in their
    rule_order (the first rule that matches wins): each period offers up to four facts,
    the covering intervention's type, the stopping alarm's component and severity (the
    alarm_codes catalogue), and its operating state (int_turbine_states_classified, where
    `curtailed` is split in two by OpenOA's rule: under-production at every reporting
    turbine of the site at once is curtailment, `curtailed_park`; at one turbine while
    the others produce, a loss of the turbine, `curtailed_alone`).

    Expected power: the turbine model's power curve at the period's wind speed, the
    speed normalised to the period's air density (IEC 61400-12-1: v * (rho / 1.225)^(1/3),
    rho from the surface pressure and the temperature; sea-level density where either is
    unknown). The wind speed is the nacelle anemometer's when QC lets it be used, else the
    median of the site's other turbines in the same period (a neighbouring turbine
    stands in for an untrustworthy anemometer). Lost energy = max(expected - actual, 0)
    over the period's 1/6 h, in every category but full performance (none lost by
    definition) and information unavailable (nothing known to compare).

    Incremental like int_turbine_states_classified (delete+insert by measured_date over
    the reprocess window, widened by late alarms, interventions and weather; folder
    config in dbt_project.yml).
-#}
{%- set first_date = reprocess_from_date(this, with_events=true) %}
{%- set wind = signal_named('wind_speed') %}
{%- set power = signal_named('active_power') %}

with

states as (

    select * from {{ ref('int_turbine_states_classified') }}
    where {{ in_write_window(first_date) }}

),

flagged as (

    select * from {{ ref('int_measurements_flagged') }}
    where {{ in_write_window(first_date) }}

),

weather as (

    select * from {{ ref('int_measurements_weather_joined') }}
    where {{ in_write_window(first_date) }}

),

turbines as (

    select * from {{ ref('int_turbines_registered') }}

),

turbine_models as (

    select * from {{ ref('turbine_models') }}

),

-- The power curve as segments between consecutive points, for linear interpolation.
curve_segments as (

    select * from {{ ref('int_power_curves_segmented') }}

),

alarm_codes as (

    select * from {{ ref('alarm_codes') }}

),

maintenance_events as (

    select * from {{ ref('int_maintenance_events_registered') }}

),

rules as (

    select * from {{ ref('availability_rules') }}

),

periods as (

    select
        states.turbine_id,
        states.measured_at,
        states.measured_date,
        turbines.site_code,
        turbines.turbine_model,
        turbine_models.cut_out_wind_speed_ms,
        states.operating_state,
        states.stop_alarm_code,
        states.maintenance_intervention_id,
        case
            when {{ signal_is_usable(wind, 'flagged') }} then flagged.{{ wind.column }}
        end as nacelle_wind_speed_ms,
        case
            when {{ signal_is_usable(power, 'flagged') }} then flagged.{{ power.column }}
        end as usable_power_kw,
        coalesce(states.state_ambient_temp_c, weather.temperature_2m_c) as air_temp_c,
        weather.surface_pressure_hpa,
        states.dlt_load_id
    from states
    inner join flagged
        on
            states.turbine_id = flagged.turbine_id
            and states.measured_at = flagged.measured_at
    left join weather
        on
            states.turbine_id = weather.turbine_id
            and states.measured_at = weather.measured_at
    left join turbines
        on states.turbine_id = turbines.turbine_id
    left join turbine_models
        on turbines.turbine_model = turbine_models.model

),

-- What the site's turbines do in each period: the neighbours' median wind, and whether
-- every turbine with a usable state is curtailed at once.
site_periods as (

    select
        site_code,
        measured_at,
        count(*) filter (
            where operating_state in ('producing', 'curtailed', 'icing_suspected', 'idle_low_wind')
        ) as turbines_reporting,
        count(*) filter (where operating_state = 'curtailed') as turbines_curtailed
    from periods
    group by site_code, measured_at

),

neighbour_winds as (

    select
        periods.turbine_id,
        periods.measured_at,
        percentile_cont(0.5) within group (
            order by neighbours.nacelle_wind_speed_ms
        ) as neighbour_wind_speed_ms
    from periods
    inner join periods as neighbours
        on
            periods.site_code = neighbours.site_code
            and periods.measured_at = neighbours.measured_at
            and periods.turbine_id != neighbours.turbine_id
            and neighbours.nacelle_wind_speed_ms is not null
    where periods.nacelle_wind_speed_ms is null
    group by periods.turbine_id, periods.measured_at

),

-- The facts each period offers to the rules (fact_name, fact_value).
facts as (

    select
        periods.turbine_id,
        periods.measured_at,
        'intervention_type' as fact_name,
        maintenance_events.intervention_type as fact_value
    from periods
    inner join maintenance_events
        on periods.maintenance_intervention_id = maintenance_events.intervention_id

    union all

    select
        periods.turbine_id,
        periods.measured_at,
        'alarm_component' as fact_name,
        alarm_codes.component as fact_value
    from periods
    inner join alarm_codes
        on periods.stop_alarm_code = alarm_codes.alarm_code

    union all

    select
        periods.turbine_id,
        periods.measured_at,
        'alarm_severity' as fact_name,
        alarm_codes.severity as fact_value
    from periods
    inner join alarm_codes
        on periods.stop_alarm_code = alarm_codes.alarm_code

    union all

    select
        periods.turbine_id,
        periods.measured_at,
        'operating_state' as fact_name,
        case
            when periods.operating_state != 'curtailed' then periods.operating_state
            when site_periods.turbines_curtailed = site_periods.turbines_reporting
                then 'curtailed_park'
            else 'curtailed_alone'
        end as fact_value
    from periods
    left join site_periods
        on
            periods.site_code = site_periods.site_code
            and periods.measured_at = site_periods.measured_at

),

decided as (

    select distinct on (facts.turbine_id, facts.measured_at)
        facts.turbine_id,
        facts.measured_at,
        rules.category as availability_category,
        rules.rule_order as deciding_rule_order
    from facts
    inner join rules
        on
            facts.fact_name = rules.fact_name
            and (facts.fact_value = rules.fact_value or rules.fact_value = '*')
    order by facts.turbine_id, facts.measured_at, rules.rule_order

),

expected as (

    select
        periods.*,
        decided.availability_category,
        decided.deciding_rule_order,
        coalesce(
            periods.nacelle_wind_speed_ms, neighbour_winds.neighbour_wind_speed_ms
        ) as wind_speed_ms,
        periods.nacelle_wind_speed_ms is null
        and neighbour_winds.neighbour_wind_speed_ms is not null as is_wind_from_neighbours,
        case
            when periods.surface_pressure_hpa is not null and periods.air_temp_c is not null
                then
                    periods.surface_pressure_hpa * 100.0
                    / (287.05 * (periods.air_temp_c + 273.15))
        end as air_density_kg_m3
    from periods
    left join decided
        on
            periods.turbine_id = decided.turbine_id
            and periods.measured_at = decided.measured_at
    left join neighbour_winds
        on
            periods.turbine_id = neighbour_winds.turbine_id
            and periods.measured_at = neighbour_winds.measured_at

),

normalised as (

    select
        *,
        wind_speed_ms
        * power(coalesce(air_density_kg_m3, 1.225) / 1.225, 1.0 / 3) as normalised_wind_speed_ms
    from expected

),

models_with_a_curve as (

    select distinct model from curve_segments

),

with_expected_power as (

    select
        normalised.*,
        case
            when normalised.normalised_wind_speed_ms is null then null
            -- no power curve for the turbine's model: nothing expected is known
            when models_with_a_curve.model is null then null
            when normalised.wind_speed_ms >= normalised.cut_out_wind_speed_ms then 0.0
            -- below the curve's first point (cut-in) or past its last: nothing expected
            when curve_segments.wind_to_ms is null then 0.0
            else
                curve_segments.power_from_kw
                + (curve_segments.power_to_kw - curve_segments.power_from_kw)
                * (normalised.normalised_wind_speed_ms - curve_segments.wind_from_ms)
                / (curve_segments.wind_to_ms - curve_segments.wind_from_ms)
        end as expected_power_kw
    from normalised
    left join models_with_a_curve
        on normalised.turbine_model = models_with_a_curve.model
    left join curve_segments
        on
            normalised.turbine_model = curve_segments.model
            and normalised.normalised_wind_speed_ms >= curve_segments.wind_from_ms
            and normalised.normalised_wind_speed_ms < curve_segments.wind_to_ms

),

final as (

    select
        -- keys
        turbine_id,
        measured_at,
        measured_date,
        site_code,

        -- category and why
        coalesce(availability_category, 'information_unavailable') as availability_category,
        deciding_rule_order,
        operating_state,
        stop_alarm_code,
        maintenance_intervention_id,

        -- expected and actual power
        wind_speed_ms,
        coalesce(is_wind_from_neighbours, false) as is_wind_from_neighbours,
        air_density_kg_m3,
        air_density_kg_m3 is not null as is_density_corrected,
        normalised_wind_speed_ms,
        expected_power_kw,
        usable_power_kw as actual_power_kw,

        -- measures (kWh over the period's 1/6 h)
        greatest(coalesce(usable_power_kw, 0), 0) / 6.0 as energy_produced_kwh,
        case
            when availability_category = 'full_performance' then 0.0
            when
                coalesce(availability_category, 'information_unavailable')
                = 'information_unavailable'
                then null
            else greatest(expected_power_kw - greatest(coalesce(usable_power_kw, 0), 0), 0) / 6.0
        end as lost_energy_kwh,

        -- metadata: the SCADA load of the period (the reprocess window's bookmark)
        dlt_load_id

    from with_expected_power

)

select * from final
