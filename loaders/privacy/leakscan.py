"""Look for values that must never be stored (clear personal data, secrets) everywhere the
pipeline writes: every text column of every table, a plain dump, files on disk.

The privacy and secret tests use it on the demo park, and an auditor can use it on the
real warehouse with a list of staff names and e-mails (scripts/security/scan_for_pii.py):
the promise "pseudonymised before it is written anywhere" is checked, not believed.

Matching ignores case and accents, so `LEA FONTAINE` and `Léa Fontaine` are both found
(each value is searched in its composed, decomposed and unaccented forms, in a haystack
only case-folded: folding accents out of megabytes of dump would be slow).
dlt's pipeline state is stored compressed in `_dlt_pipeline_state`; it is decompressed
before it is searched, so compression cannot hide a value.
"""

from __future__ import annotations

import base64
import gzip
import os
import re
import subprocess
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from psycopg2 import sql

from loaders.settings import Settings
from loaders.warehouse import connect

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "name", "xml", "text[]")
MIN_NEEDLE_CHARS = 4  # shorter values would match everywhere by chance


@dataclass(frozen=True)
class Finding:
    where: str  # schema.table.column, or a file path
    needle: str


def fold(text: str) -> str:
    """Lower case without accents: what the comparisons use."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _needles(values: Iterable[str]) -> dict[str, str]:
    """Each form a value may take in a case-folded text -> the value."""
    forms = {}
    for value in values:
        if len(value.strip()) < MIN_NEEDLE_CHARS:
            raise ValueError(f"{value!r} is too short to search for without false alarms")
        spaced = " ".join(value.split()).casefold()
        for form in (
            unicodedata.normalize("NFC", spaced),
            unicodedata.normalize("NFD", spaced),
            fold(spaced),
        ):
            forms[form] = value
    return forms


def _find(haystack: str, needles: dict[str, str], where: str) -> list[Finding]:
    folded = re.sub(r"\s+", " ", haystack.casefold())
    return sorted(
        {Finding(where, value) for form, value in needles.items() if form in folded},
        key=lambda finding: finding.needle,
    )


def scan_text(text: str, values: Iterable[str], where: str) -> list[Finding]:
    return _find(text, _needles(values), where)


def scan_database(settings: Settings, values: Iterable[str], role: str = "admin") -> list[Finding]:
    """Every text-like column of every table and view outside the system schemas: one
    pass over each relation, its text columns read together."""
    needles = _needles(values)
    findings: list[Finding] = []
    connection = connect(settings, role)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                """
                select namespace.nspname, relation.relname,
                       array_agg(attribute.attname::text order by attribute.attnum)
                  from pg_catalog.pg_attribute as attribute
                  join pg_catalog.pg_class as relation on relation.oid = attribute.attrelid
                  join pg_catalog.pg_namespace as namespace
                    on namespace.oid = relation.relnamespace
                 where relation.relkind in ('r', 'p', 'v', 'm')
                   and attribute.attnum > 0 and not attribute.attisdropped
                   and format_type(attribute.atttypid, null) = any(%(types)s)
                   and namespace.nspname <> all(%(system)s)
                   and namespace.nspname not like 'pg\\_temp%%'
                 group by 1, 2
                 order by 1, 2
                """,
                {"types": list(TEXT_TYPES), "system": list(SYSTEM_SCHEMAS)},
            )
            for schema, table, columns in cursor.fetchall():
                cursor.execute(
                    sql.SQL("select {} from {}").format(
                        sql.SQL(", ").join(
                            sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns
                        ),
                        sql.Identifier(schema, table),
                    )
                )
                rows = cursor.fetchall()
                for index, column in enumerate(columns):
                    texts = {row[index] for row in rows if row[index] is not None}
                    if table == "_dlt_pipeline_state" and column == "state":
                        texts = {_dlt_state_text(text) for text in texts}
                    findings += _find("\n".join(texts), needles, f"{schema}.{table}.{column}")
    finally:
        connection.close()
    return findings


def _dlt_state_text(stored: str) -> str:
    """dlt stores its state as base64 of zlib-compressed JSON."""
    try:
        return zlib.decompress(base64.b64decode(stored)).decode("utf-8", "replace")
    except (ValueError, zlib.error):
        return stored


def _file_text(path: Path) -> str:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pandas().to_csv(index=False)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def scan_paths(paths: Iterable[Path], values: Iterable[str]) -> list[Finding]:
    """Every file under the paths (gzip and parquet files read as what they hold)."""
    needles = _needles(values)
    findings: list[Finding] = []
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            findings += _find(_file_text(path), needles, str(path))
    return findings


def plain_dump(settings: Settings, destination: Path) -> Path:
    """`pg_dump --format=plain` of the warehouse, as the administrator."""
    env = {"PGPASSWORD": settings.admin_password} if settings.admin_password else {}
    command = [
        "pg_dump",
        "--format=plain",
        f"--host={settings.pghost}",
        f"--port={settings.pgport}",
        f"--username={settings.admin_user}",
        f"--file={destination}",
        settings.database,
    ]
    completed = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"pg_dump of {settings.database} failed: {completed.stderr.strip()}")
    return destination
