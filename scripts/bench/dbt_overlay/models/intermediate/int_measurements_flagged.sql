{#-
    QC flags on the 10-minute grid (OpenOA vocabulary); rows are flagged, never dropped.
      is_out_of_range_<signal>  value outside the sensor_bounds seed's range for the
                                turbine's model
      is_frozen_<signal>        (temperatures) the same value for at least
                                var('frozen_min_periods') consecutive measured periods;
                                gaps neither break nor extend a run
      qc_flag_count             number of flags raised on the row (conflicting duplicate
                                included)
      is_valid                  not a gap and no flag
-#}
{%- set first_date = reprocess_from_date(this) %}
{{
    config(
        materialized='incremental',
        unique_key='measured_date',
        incremental_strategy='delete+insert',
        incremental_predicates=[
            "DBT_INTERNAL_DEST.measured_date >= '" ~ (first_date or '1900-01-01') ~ "'::date"
        ],
        indexes=[
            {'columns': ['turbine_id', 'measured_at'], 'unique': True},
            {'columns': ['measured_date']},
            {'columns': ['dlt_load_id']},
        ],
        on_schema_change='append_new_columns',
        post_hook=['analyze {{ this }}']
    )
}}
{#- scripts/bench overlay: incremental; one day of context for the frozen runs. -#}
{%- set frozen_min_periods = var('frozen_min_periods', 6) %}

with

gridded as (

    select * from {{ ref('int_measurements_gridded') }}
    where {{ in_read_window(first_date) }}

),

turbines as (

    select * from {{ ref('stg_scada__turbines') }}

),

sensor_bounds as (

    select * from {{ ref('sensor_bounds') }}

),

model_bounds as (

    select
        {%- for signal in measurement_signals() %}
        max(min_value) filter (
            where signal = '{{ signal.signal }}'
        ) as {{ signal.signal }}_min,
        max(max_value) filter (
            where signal = '{{ signal.signal }}'
        ) as {{ signal.signal }}_max,
        {%- endfor %}
        model
    from sensor_bounds
    group by model

),

range_checked as (

    select
        {%- for signal in measurement_signals() %}
        coalesce(
            gridded.{{ signal.column }} < model_bounds.{{ signal.signal }}_min
            or gridded.{{ signal.column }} > model_bounds.{{ signal.signal }}_max,
            false
        ) as is_out_of_range_{{ signal.signal }},
        {%- endfor %}
        gridded.*
    from gridded
    left join turbines
        on gridded.turbine_id = turbines.turbine_id
    left join model_bounds
        on turbines.turbine_model = model_bounds.model

),

-- Runs of equal values per turbine and signal, over the periods where the signal has a
-- value (partitioning on "is null" skips the gaps and null values).
run_starts as (

    select
        {%- for signal in frozen_checked_signals() %}
        -- 1 where a run of equal values starts (the first value, or a change)
        coalesce(
            {{ signal.column }} <> lag({{ signal.column }}) over (
                partition by turbine_id, {{ signal.column }} is null
                order by measured_at
            ),
            true
        )::integer as {{ signal.signal }}_run_start,
        {%- endfor %}
        *
    from range_checked

),

run_ids as (

    select
        {%- for signal in frozen_checked_signals() %}
        sum({{ signal.signal }}_run_start) over (
            partition by turbine_id, {{ signal.column }} is null
            order by measured_at
            rows between unbounded preceding and current row
        ) as {{ signal.signal }}_run_id,
        {%- endfor %}
        *
    from run_starts

),

run_lengths as (

    select
        {%- for signal in frozen_checked_signals() %}
        count({{ signal.column }}) over (
            partition by turbine_id, {{ signal.signal }}_run_id, {{ signal.column }} is null
        ) as {{ signal.signal }}_run_length,
        {%- endfor %}
        *
    from run_ids

),

frozen_checked as (

    select
        {%- for signal in frozen_checked_signals() %}
        {{ signal.signal }}_run_length >= {{ frozen_min_periods }} as is_frozen_{{ signal.signal }},
        {%- endfor %}
        *
    from run_lengths

),

counted as (

    select
        *,
        (
            has_conflicting_duplicates::integer
            {%- for signal in measurement_signals() %}
            + is_out_of_range_{{ signal.signal }}::integer
            {%- endfor %}
            {%- for signal in frozen_checked_signals() %}
            + is_frozen_{{ signal.signal }}::integer
            {%- endfor %}
        ) as qc_flag_count
    from frozen_checked

),

flagged as (

    select
        -- keys
        turbine_id,
        measured_at,
        measured_date,

        -- measures
        {%- for signal in measurement_signals() %}
        {{ signal.column }},
        {%- endfor %}

        -- gaps and duplicates
        is_gap,
        source_row_count,
        has_duplicates,
        has_conflicting_duplicates,

        -- QC flags
        {%- for signal in measurement_signals() %}
        is_out_of_range_{{ signal.signal }},
        {%- endfor %}
        {%- for signal in frozen_checked_signals() %}
        is_frozen_{{ signal.signal }},
        {%- endfor %}
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
