-- Cluster-wide roles of the wind-farm warehouse. Safe to run again: it creates what is
-- missing and re-asserts the attributes (no superuser, no role or database creation, no
-- replication, no row-security bypass, no membership in any other role).
-- Passwords are not set here: they come from the environment (see loaders/warehouse/__init__.py),
-- so they never sit in a versioned file.
--
--   windfarm_owner           NOLOGIN  owns the schemas and the audit tables
--   windfarm_loader          LOGIN    dlt: writes raw, raw_staging
--   windfarm_transformer     LOGIN    dbt + run orchestrator: reads raw, writes the models
--   windfarm_analyst         LOGIN    data scientists: reads the marts (core, ml, quality)
--   windfarm_quality_reader  LOGIN    data stewards, auditors: reads quality and audit
--
-- Roles are shared by every database of the server: the statements only write when
-- something differs, so bootstraps of several databases at once do not collide.

do $$
declare
    wanted record;
    membership record;
begin
    for wanted in
        select role_name, can_login
        from (
            values
            ('windfarm_owner', false),
            ('windfarm_loader', true),
            ('windfarm_transformer', true),
            ('windfarm_analyst', true),
            ('windfarm_quality_reader', true)
        ) as roles (role_name, can_login)
    loop
        if not exists (select from pg_catalog.pg_roles where rolname = wanted.role_name) then
            begin
                execute format('create role %I', wanted.role_name);
            exception when duplicate_object then
                null;  -- created meanwhile by a concurrent bootstrap
            end;
        end if;
        if exists (
            select from pg_catalog.pg_roles
            where rolname = wanted.role_name
                and (
                    rolcanlogin <> wanted.can_login or rolsuper or rolcreatedb
                    or rolcreaterole or rolreplication or rolbypassrls
                )
        ) then
            execute format(
                'alter role %I %s nosuperuser nocreatedb nocreaterole noreplication nobypassrls',
                wanted.role_name,
                case when wanted.can_login then 'login' else 'nologin' end
            );
        end if;
        -- A runtime role inherits nothing: a membership granted by hand would widen it.
        for membership in
            select parent.rolname as parent_name
            from pg_catalog.pg_auth_members as member_of
            inner join pg_catalog.pg_roles as parent on member_of.roleid = parent.oid
            inner join pg_catalog.pg_roles as child on member_of.member = child.oid
            where child.rolname = wanted.role_name
        loop
            execute format('revoke %I from %I', membership.parent_name, wanted.role_name);
        end loop;
    end loop;
end
$$;

-- No JIT compilation for dbt's role. PostgreSQL compiles a query once its estimated cost
-- passes jit_above_cost, and the estimates of the incremental models' window reads and
-- tests grow with the tables although the rows they read do not: on the 100-turbine
-- bench, compiling cost a steady daily dbt build 7 s after a year of history and 3 s
-- after a month (docs/performance.md). The loader's merges showed no difference; the
-- analysts keep the server's setting (their full scans may gain from it).
do $$
begin
    if not exists (
        select from pg_catalog.pg_db_role_setting as setting
        inner join pg_catalog.pg_roles as role_row on setting.setrole = role_row.oid
        where
            role_row.rolname = 'windfarm_transformer'
            and setting.setdatabase = 0
            and 'jit=off' = any(setting.setconfig)
    ) then
        alter role windfarm_transformer set jit = off;
    end if;
end
$$;
