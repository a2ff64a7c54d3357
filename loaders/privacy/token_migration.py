"""Migration of tokens made before names were folded for accents (loaders/privacy/
pseudonymise.py, `normalise`): until then `Léa Fontaine` and `Lea Fontaine` got two
tokens, one person counted as two.

The warehouse holds no name, so the old tokens cannot be recomputed from it: the migration
takes the staff list (the people who may appear: names, e-mails, as HR gives them), and
for each value whose token changed computes old -> new under every key in use, then, as
the loader that owns raw, replaces each old token by the new one in every text column of
`raw` and `raw_staging` (whole values and inside rejected lines). A name spelt without its
accent in some exports merges into the same new token: that is the point.

Runs once, after upgrading: `python -m loaders migrate-tokens --names-file staff.txt
--reference CHG-... [--dry-run]`; journalled in `audit.privacy_log` (counts only). Values
that contain no accent or compatibility character have the same token before and after:
nothing to do for them. Another way, without a staff list: re-load every source still
within retention (`python -m loaders run --from ... --to ... --force`).
"""

from __future__ import annotations

from psycopg2 import sql

from loaders.privacy import erasure, journal, keys
from loaders.privacy.pseudonymise import normalise_before_accent_folding
from loaders.settings import Settings
from loaders.warehouse import connect


def token_pairs(settings: Settings, identifiers: list[str]) -> dict[str, str]:
    """old token -> new token, for the values whose token the accent folding changed."""
    pairs = {}
    for pseudonymiser in keys.keyring(settings):
        for identifier in identifiers:
            old = pseudonymiser.token(identifier, normaliser=normalise_before_accent_folding)
            new = pseudonymiser.token(identifier)
            if old and new and old != new:
                pairs[old] = new
    return pairs


def migrate(
    settings: Settings, identifiers: list[str], *, reference: str, dry_run: bool = False
) -> dict[str, int]:
    """Rows changed per `schema.table.column` (would change, with `dry_run`)."""
    if not reference.strip():
        raise ValueError("a token migration needs a reference (change ticket)")
    pairs = token_pairs(settings, identifiers)
    changed: dict[str, int] = {}
    connection = connect(settings, "loader")
    try:
        with connection, connection.cursor() as cursor:
            for schema, table, column, _, kind in erasure._text_columns(
                cursor, erasure.RAW_SCHEMAS
            ):
                target, name = sql.Identifier(schema, table), sql.Identifier(column)
                cast = sql.SQL("jsonb" if kind in ("json", "jsonb") else "text")
                rows = 0
                for old, new in pairs.items():
                    where = sql.SQL("{}::text like %(pattern)s").format(name)
                    if dry_run:
                        statement = sql.SQL("select count(*) from {} where ").format(target)
                    else:
                        statement = sql.SQL(
                            "update {} set {} = replace({}::text, {}, {})::{} where "
                        ).format(target, name, name, sql.Literal(old), sql.Literal(new), cast)
                    cursor.execute(statement + where, {"pattern": f"%{old}%"})
                    rows += cursor.fetchone()[0] if dry_run else cursor.rowcount
                if rows:
                    changed[f"{schema}.{table}.{column}"] = rows
    finally:
        connection.close()
    if not dry_run:
        journal.record(
            settings,
            "token_migration",
            reference,
            {"values": len(identifiers), "tokens_changed": len(pairs), "rows": changed},
        )
    return changed
