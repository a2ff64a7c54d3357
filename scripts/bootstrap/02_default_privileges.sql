-- Default privileges of the project's roles, withdrawn: run inside the warehouse database,
-- as a superuser, after the schemas are created and their privileges withdrawn, before
-- the grants of scripts/bootstrap/privileges.csv are granted again (loaders/warehouse:
-- the GRANT statements are generated from that matrix, which is their one statement).
-- Schema-level entries go; the global ones for functions are re-asserted with the grants.

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
