"""Storage limitation as code (GDPR art. 5(1)(e)): each table and folder the product writes
is kept for the period its configuration says, then purged, and each purge is journalled.

The periods are the controller's decisions, so they are configuration: `retention.csv`
beside this module (or the file named by the `retention_policy` setting), one line per
target with the reason. A table target is `schema.table` with the column its age is read
from (`_dlt_load_id`: when it was loaded) and an action, `delete` (the rows go) or
`null <column> ...` (the rows stay, the personal columns are emptied; a column the table
does not have yet is skipped). A rule for a `raw` table applies to its copy in
`raw_staging` too: dlt keeps there the rows of the table's last merge load, tokens
included, so a purge of `raw` alone left them past their period. A folder target
names settings in braces (`{csv_inbox}/archive`) and one of: `delete files` (files older
than the period, by modification time), `delete load packages` (dlt's finished packages),
`delete log lines` (lines of the JSON-lines log older than the period), `delete run pages`
(a run's quality page folder; `latest` stays).

The daily run purges after its load (`loaders/run/pipeline.py`); `python -m loaders purge`
does it on demand (`--dry-run` counts). Every purge, even of nothing, writes one row to
`audit.privacy_log` (action `retention_purge`) with what went per target. The audit trail
itself is not purged here: its rows are append-only (docs/gdpr.md, "Retention").
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from psycopg2 import sql

from loaders.privacy import journal
from loaders.settings import Settings
from loaders.warehouse import connect

POLICY_FILE = Path(__file__).with_name("retention.csv")
# dlt's merge scratch copies of raw tables: a raw table's rule applies to its copy too
SCRATCH_SCHEMAS = {"raw": "raw_staging"}
FOLDER_ACTIONS = ("delete files", "delete load packages", "delete log lines", "delete run pages")
KEPT_REPORT_FOLDERS = frozenset({"latest"})


class PolicyError(ValueError):
    """A line of the retention policy that cannot be applied, named by file and line."""


@dataclass(frozen=True)
class Rule:
    target: str
    keep_days: int
    age_from: str
    action: str
    why: str

    @property
    def is_table(self) -> bool:
        return "{" not in self.target and "/" not in self.target


@dataclass
class PurgeReport:
    reference: str
    dry_run: bool
    purged: dict[str, int] = field(default_factory=dict)  # target: rows or files
    errors: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        verb = "would purge" if self.dry_run else "purged"
        out = [f"retention {self.reference}: {verb} {sum(self.purged.values())} item(s)"]
        out += [f"  {target}: {count}" for target, count in self.purged.items() if count]
        out += [f"  FAILED {target}: {error}" for target, error in self.errors.items()]
        return out


def load_policy(path: Path = POLICY_FILE) -> list[Rule]:
    rules = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                rule = Rule(
                    target=row["target"].strip(),
                    keep_days=int(row["keep_days"]),
                    age_from=row["age_from"].strip(),
                    action=row["action"].strip(),
                    why=(row.get("why") or "").strip(),
                )
            except (KeyError, TypeError, ValueError) as error:
                raise PolicyError(f"{path}:{line}: {error}") from None
            if rule.keep_days < 1:
                raise PolicyError(f"{path}:{line}: keep_days must be at least 1")
            if not rule.why:
                raise PolicyError(f"{path}:{line}: say why the period is what it is")
            table_action = rule.action == "delete" or rule.action.startswith("null ")
            if rule.is_table and not table_action:
                raise PolicyError(f"{path}:{line}: a table is purged by `delete` or `null <col>`")
            if not rule.is_table and rule.action not in FOLDER_ACTIONS:
                raise PolicyError(f"{path}:{line}: a folder takes one of {FOLDER_ACTIONS}")
            rules.append(rule)
    return rules


def policy(settings: Settings) -> list[Rule]:
    return load_policy(
        Path(settings.retention_policy) if settings.retention_policy else POLICY_FILE
    )


def purge(
    settings: Settings,
    *,
    reference: str,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PurgeReport:
    """Apply every rule; a rule that fails is reported and the others still run."""
    now = now or datetime.now(UTC)
    report = PurgeReport(reference=reference, dry_run=dry_run)
    for rule in policy(settings):
        cutoff = now - timedelta(days=rule.keep_days)
        name = rule.target if rule.is_table else _folder(settings, rule)
        try:
            if rule.is_table:
                count = _purge_table(settings, rule, cutoff, dry_run)
            else:
                count = _purge_folder(Path(name), rule.action, cutoff, dry_run)
        except Exception as error:  # noqa: BLE001 - one target must not stop the others
            report.errors[name] = f"{type(error).__name__}: {error}"[:500]
            continue
        report.purged[name] = count
    if not dry_run:
        journal.record(
            settings,
            "retention_purge",
            reference,
            {"purged": report.purged, "errors": report.errors, "cutoff_of": now.isoformat()},
        )
    return report


def _folder(settings: Settings, rule: Rule) -> str:
    try:
        return rule.target.format(**settings.describe())
    except KeyError as error:
        raise PolicyError(f"{rule.target}: no setting {error}") from None


def _age_expression(column: str) -> sql.Composable:
    if column == "_dlt_load_id":  # dlt's load id is the load's Unix time
        return sql.SQL("to_timestamp({}::double precision)").format(sql.Identifier(column))
    return sql.Identifier(column)


def _purge_table(settings: Settings, rule: Rule, cutoff: datetime, dry_run: bool) -> int:
    """As the loader, which owns raw (and dlt's scratch copy of it, SCRATCH_SCHEMAS). A table
    that does not exist yet has nothing to purge."""
    schema, table = rule.target.split(".", 1)
    schemas = [schema, *([SCRATCH_SCHEMAS[schema]] if schema in SCRATCH_SCHEMAS else [])]
    connection = connect(settings, "loader")
    try:
        with connection, connection.cursor() as cursor:
            return sum(_purge_one(cursor, name, table, rule, cutoff, dry_run) for name in schemas)
    finally:
        connection.close()


def _purge_one(
    cursor,  # noqa: ANN001
    schema: str,
    table: str,
    rule: Rule,
    cutoff: datetime,
    dry_run: bool,
) -> int:
    cursor.execute(
        "select column_name::text from information_schema.columns "
        "where table_schema = %s and table_name = %s",
        (schema, table),
    )
    present = {name for (name,) in cursor.fetchall()}
    if not present:
        return 0  # no such table (yet)
    target = sql.Identifier(schema, table)
    old = sql.SQL("{} < %(cutoff)s").format(_age_expression(rule.age_from))
    if rule.action == "delete":
        where = old
        statement = sql.SQL("delete from {} where ").format(target) + where
    else:
        columns = [sql.Identifier(c) for c in rule.action.split()[1:] if c in present]
        if not columns:
            return 0
        held = sql.SQL(" or ").join(sql.SQL("{} is not null").format(c) for c in columns)
        where = old + sql.SQL(" and (") + held + sql.SQL(")")
        emptied = sql.SQL(", ").join(sql.SQL("{} = null").format(c) for c in columns)
        statement = sql.SQL("update {} set {} where ").format(target, emptied) + where
    if dry_run:
        cursor.execute(
            sql.SQL("select count(*) from {} where ").format(target) + where, {"cutoff": cutoff}
        )
        return int(cursor.fetchone()[0])
    cursor.execute(statement, {"cutoff": cutoff})
    return cursor.rowcount


def _older(path: Path, cutoff: datetime) -> bool:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff


def _purge_folder(root: Path, action: str, cutoff: datetime, dry_run: bool) -> int:
    if not root.is_dir():
        return 0
    if action == "delete log lines":
        # Regular files only: a log may be a link to a device (tests point one at /dev/full).
        logs = sorted(path for path in root.glob("*.jsonl") if path.is_file())
        return sum(_trim_log(path, cutoff, dry_run) for path in logs)
    if action == "delete files":
        victims = [p for p in root.rglob("*") if p.is_file() and _older(p, cutoff)]
    elif action == "delete load packages":
        victims = [p for p in root.glob("*/load/loaded/*") if p.is_dir() and _older(p, cutoff)]
    else:  # delete run pages
        victims = [
            p
            for p in root.iterdir()
            if p.is_dir() and p.name not in KEPT_REPORT_FOLDERS and _older(p, cutoff)
        ]
    if not dry_run:
        for path in victims:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    return len(victims)


def _trim_log(path: Path, cutoff: datetime, dry_run: bool) -> int:
    """Drop the lines older than the cutoff, in place: a process appending to the file
    (O_APPEND) goes on writing at its new end. A line without a readable time stays."""
    with path.open("r+", encoding="utf-8") as handle:
        lines = handle.readlines()
        kept = [line for line in lines if not _line_older(line, cutoff)]
        if not dry_run and len(kept) < len(lines):
            handle.seek(0)
            handle.writelines(kept)
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
    return len(lines) - len(kept)


def _line_older(line: str, cutoff: datetime) -> bool:
    try:
        stamp = datetime.fromisoformat(json.loads(line)["ts"].replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    return stamp < cutoff
