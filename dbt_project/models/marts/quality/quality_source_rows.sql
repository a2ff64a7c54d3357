{#-
    One row per raw table: rows landed, rows the loader rejected for it (0 for tables
    without a __rejected table) and dlt loads present. Read through the staging views,
    which keep every raw row; the SCADA measurements through
    int_measurement_rows_days_counted, their rows counted per day and load incrementally
    (counting the whole raw table every run would grow with the history).
-#}
with

rejected as (

    select
        target_table,
        dlt_load_id
    from {{ ref('stg_production__rejected_rows') }}

    union all

    select
        'scada_measurements' as target_table,
        dlt_load_id
    from {{ ref('stg_scada__rejected_measurements') }}

),

{%- set raw_tables = [
    ('scada', 'scada_turbines', 'stg_scada__turbines'),
    ('scada', 'scada_measurements', 'stg_scada__measurements'),
    ('scada', 'scada_alarms', 'stg_scada__alarms'),
    ('production', 'production_daily', 'stg_production__daily_production'),
    ('production', 'maintenance_log', 'stg_production__maintenance_events'),
    ('weather', 'weather_hourly', 'stg_weather__hourly'),
] %}

landed as (
    {%- for source_name, raw_table, model in raw_tables %}

    select
        '{{ source_name }}' as source_name,
        '{{ raw_table }}' as raw_table,
        {%- if raw_table == 'scada_measurements' %}
        sum(row_count)::bigint as row_count,
        {%- else %}
        count(*) as row_count,
        {%- endif %}
        count(distinct dlt_load_id) as load_count,
        max({{ dlt_loaded_at('dlt_load_id') }}) as last_loaded_at
    {%- if raw_table == 'scada_measurements' %}
    -- the big one: its rows counted per day and load, incrementally
    from {{ ref('int_measurement_rows_days_counted') }}
    {%- else %}
    from {{ ref(model) }}
    {%- endif %}
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

rejected_counts as (

    select
        target_table,
        count(*) as rejected_row_count,
        max({{ dlt_loaded_at('dlt_load_id') }}) as last_rejected_at
    from rejected
    group by target_table

),

final as (

    select
        -- keys
        landed.raw_table,
        landed.source_name,

        -- measures
        landed.row_count,
        coalesce(rejected_counts.rejected_row_count, 0) as rejected_row_count,
        coalesce(
            round(
                100.0 * rejected_counts.rejected_row_count
                / (landed.row_count + rejected_counts.rejected_row_count),
                2
            ),
            0
        ) as pct_rejected,
        landed.load_count,

        -- attributes
        landed.last_loaded_at,
        rejected_counts.last_rejected_at

    from landed
    left join rejected_counts
        on landed.raw_table = rejected_counts.target_table

)

select * from final
