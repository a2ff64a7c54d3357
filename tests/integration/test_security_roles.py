"""Least privilege, tried for real: each role logs in and attempts what it must not do.

Runs on the demo month's database (every schema holds tables created by dlt and dbt, so
the default privileges are exercised too). Every forbidden attempt must fail with
PostgreSQL's `insufficient_privilege` (42501): a connection problem or a typo would give
another code and fail the test. Each role also does its job, so a role that could do
nothing at all would not pass either.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import date

import psycopg2
import pytest
from psycopg2 import errorcodes
from warehouse_sql import scalar

from loaders import warehouse
from loaders.run import audit
from loaders.settings import PROJECT_ROOT, Settings
from loaders.warehouse import grants

CHECK_GRANTS = PROJECT_ROOT / "scripts" / "security" / "check_grants.py"

FORBIDDEN = [
    # analyst: marts only, no raw, no personal data, no writing, no audit
    ("analyst", "select * from raw.scada_measurements limit 1"),
    ("analyst", "select * from raw.maintenance_log limit 1"),
    ("analyst", "select technician_pseudonym from staging.stg_production__maintenance_events"),
    ("analyst", "select * from intermediate.int_measurements_flagged limit 1"),
    ("analyst", "select * from audit.pipeline_runs"),
    ("analyst", "insert into core.dim_turbine (turbine_id) values ('X')"),
    ("analyst", "delete from core.fct_turbine_measurements"),
    ("analyst", "drop table core.dim_turbine"),
    ("analyst", "create table core.mine (x int)"),
    ("analyst", "create table public.mine (x int)"),
    ("analyst", "create temporary table mine (x int)"),
    ("analyst", "create schema mine"),
    # loader: writes raw only, reads nothing downstream, never the audit trail
    ("loader", "select * from core.dim_turbine"),
    ("loader", "insert into core.dim_turbine (turbine_id) values ('X')"),
    ("loader", "drop view staging.stg_scada__alarms"),
    ("loader", "create table staging.mine (x int)"),
    ("loader", "create table public.mine (x int)"),
    ("loader", "select * from audit.pipeline_runs"),
    ("loader", "delete from audit.pipeline_runs"),
    ("loader", "create schema mine"),
    # transformer: reads raw but may not change it; appends to the audit trail only
    ("transformer", "insert into raw.scada_turbines (turbine_id) values ('X')"),
    ("transformer", "delete from raw.maintenance_log"),
    ("transformer", "drop table raw.scada_measurements"),
    ("transformer", "create table raw.mine (x int)"),
    ("transformer", "create table public.mine (x int)"),
    ("transformer", "delete from audit.pipeline_runs"),
    ("transformer", "truncate audit.dbt_run_results"),
    ("transformer", "drop table audit.pipeline_runs"),
    ("transformer", "update audit.pipeline_runs set status = 'success'"),  # closed rows
    ("transformer", "create schema mine"),
    ("transformer", "create role mine"),
    ("transformer", "alter role windfarm_transformer superuser"),
    # quality reader: quality and audit, read only
    ("quality_reader", "select * from raw.scada_measurements limit 1"),
    ("quality_reader", "select * from core.fct_turbine_measurements limit 1"),
    ("quality_reader", "select * from staging.stg_scada__alarms limit 1"),
    ("quality_reader", "insert into audit.pipeline_runs (run_id) values ('x')"),
    ("quality_reader", "create table quality.mine (x int)"),
    ("quality_reader", "create table public.mine (x int)"),
]

ALLOWED = [
    ("analyst", "select count(*) from core.dim_turbine"),
    ("analyst", "select count(*) from core.fct_turbine_measurements"),
    ("analyst", "select count(*) from quality.quality_completeness"),
    ("quality_reader", "select count(*) from audit.pipeline_runs"),
    ("quality_reader", "select count(*) from audit.dbt_run_results"),
    ("quality_reader", "select count(*) from quality.quality_source_rows"),
    ("loader", "select count(*) from raw.scada_measurements"),
    ("loader", "create table raw.security_probe (x int); drop table raw.security_probe"),
    ("transformer", "select count(*) from raw.maintenance_log"),
    ("transformer", "create table core.security_probe (x int); drop table core.security_probe"),
]


def _execute(settings: Settings, role: str, statement: str) -> None:
    connection = warehouse.connect(settings, role)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.rollback()
        connection.close()


@pytest.mark.parametrize(("role", "statement"), FORBIDDEN)
def test_each_role_is_denied_what_is_not_its_job(demo, role: str, statement: str) -> None:  # noqa: ANN001
    settings, _, _ = demo
    with pytest.raises(psycopg2.Error) as denied:
        _execute(settings, role, statement)
    assert denied.value.pgcode == errorcodes.INSUFFICIENT_PRIVILEGE, (
        f"{role}: {statement!r} failed for another reason: {denied.value}"
    )


@pytest.mark.parametrize(("role", "statement"), ALLOWED)
def test_each_role_can_do_its_job(demo, role: str, statement: str) -> None:  # noqa: ANN001
    settings, _, _ = demo
    _execute(settings, role, statement)


def test_no_role_can_log_in_as_the_owner(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    owner = replace(settings, analyst_user="windfarm_owner")
    with pytest.raises(warehouse.WarehouseError, match="not permitted to log in"):
        warehouse.connect(owner, "analyst")


def test_dbt_role_runs_without_jit_and_the_analyst_keeps_the_server_setting(demo) -> None:  # noqa: ANN001
    # JIT compilation made the daily dbt build grow with the history (01_roles.sql).
    settings = demo[0]
    assert scalar(settings, "show jit", role="transformer") == "off"
    assert scalar(settings, "show jit", role="analyst") == scalar(settings, "show jit")


def test_a_run_refuses_to_start_as_a_superuser(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    as_admin = replace(settings, transformer_user=settings.admin_user)
    with pytest.raises(warehouse.WarehouseError, match="superuser"):
        audit.record_start(as_admin, "refused-run", date(2025, 10, 1), date(2025, 10, 1))
    as_admin_loader = replace(settings, loader_user=settings.admin_user)
    with pytest.raises(warehouse.WarehouseError, match="loader role .* is a superuser"):
        audit.record_start(as_admin_loader, "refused-run", date(2025, 10, 1), date(2025, 10, 1))


def _check_grants(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "WINDFARM_DATABASE": settings.database}
    return subprocess.run(
        [sys.executable, str(CHECK_GRANTS), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_live_grants_match_the_versioned_matrix(demo) -> None:  # noqa: ANN001
    """After a whole run (tables created by dlt and dbt since the bootstrap), as the
    quality reader: an auditor needs no privilege on the data to run the check."""
    settings, _, _ = demo
    checked = _check_grants(settings, "--role", "quality_reader")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"OK: database {settings.database}" in checked.stdout


def test_a_rogue_grant_is_reported_and_bootstrap_repairs_it(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    rogue = [
        "grant select on raw.maintenance_log to windfarm_analyst",
        "grant usage on schema raw to windfarm_analyst",
        "grant select (run_id) on audit.pipeline_runs to windfarm_loader",
        "grant create on schema public to public",
        "alter default privileges for role windfarm_transformer in schema staging "
        "grant select on tables to windfarm_analyst",
    ]
    try:
        _execute_as_admin(settings, rogue)
        checked = _check_grants(settings)
        assert checked.returncode == 1, checked.stdout + checked.stderr
        report = checked.stdout
        assert "windfarm_analyst has SELECT on raw.maintenance_log; expected nothing" in report
        assert "windfarm_analyst has USAGE on schema raw; expected nothing" in report
        assert "windfarm_loader has SELECT on audit.pipeline_runs; expected nothing" in report
        assert "public has CREATE on schema public; expected nothing" in report
        assert (
            "default privileges of windfarm_transformer in schema staging give "
            "windfarm_analyst SELECT on new tables; expected nothing"
        ) in report
    finally:
        warehouse.bootstrap(settings)
    repaired = _check_grants(settings)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr


def test_a_role_made_powerful_is_reported(demo) -> None:  # noqa: ANN001
    """Role attributes are cluster-wide: checked on the connection's own transaction,
    rolled back, so no other database of the server ever sees the change."""
    settings, _, _ = demo
    connection = warehouse.connect(settings, "admin")
    try:
        with connection.cursor() as cursor:
            cursor.execute("alter role windfarm_analyst createdb")
            cursor.execute("grant windfarm_transformer to windfarm_analyst")
            drift = grants.find_drift(connection)
    finally:
        connection.rollback()
        connection.close()
    assert (
        "role windfarm_analyst has SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS"
        in drift
    )
    assert "role windfarm_analyst is a member of windfarm_transformer" in drift
    # Through the membership the analyst would reach raw: the effective check sees it.
    assert "windfarm_analyst has USAGE on schema raw; expected nothing" in drift


def test_bootstrap_grants_what_the_matrix_says_and_nothing_else(
    settings: Settings,
    tmp_path,  # noqa: ANN001
) -> None:
    """The GRANT statements are generated from the matrix: a line added there is granted,
    and every statement comes from a line (or withdraws, or keeps functions private)."""
    widened = tmp_path / "privileges.csv"
    widened.write_text(
        grants.MATRIX_FILE.read_text(encoding="utf-8")
        + "windfarm_analyst,schema,staging,USAGE,a line added for the test\n",
        encoding="utf-8",
    )
    added = 'grant usage on schema "staging" to "windfarm_analyst";'
    current = _check_grants(settings, "--sql")
    assert current.returncode == 0, current.stderr
    assert added not in current.stdout
    generated = _check_grants(settings, "--sql", "--matrix", str(widened))
    assert generated.returncode == 0, generated.stderr
    assert added in generated.stdout
    statements = [line for line in current.stdout.splitlines() if line.startswith("grant ")]
    with grants.MATRIX_FILE.open(encoding="utf-8") as handle:
        granting = [row for row in handle.read().splitlines()[1:] if "OWNER" not in row]
    assert len(statements) == len(granting)  # one GRANT per line of the matrix


def test_the_matrix_names_its_errors_with_the_line(tmp_path) -> None:  # noqa: ANN001
    matrix = tmp_path / "privileges.csv"
    matrix.write_text(
        "grantee,object_type,object,privileges,why\n"
        "windfarm_loader,schema,raw,USAGE CREATE,ok\n"
        "windfarm_loader,schema,raw,SELECT,wrong privilege for a schema\n",
        encoding="utf-8",
    )
    with pytest.raises(grants.MatrixError, match=r"privileges.csv:3: SELECT not one of"):
        grants.load_matrix(matrix)


def _execute_as_admin(settings: Settings, statements: list[str]) -> None:
    connection = warehouse.connect(settings, "admin")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()
