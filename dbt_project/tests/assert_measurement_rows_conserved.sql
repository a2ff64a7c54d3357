-- Nothing is lost between staging and the grid: every staged measurement row of a
-- registered turbine is counted in one deduplicated period (the others are held aside:
-- quality_held_aside), and every deduplicated period sits on the grid.
-- On a daily run, over the days the run can have changed (macro recent_test_window).
with

staged as (

    select count(*) as n_rows from {{ ref('stg_scada__measurements') }}
    where
        {{ recent_test_window() }}
        and {{ is_turbine_registered('turbine_id') }}

),

deduplicated as (

    select
        count(*) as n_periods,
        coalesce(sum(source_row_count), 0) as n_source_rows
    from {{ ref('int_measurements_deduplicated') }}
    where {{ recent_test_window() }}

),

gridded as (

    select count(*) filter (where not is_gap) as n_measured_periods
    from {{ ref('int_measurements_gridded') }}
    where {{ recent_test_window() }}

)

select
    staged.n_rows,
    deduplicated.n_source_rows,
    deduplicated.n_periods,
    gridded.n_measured_periods
from staged
cross join deduplicated
cross join gridded
where
    staged.n_rows <> deduplicated.n_source_rows
    or deduplicated.n_periods <> gridded.n_measured_periods
