-- Type changes of landed tables that a newer version of the loaders needs, applied by
-- bootstrap as the administrator (a view of another role depends on the column). Each
-- one is idempotent: it does nothing to a warehouse that already has the new type.

-- Alarm codes are text (docs/sources.md, "Registry and alarms"): a controller writes
-- FL-2314 or a remark as well as 3120. Warehouses loaded before hold them as bigint. The
-- staging view over the column (and any view over that one) is dropped: the next dbt
-- build creates them again. The loader tells dlt's own schema (sensor_db/load.py).
do $$
begin
    if exists (
        select 1 from information_schema.columns
        where table_schema = 'raw' and table_name = 'scada_alarms'
            and column_name = 'alarm_code'
            -- dlt writes text columns as varchar: both are text, only a number migrates
            and data_type not in ('text', 'character varying')
    ) then
        drop view if exists staging.stg_scada__alarms cascade;
        alter table raw.scada_alarms alter column alarm_code type text using alarm_code::text;
    end if;
end
$$;
