"""Search the warehouse, a plain dump of it and folders for clear personal data.

    .venv/bin/python scripts/security/scan_for_pii.py --values-file staff.txt \\
        [--path reports --path var/dlt] [--written] [--dump] [--database NAME]
    .venv/bin/python scripts/security/scan_for_pii.py --demo --path reports --dump
    .venv/bin/python scripts/security/scan_for_pii.py --patterns --dump --path var/dlt

`--values-file`: one name, e-mail or badge number a line (e.g. the staff list from HR;
keep it out of the repository). `--demo`: the demo park's people. Every text column of
every table and view is searched (as the administrator: WINDFARM_ADMIN_USER), case and
accents ignored. `--patterns`: also anything shaped like an e-mail address or a formatted
phone number (`+33 6 12 34 56 78`, `06.12.34.56.78`) in the dump and the paths, for the
people no list names (a hostile export can bring anyone's). Exit codes: 0 nothing found,
1 found (listed), 2 could not run.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from loaders import warehouse
from loaders.privacy import leakscan
from loaders.settings import load_settings

# Shapes of personal data that need no list: e-mail addresses, phone numbers written with
# an international prefix or as French pairs of digits (a bare run of digits is too often
# a measure or an id to be told apart).
PATTERNS = {
    # Bounded repeats (RFC 5321 lengths): with `+`, a long run of word characters without an
    # `@` (a token column, a Parquet file) made the search quadratic, minutes on one dump.
    "e-mail address": re.compile(
        r"[\w.%+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[a-z]{2,24}", re.IGNORECASE
    ),
    "phone number": re.compile(
        r"(?<![\w.+])(?:\+\d{2,3}[ .-]?\d(?:[ .-]?\d{2}){4}|0\d(?:[ .-]\d{2}){4})(?![\w.])"
    ),
}


def scan_patterns(paths: list[Path]) -> list[leakscan.Finding]:
    """Every match of PATTERNS in the files under the paths (as leakscan reads them)."""
    findings = []
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            text = leakscan._file_text(path)
            for label, pattern in PATTERNS.items():
                for found in sorted(set(pattern.findall(text)))[:20]:
                    findings.append(leakscan.Finding(str(path), f"{label} {found}"))
    return findings


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
    parser.add_argument(
        "--patterns", action="store_true", help="also e-mail addresses and phone numbers"
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.database:
        settings = replace(settings, database=args.database)
    try:
        values = _values(args)
        if not values and not args.patterns:
            parser.error("give --values-file, --demo or --patterns")
        if args.written:
            args.path += [Path(settings.reports_dir), Path(settings.dlt_dir)]
            args.path += [Path(settings.log_dir)] if settings.log_dir else []
            args.path = [path for path in args.path if path.exists()]
        findings = leakscan.scan_database(settings, values) if values else []
        findings += leakscan.scan_paths(args.path, values) if values else []
        findings += scan_patterns(args.path) if args.patterns else []
        if args.dump:
            with tempfile.TemporaryDirectory() as folder:
                dump = leakscan.plain_dump(settings, Path(folder) / "dump.sql")
                in_dump = leakscan.scan_paths([dump], values) if values else []
                in_dump += scan_patterns([dump]) if args.patterns else []
                findings += [
                    replace(finding, where=f"pg_dump {settings.database}") for finding in in_dump
                ]
    except (OSError, ValueError, RuntimeError, warehouse.WarehouseError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    searched = f"{len(values)} value(s)" + (" and patterns" if args.patterns else "")
    searched += f" in database {settings.database}"
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
