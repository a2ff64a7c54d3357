"""The inbox folder's bookkeeping: which file versions are loaded, archived or refused.

A file is identified by its name and versioned by the SHA-256 of its bytes:
- a version already in the warehouse is not read again (the same file dropped twice loads
  once), nor is a file whose bytes were already loaded under another name;
- a new version of a name replaces every row of the earlier one, in the clean and in the
  rejected table alike (`purge_superseded`), so rows read = rows loaded + rows rejected
  holds for the file as it is now;
- after the load, each file is moved to `<inbox>/archive/<sha256[:12]>__<name>`; a file
  refused as a whole goes to `<inbox>/refused/<sha256[:12]>__<name>` with a
  `.reason.txt` beside it. Nothing is deleted but an inbox copy identical to its archive.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from psycopg2 import sql

ARCHIVE_DIR = "archive"
REFUSED_DIR = "refused"


def inbox_files(inbox: Path) -> list[Path]:
    """The CSV files directly in the inbox (not in archive/ or refused/), by name."""
    return sorted(p for p in inbox.iterdir() if p.is_file() and p.suffix.lower() == ".csv")


def _stored_name(sha256: str, name: str) -> str:
    return f"{sha256[:12]}__{name}"


def archive(inbox: Path, path: Path, sha256: str) -> Path:
    """Move a processed file to archive/, named by its content hash."""
    target = inbox / ARCHIVE_DIR / _stored_name(sha256, path.name)
    target.parent.mkdir(exist_ok=True)
    if target.exists():  # the same bytes are already archived
        path.unlink()
    else:
        shutil.move(str(path), target)
    return target


def refuse(inbox: Path, path: Path, sha256: str, reason: str) -> Path:
    """Move a refused file aside with the reason beside it; the other files still load."""
    target = inbox / REFUSED_DIR / _stored_name(sha256, path.name)
    target.parent.mkdir(exist_ok=True)
    shutil.move(str(path), target)
    Path(f"{target}.reason.txt").write_text(reason + "\n", encoding="utf-8")
    return target


def _existing(cursor, schema: str, tables: Iterable[str]) -> list[str]:  # noqa: ANN001
    found = []
    for table in tables:
        cursor.execute("select to_regclass(%s)", (f'"{schema}"."{table}"',))
        if cursor.fetchone()[0] is not None:
            found.append(table)
    return found


def loaded_versions(connection, schema: str, tables: Iterable[str]) -> dict[str, set[str]]:  # noqa: ANN001
    """{file name: the content hashes of its rows in the warehouse}."""
    versions: dict[str, set[str]] = {}
    with connection.cursor() as cursor:
        for table in _existing(cursor, schema, tables):
            cursor.execute(
                sql.SQL("select _source_file, _source_file_sha256 from {}.{} group by 1, 2").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            )
            for name, sha256 in cursor.fetchall():
                versions.setdefault(name, set()).add(sha256)
    return versions


def purge_superseded(
    connection,  # noqa: ANN001
    schema: str,
    tables: Iterable[str],
    files: dict[str, str],
) -> int:
    """Delete the rows of earlier versions of the files just loaded ({name: new hash});
    returns the number of rows deleted."""
    if not files:
        return 0
    names, hashes = list(files), [files[name] for name in files]
    deleted = 0
    with connection.cursor() as cursor:
        for table in _existing(cursor, schema, tables):
            cursor.execute(
                sql.SQL(
                    "delete from {}.{} as t using unnest(%s::text[], %s::text[]) as f(name, sha) "
                    "where t._source_file = f.name and t._source_file_sha256 <> f.sha"
                ).format(sql.Identifier(schema), sql.Identifier(table)),
                (names, hashes),
            )
            deleted += cursor.rowcount
    connection.commit()
    return deleted
