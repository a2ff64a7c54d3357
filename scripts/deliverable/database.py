"""What the live warehouse holds, read from pg_catalog: the physical model's facts.

Schemas are the ones the bootstrap SQL creates (so a schema added there is described and
dumped without a change here), except dlt's scratch schema. Read as the administrator,
like the bootstrap, because the description covers every schema and every role's grants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from psycopg2 import sql

from loaders import warehouse
from loaders.settings import Settings

# dlt's merge scratch copies of raw tables: emptied and refilled by every load.
SCRATCH_SCHEMAS = frozenset({"raw_staging"})
_CREATE_SCHEMA = re.compile(r"create\s+schema\s+if\s+not\s+exists\s+(\w+)", re.IGNORECASE)
_CREATE_TABLE = re.compile(r"create\s+table\s+if\s+not\s+exists\s+(\w+)\.(\w+)", re.IGNORECASE)
KIND_NAMES = {"r": "table", "p": "table", "v": "view", "m": "materialized view"}


@dataclass
class Column:
    name: str
    data_type: str
    not_null: bool
    default: str | None


@dataclass
class Constraint:
    name: str
    kind: str  # p primary key, u unique, f foreign key, c check
    definition: str


@dataclass
class Relation:
    schema: str
    name: str
    kind: str
    owner: str
    columns: list[Column] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    grants: dict[str, list[str]] = field(default_factory=dict)
    row_count: int | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class Schema:
    name: str
    owner: str
    grants: dict[str, list[str]]
    default_grants: list[str]


@dataclass
class Role:
    name: str
    can_login: bool
    attributes: list[str]


@dataclass
class Warehouse:
    database: str
    server_version: str
    schemas: list[Schema]
    relations: list[Relation]
    roles: list[Role]

    def relation(self, qualified: str) -> Relation | None:
        return next((r for r in self.relations if r.qualified == qualified), None)

    def in_schemas(self, *schemas: str) -> list[Relation]:
        return [r for r in self.relations if r.schema in schemas]


def bootstrap_schemas(bootstrap_sql: str) -> list[str]:
    """Schemas created by the bootstrap SQL, in its order, dlt's scratch schema left out."""
    names = dict.fromkeys(_CREATE_SCHEMA.findall(bootstrap_sql))
    return [name for name in names if name not in SCRATCH_SCHEMAS]


def bootstrap_tables(bootstrap_sql: str) -> list[str]:
    """Tables the bootstrap SQL itself creates (schema.table): not the dump's to create."""
    return [f"{schema}.{table}" for schema, table in _CREATE_TABLE.findall(bootstrap_sql)]


def _acl(rows: list[tuple[str, str]]) -> dict[str, list[str]]:
    grants: dict[str, list[str]] = {}
    for grantee, privilege in rows:
        grants.setdefault(grantee, []).append(privilege.lower())
    return {role: sorted(set(privileges)) for role, privileges in sorted(grants.items())}


def read(settings: Settings, schemas: list[str], *, count_rows: bool = True) -> Warehouse:
    """Describe `schemas` of the warehouse database: relations, columns, keys, grants, roles."""
    connection = warehouse.connect(settings, "admin")
    try:
        with connection.cursor() as cursor:
            return _read(cursor, settings, schemas, count_rows)
    finally:
        connection.close()


def _read(cursor, settings: Settings, schemas: list[str], count_rows: bool) -> Warehouse:  # noqa: ANN001
    cursor.execute("show server_version")
    version = cursor.fetchone()[0]
    cursor.execute(
        """
        select n.nspname, pg_get_userbyid(n.nspowner),
               coalesce((select array_agg(array[
                   case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end,
                   a.privilege_type])
                 from aclexplode(n.nspacl) as a), '{}')
          from pg_namespace as n where n.nspname = any(%s)
        """,
        (schemas,),
    )
    found = {name: (owner, acl) for name, owner, acl in cursor.fetchall()}
    cursor.execute(
        """
        select n.nspname, pg_get_userbyid(d.defaclrole), d.defaclobjtype,
               case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end,
               a.privilege_type
          from pg_default_acl as d
          join pg_namespace as n on n.oid = d.defaclnamespace
          cross join lateral aclexplode(d.defaclacl) as a
         where n.nspname = any(%s)
         order by 1, 2, 3, 4, 5
        """,
        (schemas,),
    )
    object_types = {"r": "tables", "S": "sequences", "f": "functions", "T": "types"}
    defaults: dict[str, list[str]] = {}
    for schema, creator, object_type, grantee, privilege in cursor.fetchall():
        defaults.setdefault(schema, []).append(
            f"{privilege.lower()} on {object_types.get(object_type, object_type)} "
            f"created by {creator} → {grantee}"
        )
    schema_list = [
        Schema(
            name,
            found[name][0],
            _acl([tuple(pair) for pair in found[name][1]]),
            defaults.get(name, []),
        )
        for name in schemas
        if name in found
    ]
    relations = _relations(cursor, [s.name for s in schema_list])
    if count_rows:
        for relation in relations:
            if relation.kind == "table":
                cursor.execute(
                    sql.SQL("select count(*) from {}.{}").format(
                        sql.Identifier(relation.schema), sql.Identifier(relation.name)
                    )
                )
                relation.row_count = cursor.fetchone()[0]
    return Warehouse(
        settings.database,
        version,
        schema_list,
        relations,
        _roles(cursor, settings, schema_list, relations),
    )


def _relations(cursor, schemas: list[str]) -> list[Relation]:  # noqa: ANN001
    cursor.execute(
        """
        select c.oid, n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner)
          from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
         where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm')
         order by array_position(%s, n.nspname::text), c.relname
        """,
        (schemas, schemas),
    )
    relations: dict[int, Relation] = {
        oid: Relation(schema, name, KIND_NAMES[kind], owner)
        for oid, schema, name, kind, owner in cursor.fetchall()
    }
    oids = list(relations)
    cursor.execute(
        """
        select a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid)
          from pg_attribute as a
          left join pg_attrdef as d on d.adrelid = a.attrelid and d.adnum = a.attnum
         where a.attrelid = any(%s::oid[]) and a.attnum > 0 and not a.attisdropped
         order by a.attrelid, a.attnum
        """,
        (oids,),
    )
    for oid, name, data_type, not_null, default in cursor.fetchall():
        relations[oid].columns.append(Column(name, data_type, not_null, default))
    cursor.execute(
        """
        select conrelid, conname, contype, pg_get_constraintdef(oid)
          from pg_constraint where conrelid = any(%s::oid[])
         order by conrelid, contype desc, conname
        """,
        (oids,),
    )
    for oid, name, kind, definition in cursor.fetchall():
        relations[oid].constraints.append(Constraint(name, kind, definition))
    cursor.execute(
        """
        select i.indrelid, pg_get_indexdef(i.indexrelid)
          from pg_index as i where i.indrelid = any(%s::oid[])
         order by i.indrelid, i.indexrelid::regclass::text
        """,
        (oids,),
    )
    for oid, definition in cursor.fetchall():
        relations[oid].indexes.append(definition)
    cursor.execute(
        """
        select c.oid,
               case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end,
               a.privilege_type
          from pg_class as c cross join lateral aclexplode(c.relacl) as a
         where c.oid = any(%s::oid[])
        """,
        (oids,),
    )
    acl_rows: dict[int, list[tuple[str, str]]] = {}
    for oid, grantee, privilege in cursor.fetchall():
        acl_rows.setdefault(oid, []).append((grantee, privilege))
    for oid, rows in acl_rows.items():
        relations[oid].grants = _acl(rows)
    return list(relations.values())


def _roles(
    cursor, settings: Settings, schemas: list[Schema], relations: list[Relation]
) -> list[Role]:  # noqa: ANN001,E501
    """The project's roles: the configured ones and every owner or grantee seen here."""
    names = {settings.loader_user, settings.transformer_user, settings.analyst_user}
    for schema in schemas:
        names.add(schema.owner)
        names.update(schema.grants)
    for relation in relations:
        names.add(relation.owner)
        names.update(relation.grants)
    names.discard("public")
    cursor.execute(
        """
        select rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls
          from pg_roles where rolname = any(%s) and not rolsuper order by rolname
        """,
        (sorted(names),),
    )
    roles = []
    for name, login, _superuser, createdb, createrole, bypassrls in cursor.fetchall():
        attributes = ["login" if login else "nologin", "nosuperuser"]
        attributes.append("createdb" if createdb else "nocreatedb")
        attributes.append("createrole" if createrole else "nocreaterole")
        attributes.append("bypassrls" if bypassrls else "nobypassrls")
        roles.append(Role(name, login, attributes))
    return roles
