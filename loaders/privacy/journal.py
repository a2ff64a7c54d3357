"""The privacy journal, `audit.privacy_log`: one row per rights request, name look-up,
retention purge or token migration (scripts/bootstrap/03_audit.sql). Accountability
(GDPR art. 5(2)) without re-identifying: the row holds the request's reference, who ran
it (database role, operating-system user and host) and counts, never a person's
identifiers or tokens. Rows are append-only and linked into the audit hash chain.
"""

from __future__ import annotations

import getpass
import json
import socket

from loaders.settings import Settings
from loaders.warehouse import connect

ACTIONS = frozenset(
    {
        "access",
        "name_lookup",
        "objection",
        "restriction",
        "restriction_lifted",
        "retention_purge",
        "security_check",
        "token_migration",
    }
)


def record(settings: Settings, action: str, reference: str, details: dict) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown privacy journal action {action!r}")
    if not reference.strip():
        raise ValueError("a privacy action needs a reference (ticket, letter, run id)")
    connection = connect(settings, "transformer")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                "insert into audit.privacy_log (action, reference, run_by, details) "
                "values (%s, %s, %s, %s)",
                (
                    action,
                    reference,
                    f"{getpass.getuser()}@{socket.gethostname()}",
                    json.dumps(details, default=str),
                ),
            )
    finally:
        connection.close()
