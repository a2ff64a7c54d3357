"""The privacy and evidence commands of `python -m loaders` (docs/gdpr.md has the
procedures): audit-verify, audit-archive, purge, lookup, access-request, erase, object,
restrict, migrate-tokens (`erase` is scripts/security/erase_person.py's erasure too).

A person is named by `--identifier` (repeat it: name, e-mail, badge) or, to keep names
out of the shell's history, `--identifiers-file` (one a line). Exit codes: 0 done,
1 done but something is left for a person to do (printed), 2 the request could not run.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from pathlib import Path

from loaders import logs
from loaders.privacy import erasure, retention, rights, token_migration
from loaders.privacy.pseudonymise import MissingKeyError
from loaders.run import audit_archive, audit_chain
from loaders.settings import Settings

EXIT_DONE, EXIT_LEFT, EXIT_REFUSED = 0, 1, 2


def _identifiers(args: argparse.Namespace) -> list[str]:
    values = list(args.identifier or [])
    if args.identifiers_file:
        lines = args.identifiers_file.read_text(encoding="utf-8").splitlines()
        values += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return values


def _print(lines: list[str]) -> None:
    for line in lines:
        logs.output(line)


def audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    """The chain in the database and, with --archive, the archived part in its files."""
    report = audit_chain.verify(settings, role=args.role)
    _print(report.lines())
    ok = report.ok
    if args.archive:
        archives = audit_chain.verify_archives(settings, args.archive, role=args.role)
        _print(archives.lines())
        ok = ok and archives.ok
    return EXIT_DONE if ok else EXIT_LEFT


def audit_archive_command(settings: Settings, args: argparse.Namespace) -> int:
    """The administrator's archival of the trail's oldest part (loaders/run/audit_archive.py)."""
    result = audit_archive.archive(settings, args.before, args.to, reference=args.reference)
    _print(result.lines())
    return EXIT_DONE


def purge(settings: Settings, args: argparse.Namespace) -> int:
    report = retention.purge(settings, reference=args.reference, dry_run=args.dry_run)
    _print(report.lines())
    return EXIT_LEFT if report.errors else EXIT_DONE


def lookup(settings: Settings, args: argparse.Namespace) -> int:
    tokens = rights.lookup(settings, _identifiers(args), reference=args.reference)
    _print([f"lookup {args.reference} (journalled): {len(tokens)} token(s)", *tokens])
    return EXIT_DONE


def access_request(settings: Settings, args: argparse.Namespace) -> int:
    export = rights.access_export(
        settings, _identifiers(args), reference=args.reference, output=args.output
    )
    _print(export.lines())
    return EXIT_DONE


def objection(settings: Settings, args: argparse.Namespace) -> int:
    """An upheld objection: no new processing (suppression), then the link erased in what
    is already loaded, as an erasure does."""
    identifiers = _identifiers(args)
    added = rights.suppress(settings, identifiers, reference=args.reference, kind="objection")
    report = erasure.erase(settings, identifiers, reference=args.reference)
    _print(
        [f"objection {args.reference}: {added} token(s) suppressed from now on", *report.lines()]
    )
    left = report.remaining or report.source_files or report.pending_package_files
    return EXIT_LEFT if left else EXIT_DONE


def erase(settings: Settings, args: argparse.Namespace) -> int:
    """Erasure (art. 17), as scripts/security/erase_person.py does it."""
    report = erasure.erase(
        settings, _identifiers(args), reference=args.reference, dry_run=args.dry_run
    )
    _print(report.lines())
    left = report.remaining or report.source_files or report.pending_package_files
    return EXIT_LEFT if left else EXIT_DONE


def restriction(settings: Settings, args: argparse.Namespace) -> int:
    identifiers = _identifiers(args)
    if args.lift:
        removed = rights.lift(settings, identifiers, reference=args.reference)
        _print([f"restriction lifted {args.reference}: {removed} token(s) processed again"])
    else:
        added = rights.suppress(settings, identifiers, reference=args.reference, kind="restriction")
        _print(
            [
                f"restriction {args.reference}: {added} token(s) no longer loaded; what is "
                "already held is kept, unprocessed (art. 18)"
            ]
        )
    return EXIT_DONE


def migrate_tokens(settings: Settings, args: argparse.Namespace) -> int:
    changed = token_migration.migrate(
        settings, _identifiers(args), reference=args.reference, dry_run=args.dry_run
    )
    verb = "would change" if args.dry_run else "changed"
    lines = [f"token migration {args.reference}: {verb} {sum(changed.values())} value(s)"]
    _print(lines + [f"  {column}: {rows}" for column, rows in changed.items()])
    return EXIT_DONE


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "audit-verify": audit_verify,
    "audit-archive": audit_archive_command,
    "purge": purge,
    "lookup": lookup,
    "access-request": access_request,
    "erase": erase,
    "object": objection,
    "restrict": restriction,
    "migrate-tokens": migrate_tokens,
}
REFUSALS = (ValueError, MissingKeyError, OSError)


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        return COMMANDS[args.command](settings, args)
    except REFUSALS as error:
        logs.event(args.command, f"refused: {error}", level="error", stream="stderr")
        return EXIT_REFUSED


def add_commands(
    commands: argparse._SubParsersAction, logging_options: argparse.ArgumentParser
) -> None:
    person = argparse.ArgumentParser(add_help=False)
    person.add_argument("--reference", required=True, help="the request's ticket or letter")
    person.add_argument("--identifier", action="append", help="name, e-mail or badge (repeat)")
    person.add_argument("--identifiers-file", type=Path, help="one identifier a line")
    common = [logging_options]

    verify = commands.add_parser(
        "audit-verify", parents=common, help="recompute the audit trail's hash chain"
    )
    verify.add_argument(
        "--role",
        default="quality_reader",
        choices=["quality_reader", "transformer", "admin"],
        help="who connects (default: the auditors' read-only role)",
    )
    verify.add_argument(
        "--archive",
        action="append",
        type=Path,
        help="also recompute an archive file of audit-archive (repeat, oldest first)",
    )
    archive = commands.add_parser(
        "audit-archive",
        parents=common,
        help="administrator: move the audit trail's links before a date to a file",
    )
    archive.add_argument(
        "--before",
        type=date.fromisoformat,
        required=True,
        help="YYYY-MM-DD: links made before this day (UTC) are archived",
    )
    archive.add_argument("--to", type=Path, required=True, help="the archive to write (.jsonl.gz)")
    archive.add_argument("--reference", required=True, help="the DPO's decision or ticket")
    purge_command = commands.add_parser(
        "purge", parents=common, help="apply the retention periods now (the daily run does too)"
    )
    purge_command.add_argument("--reference", default="manual", help="journalled")
    purge_command.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    commands.add_parser(
        "lookup", parents=[*common, person], help="a person's tokens, the look-up journalled"
    )
    access = commands.add_parser(
        "access-request",
        parents=[*common, person],
        help="export everything held on a person to a file for the DPO (art. 15)",
    )
    access.add_argument("--output", type=Path, required=True, help="the JSON file to write")
    erase_command = commands.add_parser(
        "erase",
        parents=[*common, person],
        help="erasure (art. 17): the person's tokens emptied in raw, copies removed",
    )
    erase_command.add_argument("--dry-run", action="store_true", help="count, change nothing")
    commands.add_parser(
        "object",
        parents=[*common, person],
        help="an upheld objection (art. 21): no new processing, the link erased",
    )
    restrict = commands.add_parser(
        "restrict",
        parents=[*common, person],
        help="restriction (art. 18): no new processing, the data kept; --lift ends it",
    )
    restrict.add_argument("--lift", action="store_true", help="end the restriction")
    migrate = commands.add_parser(
        "migrate-tokens",
        parents=[*common, person],
        help="once, after the upgrade that folds accents: old tokens -> new (staff list)",
    )
    migrate.add_argument("--dry-run", action="store_true", help="count, change nothing")
