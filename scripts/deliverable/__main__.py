"""`python -m scripts.deliverable {build,check}`: the client's zip, made and checked.

build   writes dist/Projet_Collecte_Données_IA/ and its .zip from the live warehouse
        (WINDFARM_* settings). With --run-demo-if-empty, a warehouse without any finished
        run first gets the demo month (`python -m loaders demo`), so that one command works
        on a fresh machine; without it, an empty warehouse is an error.
check   checks a built zip against the client's list and renders the PDFs' pages to PNG.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from loaders import warehouse
from loaders.settings import PROJECT_ROOT, Settings, load_settings
from scripts.deliverable import check, layout, tools
from scripts.deliverable.build import BuildError, build
from scripts.deliverable.dashboard import DashboardError
from scripts.deliverable.documents import DocumentError
from scripts.deliverable.inserts import QueryError

DIST = PROJECT_ROOT / "dist"


def finished_runs(settings: Settings) -> int:
    """Finished pipeline runs in the warehouse; 0 when the database does not exist yet."""
    try:
        connection = warehouse.connect(settings, "admin")
    except warehouse.WarehouseError:
        return 0
    try:
        with connection.cursor() as cursor:
            cursor.execute("select to_regclass('audit.pipeline_runs') is not null")
            if not cursor.fetchone()[0]:
                return 0
            cursor.execute(
                "select count(*) from audit.pipeline_runs where status in ('success', 'partial')"
            )
            return int(cursor.fetchone()[0])
    finally:
        connection.close()


def warehouse_settings(run_demo: bool) -> Settings:
    settings = load_settings()
    explicit = any(f"WINDFARM_{name}" in os.environ for name in ("PGHOST", "PGPORT"))
    settings = warehouse.find_server(settings, explicit=explicit)
    if finished_runs(settings):
        return settings
    if not run_demo:
        raise BuildError(
            f"the warehouse {settings.database} on {settings.pghost}:{settings.pgport} has no "
            "finished run: run `make demo` first (or pass --run-demo-if-empty)"
        )
    print(f"[deliverable] {settings.database} has no finished run: running the demo month")
    completed = subprocess.run([sys.executable, "-m", "loaders", "demo"], check=False)
    if completed.returncode not in (0, 2):
        raise BuildError(f"`python -m loaders demo` failed (exit {completed.returncode})")
    return warehouse.find_server(load_settings(), explicit=explicit)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.deliverable",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="build the folder and the zip")
    build_parser.add_argument("--output", type=Path, default=DIST)
    build_parser.add_argument("--run-demo-if-empty", action="store_true")
    check_parser = commands.add_parser("check", help="check a built zip")
    check_parser.add_argument("zip", type=Path, nargs="?", default=DIST / f"{layout.ROOT}.zip")
    check_parser.add_argument(
        "--pages",
        type=Path,
        default=None,
        help="where the PDF pages are rendered (default: beside the zip)",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            settings = warehouse_settings(args.run_demo_if_empty)
            result = build(settings, args.output)
            for note in result.notes:
                print(f"[deliverable] note: {note}")
            return 0
        pages = args.pages or args.zip.parent / "pages"
        outcome = check.check(args.zip, pages)
        print(check.describe(outcome, args.zip, pages))
        return 0 if outcome.ok else 1
    except (
        BuildError,
        DashboardError,
        DocumentError,
        QueryError,
        tools.ToolError,
        warehouse.WarehouseError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
