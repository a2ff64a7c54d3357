"""The audit trail: one row per pipeline run in `audit.pipeline_runs`.

Written at the start (status `running`) and at the end, so a run killed half-way still
leaves a row saying it started and never finished.
"""

from __future__ import annotations

import getpass
import json
import socket
import subprocess
from datetime import date

from loaders.settings import PROJECT_ROOT, Settings
from loaders.warehouse import connect


def code_version() -> str:
    """The git commit the run used (`-dirty` with local changes), or `unknown`."""
    try:
        result = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


def record_start(settings: Settings, run_id: str, date_from: date, date_to: date) -> None:
    with connect(settings, "transformer") as connection, connection.cursor() as cursor:
        cursor.execute(
            """
            insert into audit.pipeline_runs
                (run_id, started_at, status, date_from, date_to, code_version, run_by)
            values (%s, now(), 'running', %s, %s, %s, %s)
            """,
            (
                run_id,
                date_from,
                date_to,
                code_version(),
                f"{getpass.getuser()}@{socket.gethostname()}",
            ),
        )
    connection.close()


def record_end(
    settings: Settings,
    run_id: str,
    *,
    status: str,
    rows_by_source: dict,
    errors: dict,
    dbt_status: str,
    report_path: str | None,
) -> None:
    with connect(settings, "transformer") as connection, connection.cursor() as cursor:
        cursor.execute(
            """
            update audit.pipeline_runs
               set ended_at = now(), status = %s, rows_by_source = %s, errors = %s,
                   dbt_status = %s, report_path = %s
             where run_id = %s
            """,
            (
                status,
                json.dumps(rows_by_source),
                json.dumps(errors),
                dbt_status,
                report_path,
                run_id,
            ),
        )
    connection.close()


def recent_runs(settings: Settings, limit: int = 10) -> list[tuple]:
    with connect(settings, "transformer") as connection, connection.cursor() as cursor:
        cursor.execute(
            """
            select run_id, started_at, ended_at, status, date_from, date_to, dbt_status,
                   errors, code_version
              from audit.pipeline_runs order by started_at desc limit %s
            """,
            (limit,),
        )
        rows = cursor.fetchall()
    connection.close()
    return rows
