"""The data subject's rights as commands (GDPR art. 15, 18, 21), each journalled in
`audit.privacy_log` like an erasure (art. 17, loaders/privacy/erasure.py) is in
`audit.erasure_log`: reference, who, counts; never the person's identifiers or tokens.

- `lookup`: the tokens of a person, for an engineer's supervised query; the look-up itself
  is journalled, so testing a name against the warehouse is never silent.
- `access_export`: everything the warehouse and the product's folders hold on a person,
  as one JSON file for the DPO (mode 0600, never overwritten): the raw rows holding their
  tokens and the source-file lines naming them.
- `suppress` (an upheld objection, or a restriction) and `lift`: the person's token goes on
  `raw.privacy_suppressions`; the loaders then write a blank instead of it (the
  intervention still loads, without the link to the person). An upheld objection also
  erases the link in what is already loaded (the erasure procedure).

Each command computes the tokens under the current key and the previous keys: the only
commands besides the erasure that load the previous keys (loaders/privacy/keys.py).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from psycopg2 import sql

from loaders.privacy import erasure, journal, keys
from loaders.privacy.pseudonymise import subject_digest
from loaders.settings import Settings
from loaders.warehouse import connect

SUPPRESSIONS = "raw.privacy_suppressions"


@dataclass
class AccessExport:
    reference: str
    path: Path
    rows: dict[str, int] = field(default_factory=dict)  # schema.table: rows
    source_lines: dict[str, int] = field(default_factory=dict)  # file: lines

    def lines(self) -> list[str]:
        out = [f"access {self.reference}: written to {self.path} (personal data: mode 0600)"]
        out += [f"  {table}: {rows} row(s)" for table, rows in self.rows.items()]
        out += [f"  source {name}: {n} line(s)" for name, n in self.source_lines.items()]
        if not self.rows and not self.source_lines:
            out.append("  nothing held on this person")
        return out


def _tokens(settings: Settings, identifiers: list[str], reference: str) -> list[str]:
    if not reference.strip():
        raise ValueError("a request needs its reference (ticket, letter number)")
    tokens = erasure.tokens_for(settings, identifiers)
    if not tokens:
        raise ValueError("no identifier given: name, e-mail or badge number of the person")
    return tokens


def lookup(settings: Settings, identifiers: list[str], *, reference: str) -> list[str]:
    """The person's tokens under every key in use; the look-up is journalled."""
    tokens = _tokens(settings, identifiers, reference)
    journal.record(
        settings,
        "name_lookup",
        reference,
        {"identifiers": len(identifiers), "tokens": len(tokens)},
    )
    return tokens


def _rows_holding(settings: Settings, tokens: list[str]) -> dict[str, list[dict]]:
    """Rows of raw (as the loader, which owns it) holding a token, whole."""
    patterns = [f"%{token}%" for token in tokens]
    found: dict[str, list[dict]] = {}
    connection = connect(settings, "loader")
    try:
        with connection, connection.cursor() as cursor:
            columns_by_table: dict[tuple[str, str], list[str]] = {}
            for schema, table, column, _, _ in erasure._text_columns(cursor, ("raw",)):
                columns_by_table.setdefault((schema, table), []).append(column)
            for (schema, table), columns in columns_by_table.items():
                matches = sql.SQL(" or ").join(
                    sql.SQL("{}::text like any(%(patterns)s)").format(sql.Identifier(c))
                    for c in columns
                )
                cursor.execute(
                    sql.SQL("select to_jsonb(t) from {} as t where ").format(
                        sql.Identifier(schema, table)
                    )
                    + matches,
                    {"patterns": patterns},
                )
                rows = [row[0] for row in cursor.fetchall()]
                if rows:
                    found[f"{schema}.{table}"] = rows
    finally:
        connection.close()
    return found


def access_export(
    settings: Settings, identifiers: list[str], *, reference: str, output: Path
) -> AccessExport:
    """Write everything held on the person to `output` (JSON) for the DPO (art. 15)."""
    tokens = _tokens(settings, identifiers, reference)
    if output.exists():
        raise FileExistsError(f"{output} exists: an access export never overwrites a file")
    rows = _rows_holding(settings, tokens)
    source_lines = erasure.source_lines(settings, identifiers)
    document = {
        "reference": reference,
        "generated_at": datetime.now(UTC).isoformat(),
        "note": (
            "Rows of the maintenance data warehouse linked to the person (tokens are keyed "
            "pseudonyms of the identifiers given), and lines of the source files kept by the "
            "product that name the person."
        ),
        "keys": [pseudonymiser.key_id for pseudonymiser in keys.keyring(settings)],
        "tables": rows,
        "source_files": source_lines,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, indent=2, default=str)
    result = AccessExport(
        reference,
        output,
        rows={table: len(found) for table, found in rows.items()},
        source_lines={name: len(lines) for name, lines in source_lines.items()},
    )
    journal.record(
        settings,
        "access",
        reference,
        {"rows": result.rows, "source_files": len(source_lines), "output": output.name},
    )
    return result


def suppress(settings: Settings, identifiers: list[str], *, reference: str, kind: str) -> int:
    """Put the person on the suppression list (`objection` or `restriction`); the number of
    tokens added. The erasure of what is already loaded is the caller's next step for an
    objection (loaders/privacy/commands.py does both)."""
    if kind not in ("objection", "restriction"):
        raise ValueError(f"unknown kind {kind!r}: objection or restriction")
    tokens = _tokens(settings, identifiers, reference)
    connection = connect(settings, "loader")
    try:
        with connection, connection.cursor() as cursor:
            cursor.executemany(
                f"insert into {SUPPRESSIONS} (subject_digest, kind, reference) "  # noqa: S608 - constant
                "values (%s, %s, %s) on conflict (subject_digest) do update "
                "set kind = excluded.kind, reference = excluded.reference",
                [(subject_digest(token), kind, reference) for token in tokens],
            )
    finally:
        connection.close()
    journal.record(settings, kind, reference, {"tokens": len(tokens)})
    return len(tokens)


def lift(settings: Settings, identifiers: list[str], *, reference: str) -> int:
    """End a restriction (art. 18(3): the person is told first); the rows removed."""
    tokens = _tokens(settings, identifiers, reference)
    connection = connect(settings, "loader")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                f"delete from {SUPPRESSIONS} where subject_digest = any(%s) "  # noqa: S608 - constant
                "and kind = 'restriction'",
                ([subject_digest(token) for token in tokens],),
            )
            removed = cursor.rowcount
    finally:
        connection.close()
    journal.record(settings, "restriction_lifted", reference, {"tokens": removed})
    return removed


def suppressed(settings: Settings) -> frozenset[str]:
    """The digests the loaders must blank; empty where the list does not exist yet."""
    connection = connect(settings, "loader")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("select to_regclass(%s) is not null", (SUPPRESSIONS,))
            if not cursor.fetchone()[0]:
                return frozenset()
            cursor.execute(f"select subject_digest from {SUPPRESSIONS}")  # noqa: S608 - constant
            return frozenset(row[0] for row in cursor.fetchall())
    finally:
        connection.close()
