-- Schemas and grants inside the warehouse database. Run connected to that database, as
-- a superuser or the database owner; `{database}` is replaced by its quoted name.
-- Safe to run again.

-- Nobody but the named roles may connect; nobody creates objects in public.
revoke all on database {database} from public;
grant connect on database {database} to windfarm_loader, windfarm_transformer, windfarm_analyst;
-- dbt's incremental models stage their rows in temporary tables.
grant temporary on database {database} to windfarm_transformer;
revoke all on schema public from public;

create schema if not exists raw authorization windfarm_owner;
create schema if not exists raw_staging authorization windfarm_owner;
create schema if not exists reference authorization windfarm_owner;
create schema if not exists staging authorization windfarm_owner;
create schema if not exists intermediate authorization windfarm_owner;
create schema if not exists core authorization windfarm_owner;
create schema if not exists ml authorization windfarm_owner;
create schema if not exists quality authorization windfarm_owner;
create schema if not exists audit authorization windfarm_owner;

-- Loader: lands sources in raw (dlt also keeps its merge scratch tables in raw_staging).
grant usage, create on schema raw, raw_staging to windfarm_loader;

-- Transformer: reads raw, writes the modelled schemas.
grant usage on schema raw to windfarm_transformer;
grant select on all tables in schema raw to windfarm_transformer;
alter default privileges for role windfarm_loader in schema raw
    grant select on tables to windfarm_transformer;
grant usage, create on schema reference, staging, intermediate, core, ml, quality
    to windfarm_transformer;

-- Analyst: reads the marts and the run history, nothing upstream.
grant usage on schema core, ml, quality, audit to windfarm_analyst;
grant select on all tables in schema core, ml, quality to windfarm_analyst;
alter default privileges for role windfarm_transformer in schema core, ml, quality
    grant select on tables to windfarm_analyst;

-- Audit: one row per pipeline run, written by the orchestrator as the transformer.
create table if not exists audit.pipeline_runs (
    run_id text primary key,
    started_at timestamptz not null,
    ended_at timestamptz,
    status text not null check (status in ('running', 'success', 'partial', 'failed')),
    date_from date not null,
    date_to date not null,
    rows_by_source jsonb not null default '{}'::jsonb,
    errors jsonb not null default '{}'::jsonb,
    dbt_status text,
    code_version text,
    run_by text,
    db_role text not null default current_user,
    report_path text
);
alter table audit.pipeline_runs owner to windfarm_owner;
grant usage on schema audit to windfarm_transformer;
grant select, insert, update on audit.pipeline_runs to windfarm_transformer;
grant select on audit.pipeline_runs to windfarm_analyst;
