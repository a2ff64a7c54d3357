"""The inbox folder's bookkeeping: which file versions are loaded, archived or refused.

A file is identified by its name and versioned by the SHA-256 of its bytes:
- a version already in the warehouse is not read again (the same file dropped twice loads
  once), nor is a file whose bytes were already loaded under another name;
- a new version of a name replaces every row of the earlier one, in the clean and in the
  rejected table alike (`purge_superseded`), so rows read = rows loaded + rows rejected
  holds for the file as it is now;
- each file is first copied to `<inbox>/.reading/` while it is hashed (`take`): what is
  parsed, loaded and archived is that copy, the version hashed, even if the exporter
  replaces the file meanwhile;
- after the load, that copy is moved to `<inbox>/archive/<sha256[:12]>__<name>`; a file
  refused as a whole goes to `<inbox>/refused/<sha256[:12]>__<name>` with a
  `.reason.txt` beside it. The inbox file is then removed only if it still holds the
  version read: a file replaced during the run stays for the next run, as a new version.
- a file whose name is not valid UTF-8 or holds a control character is refused at once
  (its stored name spells the bad bytes as `\\xNN`): no table could record it.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from psycopg2 import sql

from loaders import logs
from loaders.sources.production_csv import parsing

ARCHIVE_DIR = "archive"
REFUSED_DIR = "refused"
READING_DIR = ".reading"
_CONTROL_IN_NAME = re.compile(r"[\x00-\x1f\x7f]")  # in a name, tab and line breaks too


@dataclass(frozen=True)
class InboxFile:
    """One file of the inbox as this run read it: its bytes copied to `copy`, hashed."""

    name: str
    path: Path  # in the inbox
    copy: Path  # the version read, in .reading/
    sha256: str
    encoding: str


def inbox_files(inbox: Path) -> list[Path]:
    """The CSV files directly in the inbox (not in archive/ or refused/), by name."""
    return sorted(p for p in inbox.iterdir() if p.is_file() and p.suffix.lower() == ".csv")


def shown_name(path: Path) -> str:
    """The file name as text that any table, log or file system can hold."""
    escaped = os.fsencode(path.name).decode("utf-8", "backslashreplace")
    return _CONTROL_IN_NAME.sub(lambda found: f"\\x{ord(found[0]):02x}", escaped)


def name_problem(path: Path) -> str | None:
    """Why a file name cannot be recorded as it is, or None."""
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not valid UTF-8: rename the file"
    if _CONTROL_IN_NAME.search(path.name):
        return "the file name holds a control character: rename the file"
    return None


class ChangedWhileReadError(OSError):
    """The file was written to while it was copied: the copy may mix two versions."""


def _version(path: Path) -> tuple[int, int, int]:
    status = path.stat()
    return status.st_ino, status.st_size, status.st_mtime_ns


def take(inbox: Path, path: Path) -> InboxFile:
    """Copy the file to .reading/ while hashing it. OSError when it cannot be read now;
    ChangedWhileReadError when it was being written (left for the next run)."""
    reading = inbox / READING_DIR
    reading.mkdir(exist_ok=True)
    copy = reading / f"{secrets.token_hex(8)}.csv"
    try:
        before = _version(path)
        sha256, encoding = parsing.inspect_file(path, copy_to=copy)
        if _version(path) != before:
            raise ChangedWhileReadError(
                f"{path.name} was being written while it was read: left for the next run"
            )
    except BaseException:
        copy.unlink(missing_ok=True)
        raise
    return InboxFile(shown_name(path), path, copy, sha256, encoding)


def clear_reading(inbox: Path) -> None:
    """Remove the copies a crashed run left in .reading/ (their files are still in the
    inbox, read again by this run)."""
    reading = inbox / READING_DIR
    if reading.is_dir():
        shutil.rmtree(reading, ignore_errors=True)


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _stored_name(sha256: str, name: str) -> str:
    return f"{sha256[:12]}__{name}"


def _set_aside(inbox: Path, file: InboxFile, folder: str) -> tuple[Path, bool]:
    """Move the copy read to `folder`, and remove the inbox file if it is still that
    version; (where the copy is, whether the inbox file was removed)."""
    target = inbox / folder / _stored_name(file.sha256, file.name)
    target.parent.mkdir(exist_ok=True)
    if target.exists():  # the same bytes are already there
        file.copy.unlink(missing_ok=True)
    else:
        shutil.move(str(file.copy), target)
    unchanged = _sha256(file.path) == file.sha256
    if unchanged:
        file.path.unlink()
    elif file.path.exists():
        logs.event(
            "production_csv",
            f"{file.name} changed while it was read: the version read (sha256 "
            f"{file.sha256[:12]}) is in {folder}/, the new one stays for the next run",
            level="warning",
        )
    return target, unchanged


def archive(inbox: Path, file: InboxFile) -> Path:
    """Move a processed file to archive/, named by its content hash."""
    return _set_aside(inbox, file, ARCHIVE_DIR)[0]


def refuse(inbox: Path, file: InboxFile, reason: str) -> Path:
    """Move a refused file aside with the reason beside it; the other files still load."""
    target, _ = _set_aside(inbox, file, REFUSED_DIR)
    Path(f"{target}.reason.txt").write_text(reason + "\n", encoding="utf-8")
    return target


def refuse_name(inbox: Path, path: Path, reason: str) -> Path:
    """Move a file whose name cannot be recorded aside, under a name that can."""
    sha256 = _sha256(path) or "unreadable"
    target = inbox / REFUSED_DIR / _stored_name(sha256, shown_name(path))
    target.parent.mkdir(exist_ok=True)
    shutil.move(os.fsencode(path), os.fsencode(target))
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


def purge_file_versions(
    connection,  # noqa: ANN001
    schema: str,
    tables: Iterable[str],
    files: dict[str, str],
) -> int:
    """Delete the rows of these file versions ({name: hash}): a file refused after some of
    its rows were handed to dlt keeps none of them; returns the number of rows deleted."""
    if not files:
        return 0
    deleted = 0
    with connection.cursor() as cursor:
        for table in _existing(cursor, schema, tables):
            cursor.execute(
                sql.SQL(
                    "delete from {}.{} as t using unnest(%s::text[], %s::text[]) as f(name, sha) "
                    "where t._source_file = f.name and t._source_file_sha256 = f.sha"
                ).format(sql.Identifier(schema), sql.Identifier(table)),
                (list(files), list(files.values())),
            )
            deleted += cursor.rowcount
    connection.commit()
    return deleted


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
