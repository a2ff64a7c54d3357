"""The registry of personal-data columns, as declared in the dbt project (column `meta`).

    .venv/bin/python scripts/security/pii_registry.py [--manifest PATH] [--json]

A column holding personal data (or a pseudonym of it) carries, in its YAML,
`config: {meta: {contains_pii: true, pii_handling: pseudonymised}}`; dbt copies that
into target/manifest.json (`dbt parse` writes it, every `dbt build` refreshes it). This
prints one line per such column: relation, column, handling, the dbt node declaring it.
The privacy tests check the registry against the live database: every column that holds
a pseudonym is registered, and no mart (core, ml, quality) has one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MANIFEST = PROJECT_ROOT / "dbt_project" / "target" / "manifest.json"


def registry(manifest: dict) -> list[dict[str, str]]:
    """Every column flagged `contains_pii`, models and sources alike."""
    rows = []
    nodes = {**manifest.get("nodes", {}), **manifest.get("sources", {})}
    for unique_id, node in sorted(nodes.items()):
        relation = node.get("alias") or node.get("identifier") or node["name"]
        for column_name, column in sorted(node.get("columns", {}).items()):
            meta = {**column.get("meta", {}), **column.get("config", {}).get("meta", {})}
            if meta.get("contains_pii"):
                rows.append(
                    {
                        "relation": f"{node['schema']}.{relation}",
                        "column": column_name,
                        "handling": str(meta.get("pii_handling", "unspecified")),
                        "node": unique_id,
                    }
                )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    if not args.manifest.is_file():
        print(
            f"error: {args.manifest} does not exist: run `dbt parse --project-dir dbt_project "
            "--profiles-dir dbt_project` first",
            file=sys.stderr,
        )
        return 2
    rows = registry(json.loads(args.manifest.read_text(encoding="utf-8")))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(f"{row['relation']:<50} {row['column']:<30} {row['handling']:<15} {row['node']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
