"""The audit trail as evidence: append-only for every role, and a hash chain that an
auditor recomputes (`python -m loaders audit-verify`) and that notices tampering.

A database of its own (bootstrapped, dropped afterwards): the tampering below needs a
superuser disabling triggers, which must not touch the session's warehouse.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import psycopg2
import pytest
from cli import NO_LOG_FILE, loaders_command
from psycopg2 import errorcodes
from warehouse_sql import execute

from loaders import warehouse
from loaders.run import audit, audit_chain, security_checks
from loaders.settings import Settings

RUNTIME_ROLES = ("loader", "transformer", "analyst", "quality_reader")
TABLES = ("pipeline_runs", "dbt_run_results", "erasure_log", "privacy_log", "audit_chain")


@pytest.fixture(scope="module")
def trail(settings: Settings) -> Iterator[Settings]:
    """A warehouse whose audit trail holds a closed run, an open run, an erasure and a
    privacy-log row, written the way the code writes them."""
    own = replace(settings, database=f"{settings.database}_audit")
    warehouse.bootstrap(own)
    try:
        audit.record_start(own, "run-closed", date(2025, 10, 1), date(2025, 10, 1))
        audit.record_end(
            own,
            "run-closed",
            status="success",
            rows_by_source={"sensor_db": {"tables": {"scada_measurements": 144}}},
            errors={},
            dbt_status="not run",
            report_path=None,
        )
        audit.record_start(own, "run-open", date(2025, 10, 2), date(2025, 10, 2))
        execute(
            own,
            "transformer",
            "insert into audit.dbt_run_results (run_id, invocation_id, unique_id, "
            "resource_type, status, generated_at) "
            "values ('run-closed', 'inv-1', 'model.x.y', 'model', 'success', now())",
        )
        execute(
            own,
            "transformer",
            "insert into audit.erasure_log (reference, tokens_searched, rows_changed, "
            "remaining, source_files) values ('DPO-1', 2, '{}', '{}', 0)",
        )
        execute(
            own,
            "transformer",
            "insert into audit.privacy_log (action, reference, details) "
            "values ('access', 'DPO-2', '{\"rows\": 3}')",
        )
        yield own
    finally:
        warehouse.drop_database(own)


@pytest.mark.parametrize("role", RUNTIME_ROLES)
@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("verb", ["update", "delete", "truncate"])
def test_no_runtime_role_may_rewrite_the_audit_trail(
    trail: Settings, role: str, table: str, verb: str
) -> None:
    statement = {
        "update": f"update audit.{table} set {_a_column(table)} = {_a_column(table)}",
        "delete": f"delete from audit.{table}",
        "truncate": f"truncate audit.{table}",
    }[verb]
    if table == "pipeline_runs" and verb == "update":
        statement += " where ended_at is not null"  # an open run's row may still be closed
    with pytest.raises(psycopg2.Error) as refused:
        execute(trail, role, statement)
    assert refused.value.pgcode == errorcodes.INSUFFICIENT_PRIVILEGE, refused.value.pgerror


@pytest.mark.parametrize("table", TABLES)
def test_not_even_the_administrator_deletes_audit_rows(trail: Settings, table: str) -> None:
    with pytest.raises(psycopg2.Error, match="append-only") as refused:
        execute(trail, "admin", f"delete from audit.{table}")
    assert refused.value.pgcode == errorcodes.INSUFFICIENT_PRIVILEGE
    with pytest.raises(psycopg2.Error, match="append-only"):
        execute(trail, "admin", f"truncate audit.{table} cascade")


def test_the_chain_links_every_row_and_verifies(trail: Settings) -> None:
    report = audit_chain.verify(trail)
    assert report.ok, report.lines()
    # 2 links per closed run (opened, closed), 1 for the open run, 1 each for the others
    assert (report.links, report.rows) == (6, 5)
    assert report.head != audit_chain.GENESIS

    completed = loaders_command(trail, "audit-verify", extra_env=NO_LOG_FILE)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"head {report.head}" in completed.stdout


@pytest.mark.parametrize(
    "tampering, problem",
    [
        (
            "update audit.pipeline_runs set status = 'failed' where run_id = 'run-closed'",
            "audit.pipeline_runs run-closed: row changed or added outside the chain",
        ),
        (
            "delete from audit.erasure_log where reference = 'DPO-1'",
            "linked row missing or changed",
        ),
        (
            "insert into audit.privacy_log (action, reference) values ('access', 'FORGED')",
            "row changed or added outside the chain",
        ),
        (
            "update audit.audit_chain set row_digest = repeat('0', 64) "
            "where link_id = (select min(link_id) from audit.audit_chain)",
            "its hash does not match its content",
        ),
    ],
)
def test_tampering_with_the_triggers_disabled_is_found(
    trail: Settings, database_copy, tampering: str, problem: str
) -> None:
    """A superuser can disable the triggers (PostgreSQL logs it); the chain still tells."""
    with database_copy(trail, "tamper") as copy:
        table = tampering.split("audit.", 1)[1].split()[0]
        execute(
            copy,
            "admin",
            f"alter table audit.{table} disable trigger user; {tampering}; "
            f"alter table audit.{table} enable trigger user",
        )
        report = audit_chain.verify(copy)
        assert not report.ok
        assert any(problem in line for line in report.problems), report.problems
        completed = loaders_command(copy, "audit-verify", extra_env=NO_LOG_FILE)
        assert completed.returncode == 1
        assert "BROKEN" in completed.stdout


def _a_column(table: str) -> str:
    return "table_name" if table == "audit_chain" else "reference" if "log" in table else "run_id"


def test_each_run_checks_grants_chain_and_clear_names_and_journals_it(
    trail: Settings, database_copy, tmp_path: Path
) -> None:
    """What the daily run does after its work (loaders/run/security_checks.py)."""
    staff = tmp_path / "staff.txt"
    staff.write_text("Léa Fontaine\nlea.fontaine@energitech.fr\n", encoding="utf-8")
    page = tmp_path / "reports" / "run-1" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text("<td>LEA FONTAINE</td>", encoding="utf-8")
    with database_copy(trail, "checks") as copy:
        checked = replace(
            copy,
            pii_scan_values_file=str(staff),
            reports_dir=str(tmp_path / "reports"),
            log_dir="",
            dlt_dir=str(tmp_path / "dlt"),
        )
        execute(checked, "admin", "grant select on audit.pipeline_runs to windfarm_analyst")

        results = security_checks.run(checked, "run-checked")

        assert results["audit_chain"]["ok"]
        assert not results["grants"]["ok"]
        assert any("windfarm_analyst" in line for line in results["grants"]["drift"])
        assert results["pii_scan"] == {"ok": False, "files": [str(page)]}
        connection = warehouse.connect(checked, "quality_reader")
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "select details from audit.privacy_log "
                    "where action = 'security_check' and reference = 'run-checked'"
                )
                [(details,)] = cursor.fetchall()
        finally:
            connection.close()
        assert details["pii_scan"]["files"] == [str(page)]
        assert "Fontaine" not in str(details)
