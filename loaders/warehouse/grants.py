"""Who may do what, stated once in `scripts/bootstrap/privileges.csv`: the bootstrap's
GRANT statements are generated from it here, and the drift check reads the same matrix.

`reset_statements` creates the matrix's schemas and withdraws every privilege on them
(grants made by hand or by an earlier matrix go); `grant_statements` grants exactly the
matrix, with the default privileges that make it hold for tables created later. Between
the two, the bootstrap runs its numbered SQL files (default privileges reset, audit
tables), all in one transaction: no moment without grants, nor with stale ones.

`find_drift` reads the catalogs to prove the matrix holds. Effective privileges come from
PostgreSQL's `has_*_privilege` functions, so a privilege reached through a role membership
or a column-level grant counts as much as a direct one. Anything the matrix does not list
is drift: a grant to PUBLIC or to a role outside the project, a privilege too many or too
few, a table owned by the wrong role, a default privilege nobody declared, a runtime role
that became a superuser or a member of another role.

The catalogs are readable by every role, so an auditor runs the check without any
privilege on the data (`scripts/security/check_grants.py --role quality_reader`).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from psycopg2 import sql

from loaders.settings import PROJECT_ROOT

MATRIX_FILE = PROJECT_ROOT / "scripts" / "bootstrap" / "privileges.csv"
PUBLIC = "public"
OWNER = "OWNER"
PROJECT_OWNER = "windfarm_owner"
LOGIN_ROLES = (
    "windfarm_loader",
    "windfarm_transformer",
    "windfarm_analyst",
    "windfarm_quality_reader",
)
DATABASE_PRIVILEGES = ("CONNECT", "CREATE", "TEMPORARY")
SCHEMA_PRIVILEGES = ("USAGE", "CREATE")
# Privileges a column-level grant can also give: `has_any_column_privilege` sees both.
COLUMN_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "REFERENCES")
TABLE_ONLY_PRIVILEGES = ("DELETE", "TRUNCATE", "TRIGGER")
# Runtime roles create functions in their schemas: none may be executable by PUBLIC.
FUNCTION_CREATORS = (PROJECT_OWNER, "windfarm_loader", "windfarm_transformer")
DEFAULT_ACL_KINDS = {
    "r": "tables",
    "S": "sequences",
    "f": "functions",
    "T": "types",
    "n": "schemas",
}


class MatrixError(ValueError):
    """The matrix file itself is wrong; the message names the line."""


@dataclass
class Matrix:
    """The expected privileges, as read from the CSV."""

    database: dict[str, frozenset[str]] = field(default_factory=dict)
    schemas: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    tables: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    table_overrides: dict[tuple[str, str, str], frozenset[str]] = field(default_factory=dict)
    table_owner: dict[str, str] = field(default_factory=dict)

    @property
    def project_schemas(self) -> set[str]:
        return {schema for _, schema in self.schemas} | set(self.table_owner)

    def expected_on_table(self, role: str, schema: str, table: str) -> frozenset[str]:
        if (role, schema, table) in self.table_overrides:
            return self.table_overrides[(role, schema, table)]
        return self.tables.get((role, schema), frozenset())

    def expected_default_acl(self) -> set[tuple[str, str, str, str, frozenset[str]]]:
        """(creator, schema, kind, grantee, privileges): every `tables` grant in a schema
        whose tables one role owns must also hold for the tables that role creates later."""
        expected = set()
        for (role, schema), privileges in self.tables.items():
            owner = self.table_owner.get(schema)
            if owner and owner != role:
                expected.add((owner, schema, "tables", role, privileges))
        return expected


def load_matrix(path: Path = MATRIX_FILE) -> Matrix:
    matrix = Matrix()
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            where = f"{path.name}:{line}"
            grantee, kind, target = (
                row["grantee"].strip(),
                row["object_type"].strip(),
                row["object"],
            )
            privileges = frozenset(row["privileges"].upper().split())
            if not grantee or not privileges:
                raise MatrixError(f"{where}: grantee and privileges are required")
            if kind == "database":
                _only(privileges, DATABASE_PRIVILEGES, where)
                matrix.database[grantee] = privileges
            elif kind == "schema":
                _only(privileges, SCHEMA_PRIVILEGES, where)
                matrix.schemas[(grantee, target)] = privileges
            elif kind == "tables" and privileges == {OWNER}:
                matrix.table_owner[target] = grantee
            elif kind == "tables":
                _only(privileges, COLUMN_PRIVILEGES + TABLE_ONLY_PRIVILEGES, where)
                matrix.tables[(grantee, target)] = privileges
            elif kind == "table":
                schema, _, table = target.partition(".")
                if not table:
                    raise MatrixError(f"{where}: a table is written schema.table, not {target!r}")
                _only(privileges, COLUMN_PRIVILEGES + TABLE_ONLY_PRIVILEGES, where)
                matrix.table_overrides[(grantee, schema, table)] = privileges
            else:
                raise MatrixError(f"{where}: unknown object_type {kind!r}")
    return matrix


def _only(privileges: frozenset[str], allowed: tuple[str, ...], where: str) -> None:
    unknown = privileges - set(allowed)
    if unknown:
        raise MatrixError(f"{where}: {', '.join(sorted(unknown))} not one of {', '.join(allowed)}")


def reset_statements(matrix: Matrix, database: str) -> list[sql.Composable]:
    """The matrix's schemas (owned by the project owner), then nothing granted on them nor
    on the database to anybody but the owners of each object."""
    schemas = sorted(matrix.project_schemas)
    everybody = [*LOGIN_ROLES, PUBLIC]
    statements = [_sql("revoke all on database {} from public", database)]
    for schema in schemas:
        not_owner = [role for role in everybody if role != matrix.table_owner.get(schema)]
        statements += [
            _sql("create schema if not exists {} authorization {}", schema, PROJECT_OWNER),
            _sql("revoke all on schema {} from {}", schema, everybody),
            _sql("revoke all on all tables in schema {} from {}", schema, not_owner),
        ]
    return statements + [
        _sql("revoke all on all sequences in schema {} from public", [*schemas, PUBLIC]),
        _sql("revoke all on all functions in schema {} from public", [*schemas, PUBLIC]),
        _sql("revoke all on schema public from {}", everybody),
    ]


def grant_statements(matrix: Matrix, database: str) -> list[sql.Composable]:
    """Exactly the matrix: database, schema and table privileges, default privileges of
    each schema's table owner for what it creates later, and no function the project's
    roles create executable by PUBLIC."""
    grants = [
        *(("database", database, role, p) for role, p in matrix.database.items()),
        *(("schema", schema, role, p) for (role, schema), p in matrix.schemas.items()),
        *(("all tables in schema", s, role, p) for (role, s), p in matrix.tables.items()),
        *(("table", (s, t), role, p) for (role, s, t), p in matrix.table_overrides.items()),
    ]
    return [
        *(
            _sql(f"grant {_privileges(p)} on {kind} {{}} to {{}}", target, role)
            for kind, target, role, p in sorted(grants, key=lambda grant: grant[:3])
        ),
        *(
            _sql(
                f"alter default privileges for role {{}} in schema {{}} "
                f"grant {_privileges(p)} on tables to {{}}",
                creator,
                schema,
                role,
            )
            for creator, schema, _, role, p in sorted(matrix.expected_default_acl())
        ),
        *(
            _sql("alter default privileges for role {} revoke execute on functions from public", c)
            for c in FUNCTION_CREATORS
        ),
    ]


def _sql(template: str, *names: str | tuple[str, str] | list[str]) -> sql.Composable:
    """A statement with its names quoted: a tuple is schema.table, a list a name list."""

    def quoted(name: str | tuple[str, str] | list[str]) -> sql.Composable:
        if isinstance(name, list):
            return sql.SQL(", ").join(map(quoted, name))
        if name == PUBLIC:
            return sql.SQL(PUBLIC)
        return sql.Identifier(*name) if isinstance(name, tuple) else sql.Identifier(name)

    return sql.SQL(template).format(*map(quoted, names))


def _privileges(privileges: frozenset[str]) -> str:
    """Privileges the matrix loader has checked against PostgreSQL's keywords."""
    return ", ".join(privilege.lower() for privilege in sorted(privileges))


def _show(privileges: frozenset[str] | set[str]) -> str:
    return " ".join(sorted(privileges)) or "nothing"


_ROLES_SQL = """
select
    role_name,
    roles.oid is not null,
    coalesce(roles.rolcanlogin, false),
    coalesce(roles.rolsuper or roles.rolcreatedb or roles.rolcreaterole
        or roles.rolreplication or roles.rolbypassrls, false),
    coalesce((
        select array_agg(parent.rolname order by parent.rolname)
        from pg_catalog.pg_auth_members as member_of
        inner join pg_catalog.pg_roles as parent on member_of.roleid = parent.oid
        where member_of.member = roles.oid
    ), '{}')
from unnest(%(roles)s::text[]) as wanted (role_name)
left join pg_catalog.pg_roles as roles on roles.rolname = wanted.role_name
"""

_DATABASE_SQL = """
select grantee, privilege, has_database_privilege(grantee, current_database(), privilege)
from unnest(%(grantees)s::text[]) as grantee
cross join unnest(%(privileges)s::text[]) as privilege
"""

_SCHEMAS_SQL = """
select namespace.nspname, pg_catalog.pg_get_userbyid(namespace.nspowner), grantee, privilege,
    has_schema_privilege(grantee, namespace.oid, privilege)
from pg_catalog.pg_namespace as namespace
cross join unnest(%(grantees)s::text[]) as grantee
cross join unnest(%(privileges)s::text[]) as privilege
where namespace.nspname not like 'pg\\_%%' and namespace.nspname <> 'information_schema'
"""

_TABLES_SQL = """
select namespace.nspname, relation.relname, pg_catalog.pg_get_userbyid(relation.relowner),
    grantee, privilege,
    case
        when privilege = any(%(column_privileges)s::text[])
            then has_any_column_privilege(grantee, relation.oid, privilege)
        else has_table_privilege(grantee, relation.oid, privilege)
    end
from pg_catalog.pg_class as relation
inner join pg_catalog.pg_namespace as namespace on relation.relnamespace = namespace.oid
cross join unnest(%(grantees)s::text[]) as grantee
cross join unnest(%(privileges)s::text[]) as privilege
where relation.relkind in ('r', 'p', 'v', 'm', 'f')
    and namespace.nspname = any(%(schemas)s::text[])
"""

# Grants to anybody outside the project's roles, read from the ACLs themselves.
_FOREIGN_GRANTS_SQL = """
with acls as (
    select 'database ' || datname as object, datacl as acl, datdba as owner
    from pg_catalog.pg_database where datname = current_database()
    union all
    select 'schema ' || nspname, nspacl, nspowner
    from pg_catalog.pg_namespace where nspname = any(%(schemas)s::text[])
    union all
    select format('%%s %%s.%%s',
        case relation.relkind when 'S' then 'sequence' else 'table' end,
        namespace.nspname, relation.relname), relation.relacl, relation.relowner
    from pg_catalog.pg_class as relation
    inner join pg_catalog.pg_namespace as namespace on relation.relnamespace = namespace.oid
    where namespace.nspname = any(%(schemas)s::text[])
        and relation.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
    union all
    select 'function ' || function.oid::regprocedure::text,
        function.proacl, function.proowner
    from pg_catalog.pg_proc as function
    inner join pg_catalog.pg_namespace as namespace on function.pronamespace = namespace.oid
    where namespace.nspname = any(%(schemas)s::text[])
)
select acls.object, coalesce(grantee.rolname, 'public'), granted.privilege_type
from acls
cross join lateral pg_catalog.aclexplode(acls.acl) as granted
left join pg_catalog.pg_roles as grantee on granted.grantee = grantee.oid
where granted.grantee <> acls.owner
    and coalesce(grantee.rolname, 'public') <> all(%(known)s::text[])
order by 1, 2, 3
"""

# Functions and sequences: PUBLIC must have nothing (PostgreSQL's default for functions
# is EXECUTE to PUBLIC, which the bootstrap withdraws).
_PUBLIC_ROUTINES_SQL = """
select 'function ' || function.oid::regprocedure::text
from pg_catalog.pg_proc as function
inner join pg_catalog.pg_namespace as namespace on function.pronamespace = namespace.oid
where namespace.nspname = any(%(schemas)s::text[])
    and has_function_privilege('public', function.oid, 'EXECUTE')
union all
select format('sequence %%s.%%s', namespace.nspname, relation.relname)
from pg_catalog.pg_class as relation
inner join pg_catalog.pg_namespace as namespace on relation.relnamespace = namespace.oid
where namespace.nspname = any(%(schemas)s::text[])
    and case when relation.relkind = 'S'
        then has_sequence_privilege('public', relation.oid, 'SELECT,USAGE,UPDATE') end
"""

_DEFAULT_ACL_SQL = """
select creator.rolname, coalesce(namespace.nspname, ''), acl.defaclobjtype,
    coalesce(grantee.rolname, 'public'), granted.privilege_type
from pg_catalog.pg_default_acl as acl
inner join pg_catalog.pg_roles as creator on acl.defaclrole = creator.oid
left join pg_catalog.pg_namespace as namespace on acl.defaclnamespace = namespace.oid
cross join lateral pg_catalog.aclexplode(acl.defaclacl) as granted
left join pg_catalog.pg_roles as grantee on granted.grantee = grantee.oid
"""


def find_drift(connection, matrix: Matrix | None = None) -> list[str]:  # noqa: ANN001
    """Every difference between the live database and the matrix, one sentence each."""
    matrix = matrix or load_matrix()
    grantees = [*LOGIN_ROLES, PUBLIC]
    schemas = sorted(matrix.project_schemas)
    drift: list[str] = []
    with connection.cursor() as cursor:
        drift += _role_drift(cursor)
        if any(line.endswith("does not exist") for line in drift):
            return drift  # the privilege functions fail on an unknown role
        drift += _privilege_drift(cursor, matrix, grantees, schemas)
        known = [*grantees, PROJECT_OWNER]
        cursor.execute(_FOREIGN_GRANTS_SQL, {"schemas": schemas + ["public"], "known": known})
        drift += [
            f"{grantee} has {privilege} on {target}, but is not a role of the matrix"
            for target, grantee, privilege in cursor.fetchall()
        ]
        cursor.execute(_PUBLIC_ROUTINES_SQL, {"schemas": schemas + ["public"]})
        drift += [f"PUBLIC may use {target}" for (target,) in cursor.fetchall()]
        drift += _default_acl_drift(cursor, matrix)
    return drift


def _role_drift(cursor) -> list[str]:  # noqa: ANN001
    drift = []
    cursor.execute(_ROLES_SQL, {"roles": [PROJECT_OWNER, *LOGIN_ROLES]})
    for name, exists, can_login, powerful, memberships in cursor.fetchall():
        if not exists:
            drift.append(f"role {name} does not exist")
            continue
        if can_login != (name != PROJECT_OWNER):
            drift.append(f"role {name} has {'LOGIN' if can_login else 'NOLOGIN'}")
        if powerful:
            drift.append(
                f"role {name} has SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS"
            )
        if memberships:
            drift.append(f"role {name} is a member of {', '.join(memberships)}")
    return drift


def _privilege_drift(
    cursor,  # noqa: ANN001
    matrix: Matrix,
    grantees: list[str],
    schemas: list[str],
) -> list[str]:
    """Owners and privileges on the database, the schemas and their tables that differ
    from the matrix (an owner's own privileges are not the matrix's business)."""
    drift: list[str] = []
    live: dict[tuple[str, str], set[str]] = defaultdict(set)  # (object, grantee)
    owners: dict[str, str] = {}
    expected: dict[tuple[str, str], frozenset[str]] = {}
    cursor.execute(_DATABASE_SQL, {"grantees": grantees, "privileges": list(DATABASE_PRIVILEGES)})
    for grantee, privilege, granted in cursor.fetchall():
        live[("the database", grantee)] |= {privilege} if granted else set()
        expected[("the database", grantee)] = matrix.database.get(grantee, frozenset())
    cursor.execute(_SCHEMAS_SQL, {"grantees": grantees, "privileges": list(SCHEMA_PRIVILEGES)})
    for schema, owner, grantee, privilege, granted in cursor.fetchall():
        name = f"schema {schema}"
        if name not in owners and schema in matrix.project_schemas and owner != PROJECT_OWNER:
            drift.append(f"{name} is owned by {owner}; expected {PROJECT_OWNER}")
        owners[name] = owner
        live[(name, grantee)] |= {privilege} if granted else set()
        expected[(name, grantee)] = matrix.schemas.get((grantee, schema), frozenset())
    present = {name.removeprefix("schema ") for name in owners}
    drift += [f"schema {name} is missing" for name in sorted(matrix.project_schemas - present)]
    cursor.execute(
        _TABLES_SQL,
        {
            "grantees": grantees,
            "privileges": list(COLUMN_PRIVILEGES + TABLE_ONLY_PRIVILEGES),
            "column_privileges": list(COLUMN_PRIVILEGES),
            "schemas": schemas + ["public"],
        },
    )
    for schema, table, owner, grantee, privilege, granted in cursor.fetchall():
        name = f"{schema}.{table}"
        if name not in owners and owner != matrix.table_owner.get(schema):
            wanted = matrix.table_owner.get(schema) or "no table in this schema"
            drift.append(f"table {name} is owned by {owner}; expected {wanted}")
        owners[name] = owner
        live[(name, grantee)] |= {privilege} if granted else set()
        expected[(name, grantee)] = matrix.expected_on_table(grantee, schema, table)
    for (name, grantee), privileges in sorted(live.items()):
        if owners.get(name) != grantee and privileges != expected[(name, grantee)]:
            drift.append(
                f"{grantee} has {_show(privileges)} on {name}; "
                f"expected {_show(expected[(name, grantee)])}"
            )
    return drift


def _default_acl_drift(cursor, matrix: Matrix) -> list[str]:  # noqa: ANN001
    cursor.execute(_DEFAULT_ACL_SQL)
    live: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    global_functions: dict[str, set[str]] = defaultdict(set)
    for creator, schema, kind, grantee, privilege in cursor.fetchall():
        if not schema and kind == "f":
            global_functions[creator].add(grantee)
            continue
        where = schema or "every schema"
        live[(creator, where, DEFAULT_ACL_KINDS.get(kind, kind), grantee)].add(privilege)
    expected = {
        (creator, schema, kind, grantee): set(privileges)
        for creator, schema, kind, grantee, privileges in matrix.expected_default_acl()
    }
    drift = []
    project_roles = {PROJECT_OWNER, *LOGIN_ROLES}
    for key in sorted(set(live) | set(expected)):
        creator, schema, kind, grantee = key
        if creator not in project_roles and grantee not in project_roles | {PUBLIC}:
            continue
        if live.get(key, set()) != expected.get(key, set()):
            drift.append(
                f"default privileges of {creator} in schema {schema} give {grantee} "
                f"{_show(live.get(key, set()))} on new {kind}; "
                f"expected {_show(expected.get(key, set()))}"
            )
    for creator in FUNCTION_CREATORS:
        # No entry at all means PostgreSQL's built-in default: EXECUTE to PUBLIC.
        if creator not in global_functions or PUBLIC in global_functions[creator]:
            drift.append(f"functions {creator} creates are executable by PUBLIC")
    return drift


def as_script(statements: list[sql.Composable], database: str, placeholder: str) -> str:
    """The statements as SQL text, for a script run by psql (the deliverable's creation
    script): identifiers quoted only where PostgreSQL needs it, and the database's name
    replaced by `placeholder` (a psql variable such as `:"database"`)."""

    def render(part: sql.Composable) -> str:
        if isinstance(part, sql.Composed):
            return "".join(render(item) for item in part.seq)
        if isinstance(part, sql.SQL):
            return part.string
        if isinstance(part, sql.Identifier):
            names = []
            for name in part.strings:
                if name == database:
                    names.append(placeholder)
                elif name.isidentifier() and name == name.lower():
                    names.append(name)
                else:
                    names.append('"' + name.replace('"', '""') + '"')
            return ".".join(names)
        raise TypeError(f"cannot write {part!r} as SQL text")

    return "".join(render(statement) + ";\n" for statement in statements)
