"""Verification of the audit trail's hash chain (scripts/bootstrap/03_audit.sql).

A trigger links every audit row, when inserted (and a run's row again when closed), into
`audit.audit_chain`: hash = sha256(previous hash | table | digest of the row). This module
recomputes it independently of the database's own code, so an auditor can trust the
answer without trusting the trigger:

- every link's hash follows from the previous link and its own content (nothing removed
  from, inserted into or changed in the chain without recomputing all later hashes);
- every audit row has a link whose digest is the row's current digest (no row changed,
  none slipped in with the triggers disabled), and every link has its row (none deleted).

The latest hash (the chain's head) is printed: written down elsewhere (the run's log, a
ticket), it proves later that even a full recomputation of the chain did not happen.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from loaders.settings import Settings
from loaders.warehouse import connect

GENESIS = "0" * 64
CHAINED_TABLES = ("pipeline_runs", "dbt_run_results", "erasure_log", "privacy_log")
# The same expressions as audit.row_digest and audit.row_key, evaluated by the verifier.
_ROW_DIGEST = "encode(sha256(convert_to(jsonb_strip_nulls(to_jsonb(t))::text, 'UTF8')), 'hex')"
_ROW_KEY = {
    "pipeline_runs": "t.run_id",
    "dbt_run_results": "t.invocation_id || '/' || t.unique_id",
    "erasure_log": "to_jsonb(t) ->> 'erased_at' || '/' || t.reference",
    "privacy_log": "to_jsonb(t) ->> 'logged_at' || '/' || t.reference",
}


@dataclass
class ChainReport:
    links: int = 0
    rows: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        verdict = "OK" if self.ok else f"BROKEN ({len(self.problems)} problem(s))"
        out = [f"audit chain {verdict}: {self.links} link(s), {self.rows} audit row(s)"]
        out += [f"  - {problem}" for problem in self.problems[:200]]
        out.append(f"head {self.head}")
        return out


def link_hash(previous: str, table: str, digest: str) -> str:
    return hashlib.sha256(f"{previous}|{table}|{digest}".encode()).hexdigest()


def verify(settings: Settings, role: str = "quality_reader") -> ChainReport:
    """Recompute the chain and compare it with the audit tables, as `role` (read-only)."""
    report = ChainReport()
    connection = connect(settings, role)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("set local timezone = 'UTC'")
            cursor.execute(
                "select link_id, table_name, row_key, row_digest, previous_hash, chain_hash "
                "from audit.audit_chain order by link_id"
            )
            links = cursor.fetchall()
            current: dict[str, list[tuple[str, str]]] = {}
            for table in CHAINED_TABLES:
                cursor.execute(
                    f"select {_ROW_KEY[table]}, {_ROW_DIGEST} from audit.{table} as t"  # noqa: S608 - constants
                )
                current[table] = cursor.fetchall()
    finally:
        connection.close()
    report.links = len(links)
    report.rows = sum(len(rows) for rows in current.values())
    previous = GENESIS
    for link_id, table, _key, digest, stored_previous, stored_hash in links:
        if stored_previous != previous:
            report.problems.append(f"link {link_id}: does not follow the link before it")
        expected = link_hash(stored_previous, table, digest)
        if stored_hash != expected:
            report.problems.append(f"link {link_id}: its hash does not match its content")
        previous = stored_hash
    report.head = previous
    report.problems += _rows_against_links(links, current)
    return report


def _rows_against_links(links: list[tuple], current: dict[str, list[tuple[str, str]]]) -> list[str]:
    problems = []
    for table, rows in current.items():
        table_links = [(key, digest) for _, name, key, digest, _, _ in links if name == table]
        if table == "pipeline_runs":  # linked when opened and when closed: the latest counts
            linked = Counter(dict(table_links).items())
        else:
            linked = Counter(table_links)
        present = Counter(rows)
        for key, _ in sorted((present - linked).elements()):
            problems.append(f"audit.{table} {key}: row changed or added outside the chain")
        for key, _ in sorted((linked - present).elements()):
            problems.append(f"audit.{table} {key}: linked row missing or changed")
    return problems
