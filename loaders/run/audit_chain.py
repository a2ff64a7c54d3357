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

After an archival (loaders/run/audit_archive.py) the chain left in the database starts
from the latest archive's last hash (`audit.chain_archives`) instead of the genesis, and
`verify_archives` recomputes the archived part from the files: each file's links, each
row's digest (PostgreSQL's `jsonb` text re-made here, so the check needs no database
code), and the file's SHA-256 against the archive's row.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loaders.settings import Settings
from loaders.warehouse import connect

GENESIS = "0" * 64
CHAINED_TABLES = (
    "pipeline_runs",
    "dbt_run_results",
    "erasure_log",
    "privacy_log",
    "chain_archives",
)
# The same expressions as audit.row_digest and audit.row_key, evaluated by the verifier.
ROW_DIGEST = "encode(sha256(convert_to(jsonb_strip_nulls(to_jsonb(t))::text, 'UTF8')), 'hex')"
ROW_KEY = {
    "pipeline_runs": "t.run_id",
    "dbt_run_results": "t.invocation_id || '/' || t.unique_id",
    "erasure_log": "to_jsonb(t) ->> 'erased_at' || '/' || t.reference",
    "privacy_log": "to_jsonb(t) ->> 'logged_at' || '/' || t.reference",
    "chain_archives": "to_jsonb(t) ->> 'archived_at' || '/' || t.reference",
}
ARCHIVE_FORMAT = "windfarm-audit-archive/1"


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
            cursor.execute("set transaction isolation level repeatable read")
            cursor.execute("set local timezone = 'UTC'")
            cursor.execute(
                "select link_id, table_name, row_key, row_digest, previous_hash, chain_hash "
                "from audit.audit_chain order by link_id"
            )
            links = cursor.fetchall()
            current: dict[str, list[tuple[str, str]]] = {}
            for table in CHAINED_TABLES:
                cursor.execute(
                    f"select {ROW_KEY[table]}, {ROW_DIGEST} from audit.{table} as t"  # noqa: S608 - constants
                )
                current[table] = cursor.fetchall()
            cursor.execute(
                "select through_link_id, through_hash from audit.chain_archives "
                "order by through_link_id desc limit 1"
            )
            latest_archive = cursor.fetchone()
    finally:
        connection.close()
    report.links = len(links)
    report.rows = sum(len(rows) for rows in current.values())
    previous = GENESIS
    if latest_archive is not None:  # the chain goes on from the archived part's last hash
        through_link_id, previous = latest_archive
        report.problems += [
            f"link {link[0]}: archived (through link {through_link_id}) but still present"
            for link in links
            if link[0] <= through_link_id
        ]
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


# --- The archived part of the chain, in files (loaders/run/audit_archive.py writes them) ---


class PgNumber(str):
    """A JSON number kept as PostgreSQL wrote it: its digest covers that exact text, which a
    float would not always give back (`1e-07` for `0.0000001`)."""


def parse_archive_line(line: str) -> dict[str, Any]:
    return json.loads(line, parse_int=PgNumber, parse_float=PgNumber)


def _escape(text: str) -> str:
    """A string as PostgreSQL's `jsonb` output writes it (escape_json)."""
    named = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
    named["\t"] = "\\t"
    out = []
    for char in text:
        if char in named:
            out.append(named[char])
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def jsonb_text(value: Any) -> str:
    """`value::text` for a `jsonb` value: keys ordered by byte length, then bytes (how
    jsonb stores them), ", " and ": " between items, numbers as written."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, PgNumber):
        return str(value)
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, list):
        return "[" + ", ".join(jsonb_text(item) for item in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
        return "{" + ", ".join(f"{_escape(key)}: {jsonb_text(value[key])}" for key in keys) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def strip_nulls(value: Any) -> Any:
    """jsonb_strip_nulls: object fields whose value is null go, at every depth."""
    if isinstance(value, dict):
        return {key: strip_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [strip_nulls(item) for item in value]
    return value


def row_digest(content: dict[str, Any]) -> str:
    """audit.row_digest, recomputed: sha256 of the row's JSON without nulls."""
    return hashlib.sha256(jsonb_text(strip_nulls(content)).encode()).hexdigest()


def row_key(table: str, content: dict[str, Any]) -> str | None:
    """audit.row_key, recomputed from a row's JSON."""
    if table == "pipeline_runs":
        return content.get("run_id")
    if table == "dbt_run_results":
        if content.get("invocation_id") is None or content.get("unique_id") is None:
            return None
        return f"{content['invocation_id']}/{content['unique_id']}"
    stamp = content.get("logged_at") or content.get("erased_at") or content.get("archived_at")
    if stamp is None or content.get("reference") is None:
        return None
    return f"{stamp}/{content['reference']}"


@dataclass
class ArchiveFile:
    """What one archive file says of itself, read and checked by `verify_archives`."""

    path: Path
    sha256: str = ""
    header: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, Any]] = field(default_factory=list)
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)


@dataclass
class ArchiveReport:
    files: list[ArchiveFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(not file.problems for file in self.files)

    def lines(self) -> list[str]:
        out = []
        for file in self.files:
            verdict = "OK" if not file.problems else f"BROKEN ({len(file.problems)} problem(s))"
            out.append(
                f"archive {file.path.name} {verdict}: {len(file.links)} link(s) through "
                f"link {file.header.get('through_link_id')}, sha256 {file.sha256}"
            )
            out += [f"  - {problem}" for problem in file.problems[:200]]
        out += [f"  - {problem}" for problem in self.problems]
        return out


def read_archive(path: Path) -> ArchiveFile:
    """Read one archive (gzip, JSON lines: a header, then one line per link) and recompute
    its chain from its first previous hash, and each row's digest and key."""
    archive = ArchiveFile(path=path)
    data = path.read_bytes()
    archive.sha256 = hashlib.sha256(data).hexdigest()
    try:
        lines = gzip.decompress(data).decode("utf-8").splitlines()
        parsed = [parse_archive_line(line) for line in lines if line.strip()]
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
        archive.problems.append(f"not a readable archive: {error}")
        return archive
    if not parsed or parsed[0].get("format") != ARCHIVE_FORMAT:
        archive.problems.append(f"no {ARCHIVE_FORMAT} header on its first line")
        return archive
    archive.header, archive.links = parsed[0], parsed[1:]
    archive.problems += _check_archived_links(archive)
    return archive


def _check_archived_links(archive: ArchiveFile) -> list[str]:
    problems = []
    header = archive.header
    previous = str(header.get("first_previous_hash"))
    last_of_key: dict[tuple[str, str], int] = {}
    for link in archive.links:
        last_of_key[(link["table_name"], link["row_key"])] = int(link["link_id"])
    rows: Counter[str] = Counter()
    for link in archive.links:
        link_id, table = int(link["link_id"]), link["table_name"]
        if link["previous_hash"] != previous:
            problems.append(f"link {link_id}: does not follow the link before it")
        if link["chain_hash"] != link_hash(link["previous_hash"], table, link["row_digest"]):
            problems.append(f"link {link_id}: its hash does not match its content")
        previous = link["chain_hash"]
        row = link.get("row")
        if row is None:
            # Only a run's opening link goes without its row: the row, as closed, is on
            # the run's later link.
            if table != "pipeline_runs" or last_of_key[(table, link["row_key"])] == link_id:
                problems.append(f"link {link_id}: its row is missing")
            continue
        rows[table] += 1
        if row_key(table, row) != link["row_key"]:
            problems.append(f"link {link_id}: its row is not audit.{table} {link['row_key']}")
        if row_digest(row) != link["row_digest"]:
            problems.append(f"link {link_id}: audit.{table} {link['row_key']}: row changed")
    archive.head = previous
    expected = {
        "through_link_id": int(archive.links[-1]["link_id"]) if archive.links else None,
        "through_hash": previous,
        "links": len(archive.links),
        "rows": dict(rows),
    }
    for name, value in expected.items():
        stated = header.get(name)
        if name in ("through_link_id", "links") and stated is not None:
            stated = int(stated)
        if name == "rows" and isinstance(stated, dict):
            stated = {table: int(count) for table, count in stated.items() if int(count)}
        if stated != value:
            problems.append(f"header {name} {stated!r} but the links give {value!r}")
    return problems


def verify_archives(
    settings: Settings, paths: list[Path], role: str = "quality_reader"
) -> ArchiveReport:
    """Check archive files against each other and against `audit.chain_archives`.

    Files are taken in the order of their links. The first starts at the genesis or at an
    archive recorded before it; each later one at the previous file's last hash. Each file
    must be recorded (its SHA-256 and last hash) by a row of `audit.chain_archives`, in the
    database or, once that row was itself archived, in a later file.
    """
    report = ArchiveReport(files=[read_archive(path) for path in paths])
    connection = connect(settings, role)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("set local timezone = 'UTC'")
            cursor.execute(
                "select through_link_id, through_hash, first_previous_hash, file_sha256 "
                "from audit.chain_archives"
            )
            recorded = [tuple(row) for row in cursor.fetchall()]
    finally:
        connection.close()
    readable = [file for file in report.files if file.header]
    for file in readable:  # archive rows that a later archive took away with it
        for link in file.links:
            row = link.get("row")
            if link["table_name"] == "chain_archives" and row is not None:
                recorded.append(
                    (
                        int(row["through_link_id"]),
                        row["through_hash"],
                        row["first_previous_hash"],
                        row["file_sha256"],
                    )
                )
    readable.sort(key=lambda file: int(file.header.get("through_link_id") or 0))
    previous_head: str | None = None
    for file in readable:
        start = file.header.get("first_previous_hash")
        if previous_head is not None and start != previous_head:
            file.problems.append("does not start where the archive before it ends")
        elif previous_head is None and start != GENESIS:
            if not any(through_hash == start for _, through_hash, _, _ in recorded):
                file.problems.append(
                    "starts neither at the genesis nor at a recorded archive: give the "
                    "earlier archive files too"
                )
        previous_head = file.head
        through = int(file.header.get("through_link_id") or 0)
        matches = [entry for entry in recorded if entry[0] == through]
        if not matches:
            file.problems.append(
                f"no audit.chain_archives row through link {through} (the database's or a "
                "later archive file's)"
            )
        elif (through, file.head, start, file.sha256) not in matches:
            file.problems.append(
                "its SHA-256 or hashes differ from the audit.chain_archives row through "
                f"link {through}: the file was changed, or it is not the archived one"
            )
    return report
