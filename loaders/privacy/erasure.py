"""Erasure of one person's data (GDPR art. 17), from the person's clear identifiers.

The warehouse never holds the name, only its keyed token. So the erasure recomputes the
person's tokens (each identifier, each key still in use: the current one and those kept
since a rotation), then, as the loader role that owns raw:

1. nulls every column of `raw` and `raw_staging` equal to a token and cuts the token out
   of any longer text (the pseudonymised line kept in a `__rejected` table);
2. deletes dlt's local copies of finished loads (they hold the same tokens), names the
   packages of an unfinished load, and cuts the tokens out of the logs and quality pages;

and, as the transformer role, looks for the tokens everywhere else (tables built by dbt,
the audit trail) and names what still holds one: those models must be rebuilt, which by
design should be none (personal data never passes staging, and staging views read raw).
It also names the files of the CSV inbox (the inbox, archive/, refused/; `.csv` in any
case) that still hold the person in clear: a reload would bring the token back, so the
source owner must redact them (retention deletes archived copies after their period).

The request is journalled in `audit.erasure_log` with its reference and the row counts,
never with the person's identifiers or tokens. Operators' procedure: docs/gdpr.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from psycopg2 import sql

from loaders.privacy import keys
from loaders.privacy.pseudonymise import normalise
from loaders.settings import Settings
from loaders.warehouse import connect

RAW_SCHEMAS = ("raw", "raw_staging")
ERASED = "[erased]"
UNREADABLE = -1  # in `remaining`: a table the transformer may not read, to check by hand
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")
SOURCE_ENCODINGS = ("utf-8-sig", "cp1252")
SOURCE_SUFFIXES = (".csv", ".txt")  # the exports, any case; the reasons of refused files
OUTPUT_SUFFIXES = (".jsonl", ".log", ".html", ".json", ".txt", ".csv", ".md")


@dataclass
class ErasureReport:
    reference: str
    tokens: int
    dry_run: bool
    changed: dict[str, int] = field(default_factory=dict)  # schema.table.column: rows
    remaining: dict[str, int] = field(default_factory=dict)  # outside raw: rows
    load_package_files_removed: int = 0
    pending_package_files: int = 0
    output_files_scrubbed: int = 0  # logs and quality pages
    source_files: list[str] = field(default_factory=list)

    def _tables(self, *, audit: bool, readable: bool = True) -> list[str]:
        return sorted(
            {
                ".".join(name.split(".")[:2])
                for name, rows in self.remaining.items()
                if name.startswith("audit.") == audit and (rows != UNREADABLE) == readable
            }
        )

    @property
    def models_to_rebuild(self) -> list[str]:
        """Tables built by dbt that still hold a token."""
        return self._tables(audit=False)

    @property
    def remaining_in_audit(self) -> list[str]:
        return self._tables(audit=True)

    @property
    def unreadable(self) -> list[str]:
        return self._tables(audit=False, readable=False) + self._tables(audit=True, readable=False)

    def lines(self) -> list[str]:
        verb = "would change" if self.dry_run else "changed"
        out = [f"erasure {self.reference}: {self.tokens} token(s) searched"]
        out += [f"  {verb} {rows} row(s) of {column}" for column, rows in self.changed.items()]
        if not self.changed:
            out.append("  no row of raw holds these tokens")
        removed = "would remove" if self.dry_run else "removed"
        out.append(f"  dlt load package files {removed}: {self.load_package_files_removed}")
        scrubbed = "would scrub" if self.dry_run else "scrubbed"
        out.append(f"  log and report files {scrubbed}: {self.output_files_scrubbed}")
        if self.pending_package_files:
            out.append(
                f"  PENDING dlt package files: {self.pending_package_files} (an unfinished "
                "load); run the pipeline, then this erasure again"
            )
        for name in self.models_to_rebuild:
            table = name.split(".", 1)[1]
            out.append(
                f"  REBUILD {name}: dbt build --full-refresh --select {table} "
                "--project-dir dbt_project --profiles-dir dbt_project"
            )
        for name in self.remaining_in_audit:
            out.append(f"  ADMINISTRATOR: {name} holds a token (audit rows are final)")
        for name in self.unreadable:
            out.append(f"  CHECK {name} by hand: the transformer role may not read it")
        if not self.remaining:
            out.append("  no table outside raw holds these tokens: nothing to rebuild")
        for path in self.source_files:
            out.append(f"  SOURCE still holds the person in clear: {path} (have it redacted)")
        return out


def tokens_for(settings: Settings, identifiers: list[str]) -> list[str]:
    """Every token the identifiers have under every key still in use."""
    tokens = {
        token
        for pseudonymiser in keys.keyring(settings)
        for identifier in identifiers
        if (token := pseudonymiser.token(identifier))
    }
    return sorted(tokens)


def _text_columns(cursor, schemas: tuple[str, ...] | None) -> list[tuple]:  # noqa: ANN001
    """(schema, table, column, nullable, type) of every text-like column of base tables."""
    cursor.execute(
        """
        select columns.table_schema, columns.table_name, columns.column_name,
               columns.is_nullable = 'YES', columns.data_type
          from information_schema.columns as columns
          join information_schema.tables as tables
            on tables.table_schema = columns.table_schema
           and tables.table_name = columns.table_name
         where tables.table_type = 'BASE TABLE'
           and columns.data_type = any(%(types)s)
           and case when %(schemas)s::text[] is null
                    then columns.table_schema not in ('pg_catalog', 'information_schema')
                         and columns.table_schema <> all(%(raw)s::text[])
                    else columns.table_schema = any(%(schemas)s::text[]) end
         order by 1, 2, 3
        """,
        {
            "types": list(TEXT_TYPES),
            "schemas": list(schemas) if schemas else None,
            "raw": list(RAW_SCHEMAS),
        },
    )
    return cursor.fetchall()


def _matches(column: sql.Composable) -> sql.Composable:
    return sql.SQL("{}::text like any(%(patterns)s)").format(column)


def _erase_in_raw(settings: Settings, tokens: list[str], dry_run: bool) -> dict[str, int]:
    patterns = [f"%{token}%" for token in tokens]
    changed: dict[str, int] = {}
    connection = connect(settings, "loader")
    try:
        with connection, connection.cursor() as cursor:
            for schema, table, column, nullable, kind in _text_columns(cursor, RAW_SCHEMAS):
                target = sql.Identifier(schema, table)
                name = sql.Identifier(column)
                if dry_run:
                    cursor.execute(
                        sql.SQL("select count(*) from {} where ").format(target) + _matches(name),
                        {"patterns": patterns},
                    )
                    rows = cursor.fetchone()[0]
                else:
                    cursor.execute(
                        _update(target, name, nullable, kind, tokens), {"patterns": patterns}
                    )
                    rows = cursor.rowcount
                if rows:
                    changed[f"{schema}.{table}.{column}"] = rows
    finally:
        connection.close()
    return changed


def _update(
    target: sql.Composable, column: sql.Identifier, nullable: bool, kind: str, tokens: list[str]
) -> sql.Composable:
    """`set column = null` where it is a token, else the token cut out of the text."""
    cut: sql.Composable = sql.SQL("{}::text").format(column)
    for token in tokens:
        cut = sql.SQL("replace({}, {}, {})").format(cut, sql.Literal(token), sql.Literal(ERASED))
    whole = sql.SQL("null") if nullable else sql.Literal(ERASED)
    return sql.SQL(
        "update {target} set {column} = case when {column}::text = any({tokens}) then {whole} "
        "else ({cut})::{type} end where "
    ).format(
        target=target,
        column=column,
        tokens=sql.Literal(tokens),
        whole=whole,
        cut=cut,
        type=sql.SQL("jsonb" if kind in ("json", "jsonb") else "text"),
    ) + _matches(column)


def _remaining(settings: Settings, tokens: list[str]) -> dict[str, int]:
    """Rows outside raw still holding a token, read as the transformer (which owns them)."""
    patterns = [f"%{token}%" for token in tokens]
    remaining: dict[str, int] = {}
    connection = connect(settings, "transformer")
    try:
        with connection, connection.cursor() as cursor:
            for schema, table, column, _, _ in _text_columns(cursor, None):
                cursor.execute(
                    "select has_table_privilege(format('%%I.%%I', %s, %s), 'select')",
                    (schema, table),
                )
                if not cursor.fetchone()[0]:
                    remaining[f"{schema}.{table}.{column}"] = UNREADABLE
                    continue
                cursor.execute(
                    sql.SQL("select count(*) from {} where ").format(sql.Identifier(schema, table))
                    + _matches(sql.Identifier(column)),
                    {"patterns": patterns},
                )
                rows = cursor.fetchone()[0]
                if rows:
                    remaining[f"{schema}.{table}.{column}"] = rows
    finally:
        connection.close()
    return remaining


def _remove_load_packages(settings: Settings, dry_run: bool) -> int:
    """dlt keeps each completed load's files under <dlt_dir>/<database>/<pipeline>/load/
    loaded/: copies of rows already in the database, tokens included."""
    root = Path(settings.dlt_dir) / settings.database
    files = [p for p in root.glob("*/load/loaded/*/*_jobs/*") if p.is_file()]  # completed, failed
    if not dry_run:
        for path in files:  # what dlt's own `delete_completed_jobs` option removes
            path.unlink()
    return len(files)


def _inbox_texts(settings: Settings) -> list[tuple[Path, list[str]]]:
    """Every file the CSV inbox keeps (the inbox, archive/, refused/ and the reasons beside
    refused files), whatever the case of its extension, as lines of text."""
    inbox = Path(settings.csv_inbox)
    texts = []
    for path in sorted(inbox.rglob("*")) if inbox.is_dir() else []:
        if not path.is_file() or path.suffix.lower() not in SOURCE_SUFFIXES:
            continue
        raw = path.read_bytes()
        for encoding in SOURCE_ENCODINGS:
            try:
                texts.append((path, raw.decode(encoding).splitlines()))
            except UnicodeDecodeError:
                continue
            break
    return texts


def source_lines(settings: Settings, identifiers: list[str]) -> dict[str, list[str]]:
    """The lines of the inbox's files naming the person (case, accents, spacing ignored)."""
    wanted = [normalise(identifier) for identifier in identifiers if identifier.strip()]
    found: dict[str, list[str]] = {}
    for path, lines in _inbox_texts(settings):
        hits = [line for line in lines if any(value in normalise(line) for value in wanted)]
        if hits:
            found[str(path)] = hits
    return found


def _source_files(settings: Settings, identifiers: list[str]) -> list[str]:
    return sorted(source_lines(settings, identifiers))


def _scrub_outputs(settings: Settings, tokens: list[str], dry_run: bool) -> int:
    """Cut the tokens out of what the product wrote outside the database: the log files
    and the quality pages (a token may appear in a rejected line's sample or an error)."""
    changed = 0
    for root in (Path(settings.log_dir) if settings.log_dir else None, Path(settings.reports_dir)):
        if root is None or not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if path.suffix.lower() not in OUTPUT_SUFFIXES:
                continue
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            if not any(token in text for token in tokens):
                continue
            changed += 1
            if not dry_run:
                for token in tokens:
                    text = text.replace(token, ERASED)
                path.write_text(text, encoding="utf-8", errors="surrogateescape")
    return changed


def _pending_package_files(settings: Settings) -> int:
    """dlt's packages not yet loaded (a load interrupted): they may hold the tokens and are
    loaded by the next run, so they are not deleted here; the report says so. Only files
    inside a package folder count: dlt keeps a `.version` marker in each of its storage
    folders, which made every erasure report a pending load that did not exist."""
    root = Path(settings.dlt_dir) / settings.database
    stages = ("load/new", "load/normalized", "normalize/extracted")
    pending = [path for stage in stages for path in root.glob(f"*/{stage}/*/**/*")]
    return sum(1 for path in pending if path.is_file())


def _journal(settings: Settings, report: ErasureReport) -> None:
    connection = connect(settings, "transformer")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                """
                insert into audit.erasure_log
                    (reference, tokens_searched, rows_changed, remaining, source_files)
                values (%s, %s, %s, %s, %s)
                """,
                (
                    report.reference,
                    report.tokens,
                    json.dumps(report.changed),
                    json.dumps(report.remaining),
                    len(report.source_files),
                ),
            )
    finally:
        connection.close()


def erase(
    settings: Settings, identifiers: list[str], *, reference: str, dry_run: bool = False
) -> ErasureReport:
    """Erase the person known by `identifiers` (name, e-mail, badge, ...); see module doc."""
    if not reference.strip():
        raise ValueError("an erasure needs the request's reference (ticket, letter number)")
    tokens = tokens_for(settings, identifiers)
    if not tokens:
        raise ValueError("no identifier given: name, e-mail or badge number of the person")
    report = ErasureReport(reference=reference, tokens=len(tokens), dry_run=dry_run)
    report.changed = _erase_in_raw(settings, tokens, dry_run)
    report.load_package_files_removed = _remove_load_packages(settings, dry_run)
    report.pending_package_files = _pending_package_files(settings)
    report.output_files_scrubbed = _scrub_outputs(settings, tokens, dry_run)
    report.remaining = _remaining(settings, tokens)
    report.source_files = _source_files(settings, identifiers)
    if not dry_run:
        _journal(settings, report)
    return report
