"""The audit trail: one row per pipeline run in `audit.pipeline_runs`, and dbt's results
of that run in `audit.dbt_run_results`.

Written at the start (status `running`) and at the end, so a run killed half-way still
leaves a row saying it started and never finished. The row says who ran it (operating
system user and host, the database roles), what (dates, rows per source, dlt load ids,
dbt invocation), when, with which code version and pseudonymisation key, and the outcome.
Once closed, a row cannot be changed (a trigger refuses it: scripts/bootstrap/03_audit.sql).
"""

from __future__ import annotations

import getpass
import json
import socket
import subprocess
from datetime import date, datetime
from pathlib import Path

import psycopg2

from loaders.privacy import keys
from loaders.privacy.pseudonymise import MissingKeyError
from loaders.settings import PROJECT_ROOT, Settings
from loaders.warehouse import WarehouseError, assert_not_superuser, connect

# dbt statuses of a run that did not build: any run_results.json is another run's.
DBT_NOT_RUN = frozenset({"deferred", "not run"})
UPGRADE_HINT = "the audit schema is older than the code: run `python -m loaders bootstrap`"


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


def _key_id(settings: Settings) -> str | None:
    """The public fingerprint of the run's key; None for a run that pseudonymises nothing
    (a dbt-only rebuild may run where the key is not deployed)."""
    try:
        return keys.pseudonymiser(settings).key_id
    except MissingKeyError:
        return None


def record_start(settings: Settings, run_id: str, date_from: date, date_to: date) -> None:
    """Open the run's row; refuse to run at all as a superuser (DESIGN: least privilege)."""
    with connect(settings, "transformer") as connection, connection.cursor() as cursor:
        assert_not_superuser(connection, "the run orchestrator (transformer role)")
        cursor.execute(
            "select rolsuper or rolbypassrls from pg_catalog.pg_roles where rolname = %s",
            (settings.loader_user,),
        )
        loader = cursor.fetchone()
        if loader and loader[0]:
            raise WarehouseError(
                f"the loader role {settings.loader_user} is a superuser: runs must use "
                "windfarm_loader (set WINDFARM_LOADER_USER)"
            )
        try:
            cursor.execute(
                """
                insert into audit.pipeline_runs
                    (run_id, started_at, status, date_from, date_to, code_version, run_by,
                     loader_role, pseudonym_key_id)
                values (%s, now(), 'running', %s, %s, %s, %s, %s, %s)
                """,
                (
                    run_id,
                    date_from,
                    date_to,
                    code_version(),
                    f"{getpass.getuser()}@{socket.gethostname()}",
                    settings.loader_user,
                    _key_id(settings),
                ),
            )
        except psycopg2.errors.UndefinedColumn as error:
            raise WarehouseError(f"{UPGRADE_HINT} ({str(error).splitlines()[0]})") from error
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
    run_results: Path | None = None,
) -> None:
    """Close the run's row, then attach the dlt loads and dbt's results of this run.

    `run_results` defaults to the run_results.json of the settings' dbt target folder;
    it is kept only if dbt wrote it after the run started (never an earlier run's).
    """
    with connect(settings, "transformer") as connection, connection.cursor() as cursor:
        cursor.execute(
            """
            update audit.pipeline_runs
               set ended_at = now(), status = %s, rows_by_source = %s, errors = %s,
                   dbt_status = %s, report_path = %s, load_ids = %s,
                   dbt_invocation_id = %s
             where run_id = %s
            """,
            (
                status,
                json.dumps(rows_by_source),
                json.dumps(errors),
                dbt_status,
                report_path,
                json.dumps(_loads_since_start(cursor, run_id)),
                None
                if dbt_status in DBT_NOT_RUN
                else _record_dbt_results(
                    cursor,
                    run_id,
                    run_results or Path(settings.dbt_target_dir) / "run_results.json",
                ),
                run_id,
            ),
        )
    connection.close()


def _loads_since_start(cursor, run_id: str) -> list[dict]:  # noqa: ANN001
    """The dlt loads completed in raw since the run started: the link from a raw row's
    `_dlt_load_id` to this run (runs do not overlap: see docs/traceability.md)."""
    cursor.execute("select to_regclass('raw._dlt_loads') is not null")
    if not cursor.fetchone()[0]:
        return []
    cursor.execute(
        """
        select loads.load_id, loads.schema_name, loads.status, loads.inserted_at
          from raw._dlt_loads as loads
         where loads.inserted_at >= (
                 select runs.started_at from audit.pipeline_runs as runs where runs.run_id = %s
               )
         order by loads.load_id
        """,
        (run_id,),
    )
    return [
        {"load_id": load_id, "source": source, "status": status, "at": at.isoformat()}
        for load_id, source, status, at in cursor.fetchall()
    ]


def _record_dbt_results(cursor, run_id: str, path: Path) -> str | None:  # noqa: ANN001
    """Copy dbt's run_results.json into audit.dbt_run_results; the invocation id, or None."""
    if not path.is_file():
        return None
    document = json.loads(path.read_text(encoding="utf-8"))
    metadata = document.get("metadata", {})
    invocation = metadata.get("invocation_id")
    generated = metadata.get("generated_at")
    if not invocation or not generated:
        return None
    cursor.execute(
        # dbt stamps the file with this machine's clock, the run row has the server's:
        # allow them to disagree by a little.
        "select %s::timestamptz >= started_at - interval '2 minutes' "
        "from audit.pipeline_runs where run_id = %s",
        (generated, run_id),
    )
    fresh = cursor.fetchone()
    if not fresh or not fresh[0]:
        return None  # an earlier build's file: not this run's results
    cursor.execute(
        "select 1 from audit.dbt_run_results where invocation_id = %s and run_id <> %s limit 1",
        (invocation, run_id),
    )
    if cursor.fetchone():
        return None  # that build belongs to another run
    rows = [_result_row(run_id, invocation, metadata, result) for result in document["results"]]
    cursor.executemany(
        """
        insert into audit.dbt_run_results
            (run_id, invocation_id, unique_id, resource_type, status, message, failures,
             rows_affected, execution_time_s, started_at, completed_at, relation_name,
             dbt_version, generated_at)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        on conflict (invocation_id, unique_id) do nothing
        """,
        rows,
    )
    return invocation


def _result_row(run_id: str, invocation: str, metadata: dict, result: dict) -> tuple:
    timings = {timing.get("name"): timing for timing in result.get("timing") or []}
    execute = timings.get("execute", {})
    rows_affected = (result.get("adapter_response") or {}).get("rows_affected")
    return (
        run_id,
        invocation,
        result["unique_id"],
        result["unique_id"].split(".", 1)[0],
        result["status"],
        result.get("message"),
        result.get("failures"),
        rows_affected,
        result.get("execution_time"),
        _timestamp(execute.get("started_at")),
        _timestamp(execute.get("completed_at")),
        result.get("relation_name"),
        metadata.get("dbt_version"),
        metadata["generated_at"],
    )


def _timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


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
