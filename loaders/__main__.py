"""Command line: `python -m loaders {demo,bootstrap,run,status}`.

`run` is what cron calls: one day (default yesterday, UTC) or a range.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from loaders import audit, pipeline, warehouse
from loaders.settings import DEMO_DIR, PROJECT_ROOT, Settings, load_settings


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _date_range(args: argparse.Namespace) -> tuple[date, date]:
    if args.date and (args.date_from or args.date_to):
        raise SystemExit("use --date or --from/--to, not both")
    if args.date:
        return args.date, args.date
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    date_from = args.date_from or args.date_to or yesterday
    date_to = args.date_to or args.date_from or yesterday
    if date_to < date_from:
        raise SystemExit(f"--to {date_to} is before --from {date_from}")
    return date_from, date_to


def ensure_demo_key(root: Path = PROJECT_ROOT) -> None:
    """The demo needs a pseudonymisation key: create one in .dlt/secrets.toml (git-ignored)."""
    secrets_file = root / ".dlt" / "secrets.toml"
    if os.environ.get("WINDFARM_PSEUDONYM_KEY") or load_settings(root).pseudonym_key:
        return
    secrets_file.parent.mkdir(exist_ok=True)
    existing = secrets_file.read_text(encoding="utf-8") if secrets_file.exists() else ""
    if "[windfarm]" in existing:
        raise SystemExit(f"{secrets_file} has a [windfarm] section without pseudonym_key: add one")
    with secrets_file.open("a", encoding="utf-8") as handle:
        handle.write(f'\n[windfarm]\npseudonym_key = "{secrets.token_hex(32)}"\n')
    secrets_file.chmod(0o600)
    print(f"[demo] created a pseudonymisation key in {secrets_file} (never commit it)")


def command_bootstrap(settings: Settings) -> int:
    warehouse.bootstrap(settings)
    print(f"[bootstrap] database {settings.database} on {settings.pghost}:{settings.pgport} ready")
    return 0


def command_run(settings: Settings, args: argparse.Namespace) -> int:
    date_from, date_to = _date_range(args)
    outcome = pipeline.run(settings, date_from, date_to)
    return outcome.exit_code


def command_status(settings: Settings, args: argparse.Namespace) -> int:
    rows = audit.recent_runs(settings, args.limit)
    if not rows:
        print("no runs recorded yet")
    for run_id, started, ended, status, d_from, d_to, dbt_status, errors, version in rows:
        took = f"{(ended - started).total_seconds():.0f}s" if ended else "-"
        failed = ", ".join(errors) if errors else ""
        print(
            f"{run_id}  {started:%Y-%m-%d %H:%M}  {took:>6}  {status:<8} "
            f"dbt={dbt_status or '-':<8} {d_from}..{d_to}  {version}  {failed}"
        )
    return 0


def command_demo(args: argparse.Namespace) -> int:
    from loaders.demo_park import generate, serve_in_background
    from loaders.demo_park.park import DEMO_END, DEMO_START

    ensure_demo_key()
    settings = load_settings()
    explicit = any(f"WINDFARM_{name}" in os.environ for name in ("PGHOST", "PGPORT"))
    settings = warehouse.find_server(settings, explicit=explicit)
    warehouse.bootstrap(settings)
    print(f"[demo] warehouse {settings.database} ready on {settings.pghost}:{settings.pgport}")
    park = generate(DEMO_DIR, DEMO_START, DEMO_END, seed=args.seed)
    print(f"[demo] demo park written under {DEMO_DIR}")
    with serve_in_background(DEMO_DIR / "weather") as server:
        settings = replace(settings, weather_base_url=server.base_url)
        outcome = pipeline.run(settings, DEMO_START, DEMO_END)
    _print_where(settings, outcome, park)
    return outcome.exit_code


def _print_where(settings: Settings, outcome: pipeline.RunOutcome, park: object) -> None:
    connection = f"psql -h {settings.pghost} -p {settings.pgport} -d {settings.database}"
    print(
        f"""
Run {outcome.run_id}: {outcome.status} (dbt: {outcome.dbt.status})
Database  {settings.database} on {settings.pghost}:{settings.pgport}
          raw (landed sources), staging, intermediate, core (star schema), ml, quality, audit
Report    {outcome.report_path or "(not written)"}
          latest: {Path(settings.reports_dir) / "latest" / "index.html"}
Query it  {connection} -U {settings.analyst_user} \\
            -c "select turbine_id, count(*) from core.fct_turbine_measurements group by 1"
Runs      .venv/bin/python -m loaders status"""
    )
    if settings.pgport != 5432 or settings.pghost != "127.0.0.1":
        print(
            f"Server    export WINDFARM_PGHOST={settings.pghost} WINDFARM_PGPORT={settings.pgport} "
            "to use this server with the other commands"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loaders", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="generate the demo park and run the whole month")
    demo.add_argument("--seed", type=int, default=42)
    commands.add_parser("bootstrap", help="create or update database, roles, schemas, grants")
    run = commands.add_parser("run", help="run the pipeline for a day or a date range")
    run.add_argument("--date", type=_day, help="one UTC day (default: yesterday)")
    run.add_argument("--from", dest="date_from", type=_day, help="first day of a range")
    run.add_argument("--to", dest="date_to", type=_day, help="last day of a range (inclusive)")
    status = commands.add_parser("status", help="the most recent runs")
    status.add_argument("--limit", type=int, default=10)
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return command_demo(args)
        settings = load_settings()
        if args.command == "bootstrap":
            return command_bootstrap(settings)
        if args.command == "run":
            return command_run(settings, args)
        return command_status(settings, args)
    except warehouse.WarehouseError as error:
        print(f"error: {error}", file=sys.stderr)
        return pipeline.EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
