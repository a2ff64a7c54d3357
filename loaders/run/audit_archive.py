"""Archival of the audit trail's oldest part (`python -m loaders audit-archive`).

The audit trail is append-only and hash-chained (scripts/bootstrap/03_audit.sql), so it
grows for ever unless someone takes its old part out, and taking rows out is exactly what
the chain is there to reveal. This command does it the one way the chain can still prove:
the administrator, under the DPO's decision (docs/gdpr.md, "Retention"), writes the links
before a date and their rows to a file, records the file (its SHA-256, the last archived
link and hash) in `audit.chain_archives`, itself append-only and chained, and only then
deletes what the file holds. The database's triggers allow that DELETE and nothing else:
only rows and links a recorded archive covers. `audit-verify` then starts the chain from
the archive's last hash, and `audit-verify --archive FILE` recomputes the file.

The cut never splits a row's links: a run opened before the date and closed after it (or
still open), or a run whose dbt results were linked later, stays whole in the database.

The file: gzip, JSON lines. Line 1 is the header (`format`, reference, created_at,
before, first link and its previous hash, last link and its hash, counts); then one line
per link in link order, with the link's columns and `row`: the row's full content
(`to_jsonb`, in UTC) on the link whose digest it gives; a run's opening link has `row`
null (the row, as closed, is on its closing link). Any JSON reader opens it
(`zcat FILE | head -1`).
"""

from __future__ import annotations

import getpass
import gzip
import hashlib
import json
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from loaders.run import audit_chain
from loaders.settings import Settings
from loaders.warehouse import connect

CHAIN_LOCK = "windfarm audit chain"  # the advisory lock audit.link_row takes
# Deleted in this order: dbt's results before their run (foreign key).
DELETE_ORDER = ("dbt_run_results", "pipeline_runs", "erasure_log", "privacy_log", "chain_archives")

# Rows whose links straddle the cut `%(cut)s`, open runs and runs whose dbt results were
# linked after it: the cut moves below the first link of each.
_STRADDLING = """
select min(first_link) from (
    select min(link.link_id) as first_link
      from audit.audit_chain as link
     group by link.table_name, link.row_key
    having min(link.link_id) <= %(cut)s and max(link.link_id) > %(cut)s
    union all
    select link.link_id
      from audit.audit_chain as link
      join audit.pipeline_runs as run
        on link.table_name = 'pipeline_runs' and link.row_key = run.run_id
     where run.ended_at is null and link.link_id <= %(cut)s
    union all
    select run_link.link_id
      from audit.audit_chain as run_link
      join audit.dbt_run_results as result
        on run_link.table_name = 'pipeline_runs' and run_link.row_key = result.run_id
      join audit.audit_chain as result_link
        on result_link.table_name = 'dbt_run_results'
       and result_link.row_key = result.invocation_id || '/' || result.unique_id
     where run_link.link_id <= %(cut)s and result_link.link_id > %(cut)s
) as straddling
"""


class ArchiveError(ValueError):
    """The archival cannot go on; the message says why and what to do."""


@dataclass
class ArchiveResult:
    reference: str
    path: Path | None = None
    through_link_id: int | None = None
    through_hash: str = ""
    links: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    sha256: str = ""

    def lines(self) -> list[str]:
        if self.path is None:
            return [f"audit archive {self.reference}: nothing to archive, nothing written"]
        counts = ", ".join(f"{table} {count}" for table, count in sorted(self.rows.items()))
        return [
            f"audit archive {self.reference}: {self.links} link(s) through link "
            f"{self.through_link_id} archived to {self.path} and deleted ({counts})",
            f"through hash {self.through_hash}",
            f"file sha256 {self.sha256}",
            "keep the file offline in the DPO's custody; check it with "
            f"`python -m loaders audit-verify --archive {self.path.name}`",
        ]


def archive(settings: Settings, before: date, target: Path, reference: str) -> ArchiveResult:
    """Archive the links (and their rows) linked before `before` (00:00 UTC) to `target`,
    then delete them, as the administrator. Refuses a broken chain: archiving it would
    launder the tampering."""
    if not reference.strip():
        raise ArchiveError("an archival needs a reference (the DPO's decision, a ticket)")
    if target.exists():
        raise ArchiveError(f"{target} exists: an archive is never overwritten")
    if not target.parent.is_dir():
        raise ArchiveError(f"{target.parent} is not a folder")
    report = audit_chain.verify(settings, role="admin")
    if not report.ok:
        raise ArchiveError(
            "the audit chain is BROKEN: nothing archived (run `python -m loaders audit-verify` "
            "and investigate first)"
        )
    result = ArchiveResult(reference=reference)
    snapshot = _read_archivable(settings, before)
    if snapshot is None:
        return result
    header, lines = snapshot
    header.update(reference=reference, created_at=datetime.now(UTC).isoformat())
    result.sha256 = _write(target, header, lines)
    result.path = target
    result.through_link_id = header["through_link_id"]
    result.through_hash = header["through_hash"]
    result.links, result.rows = header["links"], header["rows"]
    try:
        _record_and_delete(settings, header, target.name, result.sha256)
    except Exception:
        target.unlink()  # nothing was deleted: the file archives nothing
        raise
    return result


def _cut(cursor, before: date) -> int | None:  # noqa: ANN001
    """The largest link id L such that every link up to L was linked before `before` and
    no row has links on both sides of L; None when there is none."""
    cursor.execute(
        "select coalesce(min(link_id) - 1, (select max(link_id) from audit.audit_chain)) "
        "from audit.audit_chain where linked_at >= %s::date",
        (before,),
    )
    (cut,) = cursor.fetchone()
    while cut is not None:
        cursor.execute(_STRADDLING, {"cut": cut})
        (first,) = cursor.fetchone()
        if first is None:
            break
        cut = first - 1
    cursor.execute("select min(link_id) from audit.audit_chain")
    (first_link,) = cursor.fetchone()
    if cut is None or first_link is None or cut < first_link:
        return None
    return cut


def _read_archivable(settings: Settings, before: date) -> tuple[dict, list[str]] | None:
    """The header and the link lines of what is archivable, read in one snapshot."""
    connection = connect(settings, "admin")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("set transaction isolation level repeatable read")
            cursor.execute("set local timezone = 'UTC'")
            cut = _cut(cursor, before)
            if cut is None:
                return None
            cursor.execute(
                "select link_id, linked_at, table_name, row_key, row_digest, previous_hash, "
                "chain_hash from audit.audit_chain where link_id <= %s order by link_id",
                (cut,),
            )
            links = cursor.fetchall()
            rows = _rows_of(cursor, links)
    finally:
        connection.close()
    lines, counts = [], dict.fromkeys(audit_chain.CHAINED_TABLES, 0)
    for link_id, linked_at, table, key, digest, previous, chain_hash in links:
        content = rows.pop((table, key, digest), None)
        if content is None and not _opening_link(links, link_id, table, key):
            raise ArchiveError(f"link {link_id}: audit.{table} {key} has no row with its digest")
        if content is not None:
            counts[table] += 1
        described = json.dumps(
            {
                "link_id": link_id,
                "linked_at": linked_at.isoformat(),
                "table_name": table,
                "row_key": key,
                "row_digest": digest,
                "previous_hash": previous,
                "chain_hash": chain_hash,
            },
            ensure_ascii=False,
        )
        # The row as PostgreSQL wrote it, numbers and all: its digest is over that text.
        lines.append(f'{described[:-1]}, "row": {content if content is not None else "null"}}}')
    header = {
        "format": audit_chain.ARCHIVE_FORMAT,
        "before": before.isoformat(),
        "database": settings.database,
        "first_link_id": links[0][0],
        "first_previous_hash": links[0][5],
        "through_link_id": links[-1][0],
        "through_hash": links[-1][6],
        "links": len(links),
        "rows": {table: count for table, count in counts.items() if count},
        "digest": "row_digest = sha256 of the row's jsonb text without nulls; chain_hash = "
        "sha256(previous_hash|table_name|row_digest)",
    }
    return header, lines


def _opening_link(links: list[tuple], link_id: int, table: str, key: str) -> bool:
    """A run's opening link, whose row (as closed) is on a later link of the file."""
    return table == "pipeline_runs" and any(
        later[0] > link_id and later[2] == table and later[3] == key for later in links
    )


def _rows_of(cursor, links: list[tuple]) -> dict[tuple[str, str, str], str]:  # noqa: ANN001
    """(table, key, digest) -> the row's full JSON text, for the rows the links name;
    each row's digest is recomputed in Python, as the verifier of the file will."""
    rows: dict[tuple[str, str, str], str] = {}
    for table in audit_chain.CHAINED_TABLES:
        keys = sorted({key for _, _, name, key, _, _, _ in links if name == table})
        if not keys:
            continue
        cursor.execute(
            f"select {audit_chain.ROW_KEY[table]}, {audit_chain.ROW_DIGEST}, "  # noqa: S608 - constants
            f"to_jsonb(t)::text from audit.{table} as t "
            f"where {audit_chain.ROW_KEY[table]} = any(%s)",
            (keys,),
        )
        for key, digest, content in cursor.fetchall():
            parsed = audit_chain.parse_archive_line(content)
            if audit_chain.row_digest(parsed) != digest:
                raise ArchiveError(
                    f"audit.{table} {key}: its digest cannot be recomputed outside the "
                    "database; nothing archived (report this row's content as a bug)"
                )
            rows[(table, key, digest)] = content
    return rows


def _write(target: Path, header: dict, lines: list[str]) -> str:
    """Write the file beside its final name, flush it to disk, then give it that name:
    a crash leaves no half archive under the name. Returns its SHA-256."""
    partial = target.with_name(f".{target.name}.partial")
    with partial.open("xb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as compressed:
            compressed.write((json.dumps(header, ensure_ascii=False) + "\n").encode())
            for line in lines:
                compressed.write((line + "\n").encode())
        raw.flush()
        os.fsync(raw.fileno())
    os.chmod(partial, 0o600)
    partial.rename(target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return hashlib.sha256(target.read_bytes()).hexdigest()


def _record_and_delete(settings: Settings, header: dict, file_name: str, sha256: str) -> None:
    """In one transaction: the archive's row, then the archived rows and links. The chain's
    lock keeps new links out meanwhile; the links are checked to be the file's."""
    through = header["through_link_id"]
    connection = connect(settings, "admin")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("set local timezone = 'UTC'")
            cursor.execute("select pg_advisory_xact_lock(hashtext(%s))", (CHAIN_LOCK,))
            cursor.execute(
                "select count(*), max(chain_hash) filter (where link_id = %s) "
                "from audit.audit_chain where link_id <= %s",
                (through, through),
            )
            if cursor.fetchone() != (header["links"], header["through_hash"]):
                raise ArchiveError("the chain changed while the file was written: run again")
            cursor.execute(
                "insert into audit.chain_archives (reference, run_by, through_link_id, "
                "through_hash, first_previous_hash, rows, file_name, file_sha256) "
                "values (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    header["reference"],
                    f"{getpass.getuser()}@{socket.gethostname()}",
                    through,
                    header["through_hash"],
                    header["first_previous_hash"],
                    json.dumps(header["rows"]),
                    file_name,
                    sha256,
                ),
            )
            for table in DELETE_ORDER:
                key = audit_chain.ROW_KEY[table]
                cursor.execute(
                    f"delete from audit.{table} as t where {key} in ("  # noqa: S608 - constants
                    "select row_key from audit.audit_chain "
                    "where table_name = %s and link_id <= %s)",
                    (table, through),
                )
                if cursor.rowcount != header["rows"].get(table, 0):
                    raise ArchiveError(
                        f"audit.{table}: {cursor.rowcount} row(s) to delete, the file holds "
                        f"{header['rows'].get(table, 0)}: nothing archived"
                    )
            cursor.execute("delete from audit.audit_chain where link_id <= %s", (through,))
    finally:
        connection.close()
