"""Prove that the live database grants exactly what scripts/bootstrap/privileges.csv says.

    .venv/bin/python scripts/security/check_grants.py [--database NAME] [--role quality_reader]
    .venv/bin/python scripts/security/check_grants.py --sql   # what bootstrap grants

Connects with the project's settings (WINDFARM_* / .dlt/*.toml) as `--role` (default the
quality reader: the catalogs are public, an auditor needs no privilege on the data) and
prints one line per difference. Exit codes: 0 the database matches the matrix, 1 drift
(each difference printed), 2 the check could not run (connection, unreadable matrix).
`python -m loaders bootstrap` repairs drifted grants; ownership drift needs a person.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from loaders import warehouse
from loaders.settings import load_settings
from loaders.warehouse import grants

EXIT_CLEAN, EXIT_DRIFT, EXIT_ERROR = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="the warehouse database (default: the settings')")
    parser.add_argument(
        "--role",
        default="quality_reader",
        choices=["admin", "loader", "transformer", "analyst", "quality_reader"],
        help="which configured role connects (default: quality_reader)",
    )
    parser.add_argument("--matrix", type=Path, default=grants.MATRIX_FILE)
    parser.add_argument(
        "--sql",
        action="store_true",
        help="print the statements bootstrap generates from the matrix, then stop",
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.database:
        settings = replace(settings, database=args.database)
    try:
        matrix = grants.load_matrix(args.matrix)
        connection = warehouse.connect(settings, args.role)
    except (OSError, grants.MatrixError, warehouse.WarehouseError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    try:
        if args.sql:
            statements = [
                *grants.reset_statements(matrix, settings.database),
                *grants.grant_statements(matrix, settings.database),
            ]
            print("\n".join(f"{statement.as_string(connection)};" for statement in statements))
            return EXIT_CLEAN
        drift = grants.find_drift(connection, matrix)
    finally:
        connection.close()
    where = f"database {settings.database} on {settings.pghost}:{settings.pgport}"
    if not drift:
        print(f"OK: {where} matches {args.matrix.name}")
        return EXIT_CLEAN
    print(f"DRIFT: {where} differs from {args.matrix.name} in {len(drift)} place(s):")
    for line in drift:
        print(f"  - {line}")
    return EXIT_DRIFT


if __name__ == "__main__":
    sys.exit(main())
