"""Does the live database grant exactly what `scripts/bootstrap/privileges.csv` declares?

The matrix is the one statement of who may do what; the bootstrap SQL applies it and this
module reads the catalogs to prove it holds. Effective privileges come from PostgreSQL's
`has_*_privilege` functions, so a privilege reached through a role membership or a
column-level grant counts as much as a direct one. Anything the matrix does not list is
drift: a grant to PUBLIC or to a role outside the project, a privilege too many or too
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

    def expected_on_schema(self, role: str, schema: str) -> frozenset[str]:
        return self.schemas.get((role, schema), frozenset())

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
        cursor.execute(
            _DATABASE_SQL, {"grantees": grantees, "privileges": list(DATABASE_PRIVILEGES)}
        )
        drift += _compare(
            cursor.fetchall(),
            lambda grantee: matrix.database.get(grantee, frozenset()),
            "the database",
        )
        drift += _schema_drift(cursor, matrix, grantees)
        drift += _table_drift(cursor, matrix, grantees, schemas)
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


def _compare(rows: list[tuple], expected_for, target: str) -> list[str]:  # noqa: ANN001
    live: dict[str, set[str]] = defaultdict(set)
    for grantee, privilege, granted in rows:
        live[grantee] |= {privilege} if granted else set()
    return [
        f"{grantee} has {_show(live[grantee])} on {target}; expected {_show(expected_for(grantee))}"
        for grantee in sorted(live)
        if live[grantee] != expected_for(grantee)
    ]


def _schema_drift(cursor, matrix: Matrix, grantees: list[str]) -> list[str]:  # noqa: ANN001
    cursor.execute(_SCHEMAS_SQL, {"grantees": grantees, "privileges": list(SCHEMA_PRIVILEGES)})
    live: dict[tuple[str, str], set[str]] = defaultdict(set)
    owners: dict[str, str] = {}
    for schema, owner, grantee, privilege, granted in cursor.fetchall():
        owners[schema] = owner
        live[(schema, grantee)] |= {privilege} if granted else set()
    drift = [
        f"schema {schema} is owned by {owner}; expected {PROJECT_OWNER}"
        for schema, owner in sorted(owners.items())
        if schema in matrix.project_schemas and owner != PROJECT_OWNER
    ]
    drift += [
        f"schema {schema} is missing" for schema in sorted(matrix.project_schemas - set(owners))
    ]
    for (schema, grantee), privileges in sorted(live.items()):
        if owners[schema] == grantee:
            continue
        expected = matrix.expected_on_schema(grantee, schema)
        if privileges != expected:
            drift.append(
                f"{grantee} has {_show(privileges)} on schema {schema}; expected {_show(expected)}"
            )
    return drift


def _table_drift(
    cursor,  # noqa: ANN001
    matrix: Matrix,
    grantees: list[str],
    schemas: list[str],
) -> list[str]:
    cursor.execute(
        _TABLES_SQL,
        {
            "grantees": grantees,
            "privileges": list(COLUMN_PRIVILEGES + TABLE_ONLY_PRIVILEGES),
            "column_privileges": list(COLUMN_PRIVILEGES),
            "schemas": schemas + ["public"],
        },
    )
    live: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    owners: dict[tuple[str, str], str] = {}
    for schema, table, owner, grantee, privilege, granted in cursor.fetchall():
        owners[(schema, table)] = owner
        live[(schema, table, grantee)] |= {privilege} if granted else set()
    drift = []
    for (schema, table), owner in sorted(owners.items()):
        expected_owner = matrix.table_owner.get(schema)
        if owner != expected_owner:
            drift.append(
                f"table {schema}.{table} is owned by {owner}; "
                f"expected {expected_owner or 'no table in this schema'}"
            )
    for (schema, table, grantee), privileges in sorted(live.items()):
        if owners[(schema, table)] == grantee:
            continue
        expected = matrix.expected_on_table(grantee, schema, table)
        if privileges != expected:
            drift.append(
                f"{grantee} has {_show(privileges)} on {schema}.{table}; expected {_show(expected)}"
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
