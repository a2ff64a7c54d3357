"""Search the warehouse, a plain dump of it and folders for clear personal data.

    .venv/bin/python scripts/security/scan_for_pii.py --values-file staff.txt \\
        [--path reports --path var/dlt] [--written] [--dump] [--database NAME]
    .venv/bin/python scripts/security/scan_for_pii.py --demo --path reports --dump

`--values-file`: one name, e-mail or badge number a line (e.g. the staff list from HR;
keep it out of the repository). `--demo`: the demo park's people. Every text column of
every table and view is searched (as the administrator: WINDFARM_ADMIN_USER), case and
accents ignored. Exit codes: 0 nothing found, 1 found (listed), 2 could not run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from loaders import warehouse
from loaders.privacy import leakscan
from loaders.settings import load_settings


def _values(args: argparse.Namespace) -> list[str]:
    values: list[str] = []
    if args.demo:
        from loaders.demo_park.simulator import PERSONAL_EMAILS, PERSONAL_NAMES

        values += [*PERSONAL_NAMES, *PERSONAL_EMAILS]
    if args.values_file:
        lines = args.values_file.read_text(encoding="utf-8").splitlines()
        values += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values-file", type=Path, help="one clear value a line")
    parser.add_argument("--demo", action="store_true", help="the demo park's people")
    parser.add_argument("--path", type=Path, action="append", default=[], help="folder or file")
    parser.add_argument("--dump", action="store_true", help="also search a plain pg_dump")
    parser.add_argument(
        "--written",
        action="store_true",
        help="also every folder the product writes: reports, logs, dlt's working copies",
    )
    parser.add_argument("--database", help="the warehouse database (default: the settings')")
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.database:
        settings = replace(settings, database=args.database)
    try:
        values = _values(args)
        if not values:
            parser.error("give --values-file or --demo")
        findings = leakscan.scan_database(settings, values)
        if args.written:
            args.path += [Path(settings.reports_dir), Path(settings.dlt_dir)]
            args.path += [Path(settings.log_dir)] if settings.log_dir else []
            args.path = [path for path in args.path if path.exists()]
        findings += leakscan.scan_paths(args.path, values)
        if args.dump:
            with tempfile.TemporaryDirectory() as folder:
                dump = leakscan.plain_dump(settings, Path(folder) / "dump.sql")
                findings += [
                    replace(finding, where=f"pg_dump {settings.database}")
                    for finding in leakscan.scan_paths([dump], values)
                ]
    except (OSError, ValueError, RuntimeError, warehouse.WarehouseError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    searched = f"{len(values)} value(s) in database {settings.database}"
    searched += f", {len(args.path)} path(s)" + (" and a plain dump" if args.dump else "")
    if not findings:
        print(f"OK: none of {searched}")
        return 0
    print(f"FOUND in {searched}:")
    for finding in findings:
        print(f"  - {finding.where}: {finding.needle}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
