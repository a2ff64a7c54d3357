-- Cluster-wide roles of the wind-farm warehouse. Safe to run again: it creates what is
-- missing and re-asserts the attributes (no superuser, no role or database creation).
-- Passwords are not set here: they come from the environment (see loaders/warehouse.py).

do $$
declare
    role_name text;
begin
    foreach role_name in array array['windfarm_owner'] loop
        if not exists (select from pg_catalog.pg_roles where rolname = role_name) then
            execute format('create role %I nologin', role_name);
        end if;
    end loop;
    foreach role_name in array array[
        'windfarm_loader', 'windfarm_transformer', 'windfarm_analyst'
    ] loop
        if not exists (select from pg_catalog.pg_roles where rolname = role_name) then
            execute format('create role %I login', role_name);
        end if;
    end loop;
end
$$;

alter role windfarm_owner nologin nosuperuser nocreatedb nocreaterole nobypassrls;
alter role windfarm_loader login nosuperuser nocreatedb nocreaterole nobypassrls;
alter role windfarm_transformer login nosuperuser nocreatedb nocreaterole nobypassrls;
alter role windfarm_analyst login nosuperuser nocreatedb nocreaterole nobypassrls;
