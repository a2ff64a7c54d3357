"""Erase one person's data from the warehouse (GDPR art. 17): docs/gdpr.md, "Erasure".

    .venv/bin/python scripts/security/erase_person.py --reference DPO-2025-014 \\
        --identifier "Léa Fontaine" --identifier lea.fontaine@energitech.fr [--dry-run]

Give every identifier the sources may hold for the person (name as written, e-mail,
badge number). The key (WINDFARM_PSEUDONYM_KEY, plus WINDFARM_PSEUDONYM_PREVIOUS_KEYS
after a rotation) turns them into the tokens stored in raw; nothing clear is stored.
Prints what changed, what to rebuild and which source files still hold the person.
Exit codes: 0 erased and nothing left outside raw, 1 something is left for a person to
do (listed), 2 the erasure could not run.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from loaders import warehouse
from loaders.privacy import erasure
from loaders.privacy.pseudonymise import MissingKeyError
from loaders.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, help="the request's ticket or letter")
    parser.add_argument(
        "--identifier", action="append", required=True, help="name, e-mail or badge (repeat)"
    )
    parser.add_argument("--database", help="the warehouse database (default: the settings')")
    parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.database:
        settings = replace(settings, database=args.database)
    try:
        report = erasure.erase(
            settings, args.identifier, reference=args.reference, dry_run=args.dry_run
        )
    except (ValueError, MissingKeyError, warehouse.WarehouseError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    left = report.remaining or report.source_files or report.pending_package_files
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
