"""The two SQL files of the deliverable, both made by pg_dump from the live database.

`creation_base.sql` recreates, on an empty server, the roles, the database, the schemas and
grants (the project's own bootstrap SQL, the very files `python -m loaders bootstrap` runs)
and then every table and view as the pipeline left them (`pg_dump --schema-only`, owners
and grants kept so that dbt and dlt can go on replacing their tables).

The data dump is a plain-SQL `pg_dump` of the warehouse's schemas, to be restored with psql
into an empty database once the roles exist (see docs/guide_import.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from loaders import warehouse
from loaders.settings import Settings
from loaders.warehouse import BOOTSTRAP_DIR, grants
from scripts.deliverable import database, tools

ROLES_FILE = "01_roles.sql"
# Not in the data dump: dbt's transformation steps (views and tables it rebuilds from raw
# at every run). The creation script has their structure; `dbt build` refills them.
DERIVED_SCHEMAS = frozenset({"staging", "intermediate"})
OWNER_ROLE = "windfarm_owner"


def bootstrap_files() -> tuple[Path, list[Path]]:
    """The cluster-level roles file, then the files run inside the database, in order
    (the files and the order of `loaders.warehouse.bootstrap`)."""
    files = sorted(BOOTSTRAP_DIR.glob("[0-9][0-9]_*.sql"))
    roles = BOOTSTRAP_DIR / ROLES_FILE
    return roles, [path for path in files if path != roles]


_DATABASE = "windfarm_database_placeholder"


def matrix_sql(which: str, placeholder: str = ':"database"') -> str:
    """What bootstrap runs from the privilege matrix (loaders/warehouse/grants.py), as text:
    "reset" (the schemas, nothing granted) before the numbered files, "grants" after."""
    matrix = grants.load_matrix()
    statements = (
        grants.reset_statements(matrix, _DATABASE)
        if which == "reset"
        else grants.grant_statements(matrix, _DATABASE)
    )
    return grants.as_script(statements, _DATABASE, placeholder)


def bootstrap_sql() -> str:
    """Everything bootstrap runs, in its order: roles, the matrix's schemas, the numbered
    files, the matrix's grants."""
    roles, in_database = bootstrap_files()
    return "\n".join(
        [
            roles.read_text(encoding="utf-8"),
            matrix_sql("reset"),
            *(path.read_text(encoding="utf-8") for path in in_database),
            matrix_sql("grants"),
        ]
    )


def _pg_dump(settings: Settings, *args: str) -> str:
    return tools.run(
        [tools.find_for_server("pg_dump", settings), "--no-password", *args, settings.database],
        env=tools.libpq_env(settings),
    )


def creation_script(settings: Settings, schemas: list[str]) -> str:
    """One psql script: roles, database, schemas, grants, then the tables' DDL."""
    roles, in_database = bootstrap_files()
    table_args = [f"--table={schema}.*" for schema in schemas]
    excluded = [f"--exclude-table={name}" for name in database.bootstrap_tables(bootstrap_sql())]
    tables_ddl = _pg_dump(settings, "--schema-only", *table_args, *excluded)
    parts = [
        f"""-- Script de création de l'entrepôt éolien (projet EnergiTech), généré le
-- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC depuis la base `{settings.database}` par
-- `python -m scripts.deliverable build`. Ne pas modifier à la main : régénérer.
--
-- Recrée sur un serveur PostgreSQL vide : les rôles (sans mot de passe), la base, les
-- schémas, les droits, puis toutes les tables et vues (structure seule, sans données).
-- À exécuter avec psql, en superutilisateur (ou un rôle CREATEROLE + CREATEDB) :
--
--   psql -h HOTE -U postgres -d postgres -v ON_ERROR_STOP=1 -v database=windfarm \\
--        -f creation_base.sql
--
-- La partie « rôles » peut être rejouée sans risque (elle ne crée que ce qui manque).
-- Les mots de passe se posent ensuite : ALTER ROLE windfarm_loader PASSWORD '...';
-- (ou `python -m loaders bootstrap` avec les variables WINDFARM_*_PASSWORD).

\\set ON_ERROR_STOP on
\\if :{{?database}}
\\else
\\set database windfarm
\\endif

-- 1. Rôles (scripts/bootstrap/{roles.name})
""",
        roles.read_text(encoding="utf-8"),
        f"""
-- 2. Base de données (créée si absente, propriété de {OWNER_ROLE})
select format('create database %I owner {OWNER_ROLE}', :'database')
 where not exists (select from pg_catalog.pg_database where datname = :'database')
\\gexec
\\connect :"database"
""",  # noqa: S608 - a psql script written from constants
    ]
    parts += ["\n-- 3. Schémas (scripts/bootstrap/privileges.csv)\n", matrix_sql("reset")]
    for path in in_database:
        text = path.read_text(encoding="utf-8").replace("{database}", ':"database"')
        parts += [f"\n-- 3. Schémas et droits (scripts/bootstrap/{path.name})\n", text]
    parts += ["\n-- 3. Droits (scripts/bootstrap/privileges.csv)\n", matrix_sql("grants")]
    parts += ["\n-- 4. Tables et vues (pg_dump --schema-only)\n", tables_ddl]
    return "".join(parts)


def database_grants(settings: Settings) -> str:
    """The database-level owner and grants, as the live database has them.

    pg_dump writes them only with --create (which also fixes the database's name), so the
    dump ends with them, applied to whatever database it is restored into.
    """
    connection = warehouse.connect(settings, "admin")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                select pg_get_userbyid(d.datdba),
                       coalesce(array_agg(array[pg_get_userbyid(a.grantee), a.privilege_type])
                                filter (where a.grantee <> 0), '{}')
                  from pg_database as d
                  left join lateral aclexplode(d.datacl) as a on true
                 where d.datname = current_database()
                 group by d.datdba
                """
            )
            owner, grants = cursor.fetchone()
    finally:
        connection.close()
    statements = [
        f"    execute format('alter database %I owner to {owner}', current_database());",
        "    execute format('revoke all on database %I from public', current_database());",
    ]
    for grantee, privilege in grants:
        statements.append(
            f"    execute format('grant {privilege.lower()} on database %I to {grantee}', "
            "current_database());"
        )
    body = "\n".join(statements)
    return f"""
-- Droits au niveau de la base, relevés sur la base d'origine (pg_dump ne les écrit
-- qu'avec --create) : seuls les rôles du projet s'y connectent.
do $$
begin
{body}
end
$$;
revoke all on schema public from public;
"""


def dump_schemas(schemas: list[str]) -> list[str]:
    """The schemas the data dump holds: the raw landing, the reference tables, the marts,
    the audit trail (and Elementary's history when present), not dbt's derived steps."""
    return [schema for schema in schemas if schema not in DERIVED_SCHEMAS]


def data_dump(settings: Settings, schemas: list[str], target: Path) -> Path:
    """Plain-SQL dump of `schemas` (structure, data, owners, grants) into `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    body = target.with_name(f".{target.name}.part")
    tools.run(
        [
            tools.find_for_server("pg_dump", settings),
            "--no-password",
            "--format=plain",
            "--encoding=UTF8",
            *[f"--schema={schema}" for schema in schemas],
            f"--file={body}",
            settings.database,
        ],
        env=tools.libpq_env(settings),
    )
    header = f"""-- Base peuplée de l'entrepôt éolien (projet EnergiTech) : vidage SQL de la base
-- `{settings.database}` le {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, schémas {", ".join(schemas)}.
-- Données personnelles : uniquement pseudonymisées (hachage à clé) par les chargeurs.
-- Restauration (voir guide_import.md) : créer les rôles, créer une base vide, puis
--   psql -h HOTE -U postgres -d windfarm -v ON_ERROR_STOP=1 -f windfarm_demo.sql

"""
    with target.open("w", encoding="utf-8") as out:
        out.write(header)
        with body.open(encoding="utf-8") as dumped:
            for line in dumped:
                out.write(line)
        out.write(database_grants(settings))
    body.unlink()
    return target
