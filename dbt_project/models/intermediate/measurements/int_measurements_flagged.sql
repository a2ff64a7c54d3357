{#-
    QC flags on the 10-minute grid (OpenOA vocabulary); rows are flagged, never dropped.
    Thresholds come from int_turbines_parameterised (the sensor_bounds seed per signal and
    turbine model, the qc_thresholds seed); an empty threshold switches a check off.
      is_out_of_range_<signal>  value outside the plausible range
      is_frozen_<signal>        the same value over at least frozen_min_minutes of
                                consecutive measured periods (gaps neither break nor
                                extend a run, a missing value ends it), unless the value
                                is one that is legitimately constant
                                (frozen_ignore_below/above: 0 kW at standstill, rated
                                power, a still rotor)
      is_spike_<signal>         further than spike_max_step from both neighbouring
                                measured values, on the same side of both (a single-period
                                excursion; a step up or down is not a spike)
      is_power_curve_outlier    the rotor turns, wind and power are usable, and the power
                                differs from the model's power curve (linearly
                                interpolated between the seed's 0.5 m/s bins) by more than
                                a share of rated power
      qc_flag_count, is_valid   flags raised (conflicting duplicate included); is_valid
                                when not a gap and none
    Incremental (delete+insert by measured_date): a run rewrites the reprocess window and
    reads one day more before it, the context of the frozen runs and spikes that cross
    the window's first midnight (frozen_min_minutes is at most an hour in the seed).
-#}
{%- set first_date = reprocess_from_date(this) %}
{%- set signals = measurement_signals() %}
{%- set wind = signal_named('wind_speed') %}
{%- set power = signal_named('active_power') %}

with

gridded as (

    select * from {{ ref('int_measurements_gridded') }}
    where {{ in_read_window(first_date) }}

),

turbines as (

    select * from {{ ref('int_turbines_parameterised') }}

),

-- The power curve as segments between consecutive points, for linear interpolation.
curve_segments as (

    select * from {{ ref('int_power_curves_segmented') }}

),

with_parameters as (

    select
        gridded.*,
        turbines.turbine_model,
        turbines.rated_power_kw,
        turbines.cut_in_wind_speed_ms,
        turbines.cut_out_wind_speed_ms,
        {%- for signal in signals %}
        turbines.{{ signal.signal }}_range_min,
        turbines.{{ signal.signal }}_range_max,
        turbines.{{ signal.signal }}_frozen_min_minutes,
        turbines.{{ signal.signal }}_frozen_ignore_below,
        turbines.{{ signal.signal }}_frozen_ignore_above,
        turbines.{{ signal.signal }}_spike_max_step,
        {%- endfor %}
        turbines.power_curve_tolerance_share_of_rated,
        turbines.power_curve_min_rotor_speed_rpm
    from gridded
    left join turbines
        on gridded.turbine_id = turbines.turbine_id

),

-- The measured periods (gaps left out: they neither break nor extend a run, and a
-- spike's neighbours are the measured periods around it), on narrow rows: every window
-- below shares one ordering per turbine, so the database sorts them once, not per signal.
measured as (

    select
        {%- for signal in signals %}
        {{ signal.column }},
        {%- endfor %}
        turbine_id,
        measured_at
    from gridded
    where not is_gap

),

neighbours as (

    select
        {%- for signal in signals %}
        lag({{ signal.column }}) over by_time as {{ signal.signal }}_previous,
        lead({{ signal.column }}) over by_time as {{ signal.signal }}_next,
        {%- endfor %}
        row_number() over by_time as period_index,
        *
    from measured
    window by_time as (partition by turbine_id order by measured_at)

),

-- Runs of equal values: a run starts where the value differs from the previous measured
-- one (a missing value starts a run of its own and ends the one before it).
run_starts as (

    select
        {%- for signal in signals %}
        case
            when {{ signal.column }} = {{ signal.signal }}_previous then null
            else period_index
        end as {{ signal.signal }}_run_start,
        {%- endfor %}
        *
    from neighbours

),

run_lengths as (

    select
        {%- for signal in signals %}
        {{ signal.signal }}_previous,
        {{ signal.signal }}_next,
        coalesce(
            min({{ signal.signal }}_run_start) over after_this,
            max(period_index) over whole_turbine + 1
        ) - max({{ signal.signal }}_run_start) over up_to_this as {{ signal.signal }}_run_periods,
        {%- endfor %}
        turbine_id,
        measured_at
    from run_starts
    window
        up_to_this as (
            partition by turbine_id order by measured_at
            rows between unbounded preceding and current row
        ),
        after_this as (
            partition by turbine_id order by measured_at desc
            rows between unbounded preceding and 1 preceding
        ),
        whole_turbine as (partition by turbine_id)

),

signal_checked as (

    select
        {%- for signal in signals %}
        coalesce(
            {{ signal.column }} < {{ signal.signal }}_range_min
            or {{ signal.column }} > {{ signal.signal }}_range_max,
            false
        ) as is_out_of_range_{{ signal.signal }},
        coalesce(
            10 * {{ signal.signal }}_run_periods >= {{ signal.signal }}_frozen_min_minutes
            and not coalesce(
                {{ signal.column }} <= {{ signal.signal }}_frozen_ignore_below, false
            )
            and not coalesce(
                {{ signal.column }} >= {{ signal.signal }}_frozen_ignore_above, false
            ),
            false
        ) as is_frozen_{{ signal.signal }},
        coalesce(
            sign({{ signal.column }} - {{ signal.signal }}_previous)
            = sign({{ signal.column }} - {{ signal.signal }}_next)
            and abs({{ signal.column }} - {{ signal.signal }}_previous)
            > {{ signal.signal }}_spike_max_step
            and abs({{ signal.column }} - {{ signal.signal }}_next)
            > {{ signal.signal }}_spike_max_step,
            false
        ) as is_spike_{{ signal.signal }},
        {%- endfor %}
        with_parameters.*
    from with_parameters
    left join run_lengths
        on
            with_parameters.turbine_id = run_lengths.turbine_id
            and with_parameters.measured_at = run_lengths.measured_at

),

-- The curve's power at each period's wind speed, on narrow rows (keys, model, wind).
expected_power as (

    select
        gridded.turbine_id,
        gridded.measured_at,
        case
            when gridded.{{ wind.column }} is null then null
            when
                gridded.{{ wind.column }} >= turbines.cut_out_wind_speed_ms
                then 0.0
            else
                curve_segments.power_from_kw
                + (curve_segments.power_to_kw - curve_segments.power_from_kw)
                * (gridded.{{ wind.column }} - curve_segments.wind_from_ms)
                / (curve_segments.wind_to_ms - curve_segments.wind_from_ms)
        end as expected_power_kw
    from gridded
    left join turbines
        on gridded.turbine_id = turbines.turbine_id
    left join curve_segments
        on
            turbines.turbine_model = curve_segments.model
            and gridded.{{ wind.column }} >= curve_segments.wind_from_ms
            and gridded.{{ wind.column }} < curve_segments.wind_to_ms

),

power_curve_checked as (

    select
        signal_checked.*,
        expected_power.expected_power_kw,
        coalesce(
            {{ signal_is_usable(wind, 'signal_checked') }}
            and {{ signal_is_usable(power, 'signal_checked') }}
            and signal_checked.{{ wind.column }} >= signal_checked.cut_in_wind_speed_ms
            and signal_checked.{{ wind.column }} < signal_checked.cut_out_wind_speed_ms
            and signal_checked.rotor_speed_avg >= signal_checked.power_curve_min_rotor_speed_rpm
            and abs(signal_checked.{{ power.column }} - expected_power.expected_power_kw)
            > signal_checked.power_curve_tolerance_share_of_rated
            * signal_checked.rated_power_kw,
            false
        ) as is_power_curve_outlier
    from signal_checked
    inner join expected_power
        on
            signal_checked.turbine_id = expected_power.turbine_id
            and signal_checked.measured_at = expected_power.measured_at

),

counted as (

    select
        *,
        (
            has_conflicting_duplicates::integer
            + is_power_curve_outlier::integer
            {%- for signal in signals %}
            {%- for flag_type in qc_signal_flag_types() %}
            + is_{{ flag_type }}_{{ signal.signal }}::integer
            {%- endfor %}
            {%- endfor %}
        ) as qc_flag_count
    from power_curve_checked

),

flagged as (

    select
        -- keys
        turbine_id,
        measured_at,
        measured_date,

        -- measures
        {%- for column in signal_statistic_columns() %}
        {{ column }},
        {%- endfor %}
        expected_power_kw,

        -- gaps and duplicates
        is_gap,
        source_row_count,
        has_duplicates,
        has_conflicting_duplicates,

        -- QC flags
        {%- for flag_type in qc_signal_flag_types() %}
        {%- for signal in signals %}
        is_{{ flag_type }}_{{ signal.signal }},
        {%- endfor %}
        {%- endfor %}
        is_power_curve_outlier,
        qc_flag_count,
        not is_gap and qc_flag_count = 0 as is_valid,

        -- metadata: origin of the measurement
        source_row_id,
        source_table,
        dlt_load_id

    from counted
    where {{ in_write_window(first_date) }}

)

select * from flagged
