-- The audit trail: one row per pipeline run and the results dbt gave in that run.
-- Run after 02_default_privileges.sql, connected to the warehouse database, as a
-- superuser; its privileges are granted after it, from scripts/bootstrap/privileges.csv.
-- Safe to run again: later columns are added when missing.
--
-- Append-only (docs/security.md, "Evidence"): the orchestrator (as windfarm_transformer)
-- may insert rows and close its run's row; no role may update a closed row, delete a row or
-- truncate a table (triggers refuse it, the owner and superusers included unless they
-- disable the trigger), and every row is linked into a hash chain (audit.audit_chain)
-- that `python -m loaders audit-verify` recomputes.

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
-- they disable the trigger, which PostgreSQL's own log records). One exception, for the
-- administrator's archival (`python -m loaders audit-archive`, docs/security.md): a DELETE
-- of a row or link that a recorded archive covers (audit.chain_archives, whose own row is
-- inserted first in the same transaction). A row is covered when it has links and all of
-- them are at or below the archive's last link; everything else stays refused.
create or replace function audit.refuse_rewrite() returns trigger
language plpgsql as $$
declare
    archived_through bigint;
begin
    if tg_table_name = 'pipeline_runs' and tg_op = 'UPDATE' then
        if old.ended_at is null then
            return new;  -- closing its own open run
        end if;
    end if;
    if tg_op = 'DELETE' and tg_level = 'ROW' then
        select max(archive.through_link_id) into archived_through
          from audit.chain_archives as archive;
        if tg_table_name = 'audit_chain' then
            if old.link_id <= archived_through then
                return old;
            end if;
        elsif exists (
            select 1 from audit.audit_chain as link
             where link.table_name = tg_table_name
               and link.row_key = audit.row_key(tg_table_name, to_jsonb(old))
        ) and not exists (
            select 1 from audit.audit_chain as link
             where link.table_name = tg_table_name
               and link.row_key = audit.row_key(tg_table_name, to_jsonb(old))
               and link.link_id > coalesce(archived_through, 0)
        ) then
            return old;
        end if;
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

-- Rights requests, name look-ups, retention purges, token migrations
-- (loaders/privacy/journal.py): what was done, by whom, under which reference; never a
-- person's identifiers or tokens.
create table if not exists audit.privacy_log (
    logged_at timestamptz not null default now(),
    action text not null,
    reference text not null,
    executed_by text not null default current_user,
    run_by text,
    details jsonb not null default '{}'::jsonb
);
alter table audit.privacy_log owner to windfarm_owner;
create or replace trigger privacy_log_is_final
before update on audit.privacy_log
for each row execute function audit.refuse_rewrite();

-- Archives of the audit trail's oldest part (`python -m loaders audit-archive`, an
-- administrator's command under the DPO's decision, docs/gdpr.md "Retention"): which links
-- went to which file (its SHA-256), so that the chain left in the database starts from a
-- recorded hash instead of the genesis, and the file can be checked against it later.
create table if not exists audit.chain_archives (
    archived_at timestamptz not null default now(),
    reference text not null,
    executed_by text not null default current_user,
    run_by text,
    through_link_id bigint not null,
    through_hash text not null,
    first_previous_hash text not null,
    rows jsonb not null,
    file_name text not null,
    file_sha256 text not null
);
alter table audit.chain_archives owner to windfarm_owner;
create or replace trigger chain_archives_are_final
before update on audit.chain_archives
for each row execute function audit.refuse_rewrite();

-- No deletion and no truncation, whoever asks.
do $$
declare
    audited text;
begin
    foreach audited in array array[
        'pipeline_runs', 'dbt_run_results', 'erasure_log', 'privacy_log', 'chain_archives'
    ] loop
        execute format(
            'create or replace trigger %I before delete on audit.%I '
            'for each row execute function audit.refuse_rewrite()',
            audited || '_no_delete', audited
        );
        execute format(
            'create or replace trigger %I before truncate on audit.%I '
            'for each statement execute function audit.refuse_rewrite()',
            audited || '_no_truncate', audited
        );
    end loop;
end
$$;

-- The hash chain: one link per inserted row and per closing of a run. A link's hash is
-- sha256(previous hash | table | digest of the row as JSON), so changing, removing or
-- slipping in a row (with the triggers disabled) breaks every later link; the latest hash,
-- printed by audit-verify and kept in each run's log, anchors the chain outside the database.
create table if not exists audit.audit_chain (
    link_id bigint generated always as identity primary key,
    linked_at timestamptz not null default now(),
    table_name text not null,
    row_key text not null,
    row_digest text not null,
    previous_hash text not null,
    chain_hash text not null
);
alter table audit.audit_chain owner to windfarm_owner;
-- A row's links, found by the archival's DELETE check (audit.refuse_rewrite) per row.
create index if not exists audit_chain_row on audit.audit_chain (table_name, row_key);

-- The digest of an audit row: its JSON without nulls (a column added later, empty in old
-- rows, changes nothing), in UTC so the session's time zone does not matter.
create or replace function audit.row_digest(content jsonb) returns text
language sql immutable
set timezone = 'UTC'
as $$
    select encode(sha256(convert_to(jsonb_strip_nulls(content)::text, 'UTF8')), 'hex')
$$;
alter function audit.row_digest(jsonb) owner to windfarm_owner;
revoke all on function audit.row_digest(jsonb) from public;

create or replace function audit.row_key(table_name text, content jsonb) returns text
language sql immutable
as $$
    select case table_name
        when 'pipeline_runs' then content ->> 'run_id'
        when 'dbt_run_results' then (content ->> 'invocation_id') || '/' || (content ->> 'unique_id')
        else coalesce(content ->> 'logged_at', content ->> 'erased_at', content ->> 'archived_at')
            || '/'
            || (content ->> 'reference')
    end
$$;
alter function audit.row_key(text, jsonb) owner to windfarm_owner;
revoke all on function audit.row_key(text, jsonb) from public;

create or replace function audit.link_row() returns trigger
language plpgsql security definer
set search_path = pg_catalog, audit
set timezone = 'UTC'
as $$
declare
    content jsonb := to_jsonb(new);
    previous text;
    digest text;
begin
    perform pg_advisory_xact_lock(hashtext('windfarm audit chain'));
    select chain.chain_hash into previous
      from audit.audit_chain as chain order by chain.link_id desc limit 1;
    previous := coalesce(previous, repeat('0', 64));
    digest := audit.row_digest(content);
    insert into audit.audit_chain (table_name, row_key, row_digest, previous_hash, chain_hash)
    values (
        tg_table_name, audit.row_key(tg_table_name, content), digest, previous,
        encode(sha256(convert_to(previous || '|' || tg_table_name || '|' || digest, 'UTF8')), 'hex')
    );
    return null;
end
$$;
alter function audit.link_row() owner to windfarm_owner;
revoke all on function audit.link_row() from public;

do $$
declare
    audited text;
begin
    foreach audited in array array[
        'dbt_run_results', 'erasure_log', 'privacy_log', 'chain_archives'
    ] loop
        execute format(
            'create or replace trigger %I after insert on audit.%I '
            'for each row execute function audit.link_row()',
            audited || '_chained', audited
        );
    end loop;
end
$$;
-- A run's row is linked when it is opened and again when it is closed (its final form).
create or replace trigger pipeline_runs_chained
after insert or update on audit.pipeline_runs
for each row execute function audit.link_row();

-- A warehouse that had audit rows before the chain existed: link them once, oldest first.
-- Only while the chain is empty, so that a later bootstrap never blesses a row slipped in.
create or replace function audit.link_rows_older_than_the_chain() returns void
language plpgsql
set search_path = pg_catalog, audit
set timezone = 'UTC'
as $$
declare
    audited text;
    content jsonb;
    previous text := repeat('0', 64);
    digest text;
begin
    if exists (select 1 from audit.audit_chain) then
        return;
    end if;
    foreach audited in array array[
        'pipeline_runs', 'dbt_run_results', 'erasure_log', 'privacy_log', 'chain_archives'
    ] loop
        for content in execute format('select to_jsonb(t) from audit.%I as t', audited) loop
            digest := audit.row_digest(content);
            insert into audit.audit_chain
                (table_name, row_key, row_digest, previous_hash, chain_hash)
            values (
                audited, audit.row_key(audited, content), digest, previous,
                encode(sha256(convert_to(previous || '|' || audited || '|' || digest, 'UTF8')), 'hex')
            )
            returning chain_hash into previous;
        end loop;
    end loop;
end
$$;
alter function audit.link_rows_older_than_the_chain() owner to windfarm_owner;
revoke all on function audit.link_rows_older_than_the_chain() from public;
select audit.link_rows_older_than_the_chain();

-- Links too: no change, and no deletion but of links a recorded archive covers.
create or replace trigger audit_chain_is_final
before update or delete on audit.audit_chain
for each row execute function audit.refuse_rewrite();
create or replace trigger audit_chain_no_truncate
before truncate on audit.audit_chain
for each statement execute function audit.refuse_rewrite();
