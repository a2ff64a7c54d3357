-- The audit trail: one row per pipeline run and the results dbt gave in that run.
-- Run after 02_default_privileges.sql, connected to the warehouse database, as a
-- superuser; its privileges are granted after it, from scripts/bootstrap/privileges.csv.
-- Safe to run again: later columns are added when missing.
--
-- The orchestrator (as windfarm_transformer) may insert rows and close them; nobody
-- but the administrator may delete them, and a closed run cannot be rewritten.

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
-- Who landed the data, with which pseudonymisation key, which dlt loads and which dbt
-- invocation belong to the run (docs/traceability.md).
alter table audit.pipeline_runs add column if not exists loader_role text;
alter table audit.pipeline_runs add column if not exists pseudonym_key_id text;
alter table audit.pipeline_runs add column if not exists load_ids jsonb not null
default '[]'::jsonb;
alter table audit.pipeline_runs add column if not exists dbt_invocation_id text;
alter table audit.pipeline_runs owner to windfarm_owner;

create table if not exists audit.dbt_run_results (
    run_id text not null references audit.pipeline_runs (run_id),
    invocation_id text not null,
    unique_id text not null,
    resource_type text not null,
    status text not null,
    message text,
    failures bigint,
    rows_affected bigint,
    execution_time_s double precision,
    started_at timestamptz,
    completed_at timestamptz,
    relation_name text,
    dbt_version text,
    generated_at timestamptz not null,
    recorded_at timestamptz not null default now(),
    recorded_by text not null default current_user,
    primary key (invocation_id, unique_id)
);
alter table audit.dbt_run_results owner to windfarm_owner;
create index if not exists dbt_run_results_run_id on audit.dbt_run_results (run_id);

-- Erasure requests (loaders/privacy/erasure.py): the request's reference and what changed, never
-- the person's identifiers or tokens. Accountability (GDPR art. 5(2)) without re-identifying.
create table if not exists audit.erasure_log (
    erased_at timestamptz not null default now(),
    reference text not null,
    executed_by text not null default current_user,
    tokens_searched integer not null,
    rows_changed jsonb not null,
    remaining jsonb not null,
    source_files integer not null
);
alter table audit.erasure_log owner to windfarm_owner;

-- A closed row is history: refuse to change it, whoever asks (superusers included, unless
-- they disable the trigger, which PostgreSQL's own log records).
create or replace function audit.refuse_rewrite() returns trigger
language plpgsql as $$
begin
    if tg_table_name = 'pipeline_runs' and tg_op = 'UPDATE' and old.ended_at is null then
        return new;
    end if;
    raise exception 'audit.%: % refused, audit rows are append-only once closed',
        tg_table_name, lower(tg_op)
        using errcode = 'insufficient_privilege';
end
$$;
alter function audit.refuse_rewrite() owner to windfarm_owner;
revoke all on function audit.refuse_rewrite() from public;

create or replace trigger pipeline_runs_closed_rows_are_final
before update on audit.pipeline_runs
for each row execute function audit.refuse_rewrite();
create or replace trigger dbt_run_results_are_final
before update on audit.dbt_run_results
for each row execute function audit.refuse_rewrite();
create or replace trigger erasure_log_is_final
before update on audit.erasure_log
for each row execute function audit.refuse_rewrite();
