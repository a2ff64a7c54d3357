"""The checks an auditor would run, run by every daily run after its work: the grants
against the versioned matrix (loaders/warehouse/grants.py), the audit trail's hash chain
(loaders/run/audit_chain.py) and, when the operator gives a staff list
(`pii_scan_values_file`: names and e-mails, one a line, kept out of the repository), a
search for those people in clear in what the product wrote outside the database (the
quality pages, the logs, dlt's working copies).

The results are journalled in `audit.privacy_log` (action `security_check`, reference =
the run id; counts and the drift lines, never a name), where the quality page and an
auditor read them; a failed check is logged as an error. The checks read only: they
never fail the day's data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loaders import logs
from loaders.privacy import journal, leakscan
from loaders.run import audit_chain
from loaders.settings import Settings
from loaders.warehouse import connect, grants


def _grant_check(settings: Settings) -> dict[str, Any]:
    connection = connect(settings, "quality_reader")
    try:
        drift = grants.find_drift(connection, grants.load_matrix())
    finally:
        connection.close()
    return {"ok": not drift, "drift": drift[:50]}


def _chain_check(settings: Settings) -> dict[str, Any]:
    report = audit_chain.verify(settings)
    return {"ok": report.ok, "links": report.links, "problems": report.problems[:50]}


def _pii_scan(settings: Settings) -> dict[str, Any]:
    if not settings.pii_scan_values_file:
        return {"ok": True, "skipped": "no staff list (pii_scan_values_file)"}
    text = Path(settings.pii_scan_values_file).read_text(encoding="utf-8")
    values = [line.strip() for line in text.splitlines() if line.strip()]
    folders = [Path(settings.reports_dir), Path(settings.dlt_dir) / settings.database]
    if settings.log_dir:
        folders.append(Path(settings.log_dir))
    findings = leakscan.scan_paths([f for f in folders if f.exists()], values)
    return {"ok": not findings, "files": sorted({finding.where for finding in findings})}


CHECKS = {"grants": _grant_check, "audit_chain": _chain_check, "pii_scan": _pii_scan}


def run(settings: Settings, run_id: str) -> dict[str, dict[str, Any]]:
    """Every check, each failing alone (`ok: false` with the error), journalled."""
    results: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check(settings)
        except Exception as error:  # noqa: BLE001 - a check that cannot run is reported
            results[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:500]}
    failed = [name for name, result in results.items() if not result["ok"]]
    logs.event(
        "security",
        f"checks failed: {', '.join(failed)}" if failed else "grants, audit chain, PII scan: OK",
        level="error" if failed else "info",
        checks={name: result["ok"] for name, result in results.items()},
    )
    try:
        journal.record(settings, "security_check", run_id, results)
    except Exception as error:  # noqa: BLE001 - the log line above still says it
        logs.event("security", f"could not journal the checks: {error}", level="error")
    return results


def recorded(settings: Settings, run_id: str) -> dict[str, dict[str, Any]] | None:
    """The checks journalled for a run, as `run` returned them (for the quality page, read
    as the quality reader); None when that run recorded none."""
    connection = connect(settings, "quality_reader")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                "select details from audit.privacy_log "
                "where action = 'security_check' and reference = %s "
                "order by logged_at desc limit 1",
                (run_id,),
            )
            row = cursor.fetchone()
    finally:
        connection.close()
    return row[0] if row else None
