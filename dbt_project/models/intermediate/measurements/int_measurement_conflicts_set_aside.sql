{#-
    The conflicting duplicates kept aside: every staged source row of a turbine and period
    whose rows disagree on at least one signal, with the row int_measurements_deduplicated
    kept marked (is_kept, the same deterministic choice: highest source_row_id, then
    source_table, then the values' fingerprint). The other versions are not lost: they
    are here, for a person to decide.
    Incremental (delete+insert by measured_date) over the reprocess window. The table is
    often empty, so the window's bookmark (the newest load processed) is read from
    int_measurements_deduplicated, which runs after this model (it depends on it for
    that reason).
-#}
{%- set first_date = reprocess_from_date(
    this, bookmark='int_measurements_deduplicated'
) %}
{#- not unique: every version of a conflicting period is kept -#}
{{
    config(
        indexes=[
            {'columns': ['measured_date']},
            {'columns': ['turbine_id', 'measured_at']},
        ]
    )
}}

with

measurements as (

    select * from {{ ref('stg_scada__measurements') }}
    where {{ in_write_window(first_date) }}

),

fingerprinted as (

    select
        *,
        {{ signal_fingerprint() }} as signal_fingerprint
    from measurements

),

periods as (

    select
        turbine_id,
        measured_at,
        count(*) as source_row_count,
        count(distinct signal_fingerprint) as distinct_version_count
    from fingerprinted
    group by turbine_id, measured_at
    having count(distinct signal_fingerprint) > 1

),

versions as (

    select
        fingerprinted.*,
        periods.source_row_count,
        periods.distinct_version_count,
        row_number() over (
            partition by fingerprinted.turbine_id, fingerprinted.measured_at
            order by {{ kept_version_first('fingerprinted') }}
        ) as row_rank
    from fingerprinted
    inner join periods
        on
            fingerprinted.turbine_id = periods.turbine_id
            and fingerprinted.measured_at = periods.measured_at

),

conflicts as (

    select
        -- keys: stable across reloads (a reload gives the rows new dlt ids, not new ranks)
        md5(
            turbine_id || '|' || to_char(measured_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI')
            || '|' || row_rank::text
        ) as conflict_row_key,
        turbine_id,
        measured_at,
        measured_date,

        -- measures: this version's values
        {%- for signal in measurement_signals() %}
        {{ signal.column }},
        {%- endfor %}

        -- the conflict
        source_row_count,
        distinct_version_count,
        signal_fingerprint,
        row_rank::integer as version_rank,
        row_rank = 1 as is_kept,

        -- metadata: origin of the row
        source_row_id,
        source_table,
        dlt_load_id

    from versions

)

select * from conflicts
