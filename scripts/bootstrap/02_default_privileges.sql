-- Schemas and grants inside the warehouse database. Run connected to that database, as
-- a superuser; `{database}` is replaced by its quoted name. Safe to run again, and it
-- repairs drift: every privilege on the project's schemas and tables is first withdrawn,
-- then exactly the matrix of scripts/bootstrap/privileges.csv is granted again.
-- `python scripts/security/check_grants.py` proves that the live database matches it.

-- Nobody but the named roles may connect; PUBLIC gets nothing anywhere.
revoke all on database {database} from public;
grant connect on database {database}
to windfarm_loader, windfarm_transformer, windfarm_analyst, windfarm_quality_reader;
-- dbt's incremental models stage their rows in temporary tables.
grant temporary on database {database} to windfarm_transformer;

create schema if not exists raw authorization windfarm_owner;
create schema if not exists raw_staging authorization windfarm_owner;
create schema if not exists reference authorization windfarm_owner;
create schema if not exists staging authorization windfarm_owner;
create schema if not exists intermediate authorization windfarm_owner;
create schema if not exists core authorization windfarm_owner;
create schema if not exists ml authorization windfarm_owner;
create schema if not exists quality authorization windfarm_owner;
create schema if not exists audit authorization windfarm_owner;
-- Elementary's tables (dbt_project/monitoring), when its package is installed.
create schema if not exists elementary authorization windfarm_owner;

-- Start from nothing: grants made by hand or by an earlier version of this file go.
revoke all on schema public, raw, raw_staging, reference, staging, intermediate, core, ml,
quality, audit, elementary
from public, windfarm_loader, windfarm_transformer, windfarm_analyst, windfarm_quality_reader;
revoke all on all tables in schema raw, raw_staging
from public, windfarm_transformer, windfarm_analyst, windfarm_quality_reader;
revoke all on all tables in schema reference, staging, intermediate, core, ml, quality, elementary
from public, windfarm_loader, windfarm_analyst, windfarm_quality_reader;
revoke all on all tables in schema audit
from public, windfarm_loader, windfarm_transformer, windfarm_analyst, windfarm_quality_reader;
revoke all on all sequences in schema raw, raw_staging, reference, staging, intermediate, core,
ml, quality, audit, elementary
from public;
revoke all on all functions in schema public, raw, raw_staging, reference, staging,
intermediate, core, ml, quality, audit, elementary
from public;

-- Default privileges of the project's roles, withdrawn the same way (schema-level
-- entries; the global ones for functions are re-asserted below).
do $$
declare
    entry record;
begin
    for entry in
        select
            creator.rolname as creator_name,
            namespace.nspname as schema_name,
            case acl.defaclobjtype
                when 'r' then 'tables' when 'S' then 'sequences'
                when 'f' then 'functions' when 'T' then 'types' else 'schemas'
            end as object_kind,
            coalesce(grantee.rolname, 'public') as grantee_name
        from pg_catalog.pg_default_acl as acl
        inner join pg_catalog.pg_roles as creator on acl.defaclrole = creator.oid
        inner join pg_catalog.pg_namespace as namespace on acl.defaclnamespace = namespace.oid
        cross join lateral pg_catalog.aclexplode(acl.defaclacl) as granted
        left join pg_catalog.pg_roles as grantee on granted.grantee = grantee.oid
        where creator.rolname like 'windfarm\_%'
    loop
        execute format(
            'alter default privileges for role %I in schema %I revoke all on %s from %s',
            entry.creator_name,
            entry.schema_name,
            entry.object_kind,
            case when entry.grantee_name = 'public' then 'public'
                else quote_ident(entry.grantee_name) end
        );
    end loop;
end
$$;

-- Functions the project's roles create later are not executable by everybody.
alter default privileges for role windfarm_owner revoke execute on functions from public;
alter default privileges for role windfarm_loader revoke execute on functions from public;
alter default privileges for role windfarm_transformer revoke execute on functions from public;

-- Loader: lands sources in raw (dlt keeps its merge scratch tables in raw_staging).
grant usage, create on schema raw, raw_staging to windfarm_loader;

-- Transformer: reads raw, writes the modelled schemas.
grant usage on schema raw to windfarm_transformer;
grant select on all tables in schema raw to windfarm_transformer;
alter default privileges for role windfarm_loader in schema raw
grant select on tables to windfarm_transformer;
grant usage, create on schema reference, staging, intermediate, core, ml, quality, elementary
to windfarm_transformer;

-- Analyst: the marts only. No raw, no staging (they carry the personal-data pseudonyms),
-- no audit (it names the people who ran the pipeline).
grant usage on schema core, ml, quality to windfarm_analyst;
grant select on all tables in schema core, ml, quality to windfarm_analyst;
alter default privileges for role windfarm_transformer in schema core, ml, quality
grant select on tables to windfarm_analyst;

-- Quality reader: the quality marts and the audit trail, nothing else.
grant usage on schema quality, audit to windfarm_quality_reader;
grant select on all tables in schema quality to windfarm_quality_reader;
alter default privileges for role windfarm_transformer in schema quality
grant select on tables to windfarm_quality_reader;

-- Audit: the run orchestrator (as the transformer) appends; the tables are in 03_audit.sql.
grant usage on schema audit to windfarm_transformer;
