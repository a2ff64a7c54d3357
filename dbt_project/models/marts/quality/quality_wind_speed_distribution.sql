{#-
    Distribution of the 10-minute mean wind speed over all turbines, in 1 m/s bins from
    0 to 30 m/s, plus one bin below 0 and one open bin at 30 m/s and above. Every bin is
    present, with zero counts when empty. Gaps and null values are not counted. Sums the
    daily counts of int_wind_speed_days_binned (kept incrementally) instead of the grid.
-#}
with

binned_days as (

    select * from {{ ref('int_wind_speed_days_binned') }}

),

bins as (

    select
        bin_index,
        case when bin_index >= 0 then bin_index end as bin_lower_ms,
        case when bin_index < 30 then bin_index + 1 end as bin_upper_ms,
        case
            when bin_index < 0 then '< 0'
            when bin_index >= 30 then '>= 30'
            else bin_index || '-' || bin_index + 1
        end as bin_label
    from generate_series(-1, 30) as bin_indexes (bin_index)

),

counted as (

    select
        bin_index,
        sum(row_count)::bigint as row_count,
        sum(flagged_row_count)::bigint as flagged_row_count,
        sum(out_of_range_row_count)::bigint as out_of_range_row_count
    from binned_days
    group by bin_index

),

final as (

    select
        -- keys
        bins.bin_index,

        -- attributes
        bins.bin_label,
        bins.bin_lower_ms,
        bins.bin_upper_ms,

        -- measures
        coalesce(counted.row_count, 0) as row_count,
        coalesce(counted.flagged_row_count, 0) as flagged_row_count,
        coalesce(counted.out_of_range_row_count, 0) as out_of_range_row_count,
        coalesce(
            round(100.0 * counted.row_count / nullif(sum(counted.row_count) over (), 0), 2),
            0
        ) as pct_of_rows

    from bins
    left join counted
        on bins.bin_index = counted.bin_index

)

select * from final
