"""Command line: `python -m loaders <command>` (`--help` lists them), or `windfarm-elt`.

`run` is what cron calls: one day (default yesterday, UTC), or a range loaded day by day
and resumable. Exit codes: 0 success, 2 partial (a source failed, the others loaded),
1 failed, 3 refused (another run holds the lock), 64 usage error (a wrong option or
date: nothing was done), 78 configuration error (a setting that cannot be used: nothing
was done). docs/operations.md has the procedure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg2

from loaders import logs, park_config, warehouse
from loaders.onboarding.sensor_db import InspectError
from loaders.privacy import commands as privacy_commands
from loaders.privacy.pseudonymise import MissingKeyError
from loaders.run import alerts, pipeline, runlock, scheduling
from loaders.settings import DEMO_DIR, PROJECT_ROOT, SettingError, Settings, load_settings

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # the shell's 128 + SIGINT / SIGTERM
# sysexits.h: argparse's own 2 would read as "partial" to cron and to the alert hook.
EXIT_USAGE, EXIT_CONFIG = 64, 78


class UsageError(ValueError):
    """Options that cannot be run as given; nothing was done."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits EXIT_USAGE (argparse exits 2, which is partial)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class Terminated(KeyboardInterrupt):
    """SIGTERM (systemd stopping the unit, `kill`): unwinds like Ctrl-C, so that the run
    closes its audit row and stops dbt before the process ends."""


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def _date_range(args: argparse.Namespace) -> tuple[date, date]:
    if args.date and (args.date_from or args.date_to):
        raise UsageError("use --date or --from/--to, not both")
    if args.date:
        return args.date, args.date
    date_from = args.date_from or args.date_to or yesterday()
    date_to = args.date_to or args.date_from or yesterday()
    if date_to < date_from:
        raise UsageError(f"--to {date_to} is before --from {date_from}")
    return date_from, date_to


def ensure_demo_key(root: Path = PROJECT_ROOT) -> None:
    """The demo needs a pseudonymisation key: one in a file of its own (git-ignored, 0600),
    never beside the database passwords. A key an earlier version wrote to
    .dlt/secrets.toml is moved there, so the demo's tokens do not change."""
    settings = load_settings(root)
    if settings.pseudonym_key or settings.pseudonym_key_command:
        return
    key_file = Path(settings.pseudonym_key_file)
    if key_file.is_file():
        return
    key = _take_key_from_secrets_toml(root / ".dlt" / "secrets.toml") or secrets.token_hex(32)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    logs.event("demo", f"pseudonymisation key in {key_file} (its own file; never commit it)")


def _take_key_from_secrets_toml(secrets_file: Path) -> str:
    """The demo key an earlier version kept in secrets.toml, its line removed; or ''."""
    if not secrets_file.is_file():
        return ""
    lines = secrets_file.read_text(encoding="utf-8").splitlines(keepends=True)
    found = [line for line in lines if line.split("=", 1)[0].strip() == "pseudonym_key"]
    if not found:
        return ""
    key = found[0].split("=", 1)[1].strip().strip("\"'")
    secrets_file.write_text("".join(line for line in lines if line not in found), "utf-8")
    return key


def command_bootstrap(settings: Settings) -> int:
    warehouse.bootstrap(settings)
    logs.event(
        "bootstrap", f"database {settings.database} on {settings.pghost}:{settings.pgport} ready"
    )
    return 0


def command_run(settings: Settings, args: argparse.Namespace) -> int:
    """A day (`--date`, default yesterday) always runs; a range (`--from/--to`) is a
    backfill: day by day, days already loaded successfully skipped unless `--force`."""
    date_from, date_to = _date_range(args)
    outcome: pipeline.RunOutcome | scheduling.BackfillOutcome
    if args.date_from or args.date_to:
        outcome = scheduling.backfill(
            settings, date_from, date_to, force=args.force, build=not args.no_dbt
        )
    else:
        outcome = pipeline.run(settings, date_from, date_to, build=not args.no_dbt)
    alerts.send(settings, outcome.summary())
    return outcome.exit_code


def command_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    if not args.full and args.date_from is None:
        raise UsageError("rebuild needs --from DAY (or --full)")
    outcome = scheduling.rebuild(
        settings, args.date_from, args.date_to, full=args.full, select=args.select
    )
    alerts.send(settings, outcome.summary())
    return outcome.exit_code


def command_status(settings: Settings, args: argparse.Namespace) -> int:
    """Whether a run is in progress, the state of each recent day, the recent runs.
    With `--check`, exit 1 when a day of the window is not loaded successfully."""
    last = args.to or yesterday()
    days = scheduling.days_between(last - timedelta(days=max(1, args.days) - 1), last)
    states = scheduling.day_states(settings, days)
    holder = runlock.current_holder(settings)
    runs = scheduling.recent_runs(settings, args.limit)
    missing = [day for day in days if not states[day].done]
    if args.json:
        logs.output(
            json.dumps(
                {
                    "database": settings.database,
                    "running": holder.describe() if holder else None,
                    "days": {
                        f"{d}": {"status": s.status, "run_id": s.run_id} for d, s in states.items()
                    },
                    "days_not_loaded": [f"{day}" for day in missing],
                    "runs": runs,
                },
                default=str,
            )
        )
    else:
        _print_status(settings, holder, [states[day] for day in reversed(days)], runs)
    return 1 if (args.check and missing) else 0


def _print_status(
    settings: Settings,
    holder: runlock.Holder | None,
    states: list[scheduling.DayState],
    runs: list[dict[str, Any]],
) -> None:
    out = logs.output
    out(f"Warehouse {settings.database} on {settings.pghost}:{settings.pgport}")
    out(f"Now:  {'run in progress: ' + holder.describe() if holder else 'no run in progress'}")
    out("Days (UTC), the latest run that loaded each:")
    for state in states:
        errors = "; ".join(f"{k}: {v}" for k, v in state.errors.items() if k != "dbt")[:120]
        out(
            f"  {state.day}  {state.status or '-':<8} {state.run_id or 'never loaded'}"
            + (f"  {errors}" if errors and not state.done else "")
        )
    out("Recent runs:")
    if not runs:
        out("  no runs recorded yet")
    for row in runs:
        started, ended = row["started_at"], row["ended_at"]
        took = f"{(ended - started).total_seconds():.0f}s" if ended else "-"
        failed = ", ".join(row["errors"]) if row["errors"] else ""
        out(
            f"  {row['run_id']:<31} {started:%Y-%m-%d %H:%M}  {took:>6}  {row['status']:<8} "
            f"dbt={row['dbt_status'] or '-':<8} {row['date_from']}..{row['date_to']}  "
            f"{row['code_version']}  {failed}"
        )


def command_inspect(settings: Settings, args: argparse.Namespace) -> int:
    """Profile a source, propose a mapping, dry-run its loader: nothing is written."""
    from loaders import onboarding

    if args.source == "csv" and args.file is None:
        raise SystemExit("inspect --source csv needs the FILE to inspect")
    if args.source == "sensor_db":
        report = onboarding.inspect_sensor_db(settings, args.date_from, args.date_to)
    elif args.source == "csv":
        report = onboarding.inspect_csv(settings, Path(args.file))
    else:
        report = onboarding.inspect_weather(settings, args.date_from)
    shown = json.dumps(report, default=str, indent=1) if args.json else onboarding.render(report)
    logs.output(shown)
    return onboarding.exit_code(report)


def command_demo(args: argparse.Namespace) -> int:
    from loaders.demo_park import generate, serve_in_background
    from loaders.demo_park.park import DEMO_END, DEMO_START

    ensure_demo_key()
    settings = load_settings()
    if "WINDFARM_REPORT_LANGUAGE" not in os.environ:  # the demo park is EnergiTech's
        settings = replace(settings, report_language="fr")
    explicit = any(f"WINDFARM_{name}" in os.environ for name in ("PGHOST", "PGPORT"))
    settings = warehouse.find_server(settings, explicit=explicit)
    warehouse.bootstrap(settings)
    logs.event(
        "demo", f"warehouse {settings.database} ready on {settings.pghost}:{settings.pgport}"
    )
    park = generate(DEMO_DIR, DEMO_START, DEMO_END, seed=args.seed)
    logs.event("demo", f"demo park written under {DEMO_DIR}")
    with serve_in_background(DEMO_DIR / "weather") as server:
        settings = replace(settings, weather_base_url=server.base_url)
        outcome = pipeline.run(settings, DEMO_START, DEMO_END)
    _print_where(settings, outcome, park)
    return outcome.exit_code


def command_stop() -> int:
    """Stop the private cluster `demo` started (var/postgres); `demo` starts it again."""
    settings = load_settings()
    try:
        stopped = warehouse.stop_local_cluster(settings)
    except warehouse.WarehouseError as error:
        print(f"[warehouse] {error}")
        return 1
    state = "stopped" if stopped else "not running"
    print(f"[warehouse] private cluster in {settings.local_cluster_dir}: {state}")
    return 0


def _print_where(settings: Settings, outcome: pipeline.RunOutcome, park: object) -> None:
    connection = f"psql -h {settings.pghost} -p {settings.pgport} -d {settings.database}"
    logs.output(
        f"""
Run {outcome.run_id}: {outcome.status} (dbt: {outcome.dbt.status})
Database  {settings.database} on {settings.pghost}:{settings.pgport}
          raw (landed sources), staging, intermediate, core (star schema), ml, quality, audit
Report    {outcome.report_path or "(not written)"}
          latest: {Path(settings.reports_dir) / "latest" / "index.html"}
Query it  {connection} -U {settings.analyst_user} \\
            -c "select turbine_id, count(*) from core.fct_turbine_measurements group by 1"
Runs      .venv/bin/python -m loaders status"""  # noqa: S608 - text for people, not a query
    )
    if settings.pgport != 5432 or settings.pghost != "127.0.0.1":
        logs.output(
            f"Server    export WINDFARM_PGHOST={settings.pghost} WINDFARM_PGPORT={settings.pgport} "
            "to use this server with the other commands"
        )


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """SIGTERM raises Terminated in the main thread for the command's duration (dlt replaces
    the handler during its own steps with one that does the same at its checkpoints)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated(f"signal {signal.Signals(signum).name}")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _failure_summary(
    args: argparse.Namespace, status: str, code: int, error: BaseException
) -> dict[str, Any]:
    """The alert for a run that never produced an outcome (refused, no database, killed)."""
    date_from = getattr(args, "date", None) or getattr(args, "date_from", None)
    date_to = getattr(args, "date", None) or getattr(args, "date_to", None)
    if args.command == "run" and date_from is None and date_to is None:
        date_from = date_to = yesterday()
    return {
        "run_id": logs.current_run(),
        "kind": args.command,
        "status": status,
        "exit_code": code,
        "date_from": date_from or date_to,
        "date_to": date_to or date_from,
        "errors": {"run": str(error)},
    }


def _dispatch(settings: Settings, args: argparse.Namespace) -> int:
    alerting = args.command in ("run", "rebuild")
    try:
        if args.command == "bootstrap":
            return command_bootstrap(settings)
        if args.command in privacy_commands.COMMANDS:
            return privacy_commands.run(settings, args)
        if args.command == "run":
            return command_run(settings, args)
        if args.command == "rebuild":
            return command_rebuild(settings, args)
        if args.command == "inspect":
            return command_inspect(settings, args)
        return command_status(settings, args)
    except runlock.RunLockedError as error:
        logs.event("run", f"refused: {error}", level="error", stream="stderr")
        if alerting:
            alerts.send(settings, _failure_summary(args, "locked", pipeline.EXIT_LOCKED, error))
        return pipeline.EXIT_LOCKED
    except (
        warehouse.WarehouseError,
        MissingKeyError,
        park_config.ParkConfigError,
        InspectError,
    ) as error:
        logs.event(args.command, f"error: {error}", level="error", stream="stderr")
        if alerting:
            alerts.send(settings, _failure_summary(args, "failed", pipeline.EXIT_FAILED, error))
        return pipeline.EXIT_FAILED
    except KeyboardInterrupt as error:
        terminated = isinstance(error, Terminated) or (
            getattr(error, "signal_code", None) == signal.SIGTERM
        )
        logs.event(args.command, f"interrupted: {error}", level="error", stream="stderr")
        if alerting:
            alerts.send(settings, _failure_summary(args, "failed", pipeline.EXIT_FAILED, error))
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m loaders", description=__doc__)
    logging_options = _Parser(add_help=False)
    logging_options.add_argument(
        "--log-json",
        action="store_true",
        help="JSON lines on stdout instead of text (also: WINDFARM_LOG_FORMAT=json)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="generate the demo park and run the whole month")
    demo.add_argument("--seed", type=int, default=42)
    commands.add_parser("stop", help="stop the private PostgreSQL cluster that demo started")
    commands.add_parser(
        "bootstrap",
        parents=[logging_options],
        help="create or update database, roles, schemas, grants",
    )
    run = commands.add_parser(
        "run", parents=[logging_options], help="run the pipeline for a day or a date range"
    )
    run.add_argument("--date", type=_day, help="one UTC day (default: yesterday)")
    run.add_argument("--from", dest="date_from", type=_day, help="first day of a backfill")
    run.add_argument("--to", dest="date_to", type=_day, help="last day of a backfill (inclusive)")
    run.add_argument(
        "--force", action="store_true", help="backfill: reload days already loaded successfully"
    )
    run.add_argument(
        "--no-dbt",
        action="store_true",
        help="load only; the next run or `rebuild` models the data",
    )
    rebuild = commands.add_parser(
        "rebuild",
        parents=[logging_options],
        help="dbt only: rebuild the models from a day on (or --full), sources untouched",
    )
    rebuild.add_argument("--from", dest="date_from", type=_day, help="first day to rebuild")
    rebuild.add_argument(
        "--to", dest="date_to", type=_day, help="last day (recorded; default: the newest)"
    )
    rebuild.add_argument("--full", action="store_true", help="dbt build --full-refresh")
    rebuild.add_argument(
        "--select", help="only these models (dbt --select syntax, e.g. fct_turbine_measurements+)"
    )
    commands.add_parser(
        "install-elementary",
        help="dbt deps for Elementary's packages when the dbt hub answers (make install)",
    )
    status = commands.add_parser(
        "status", parents=[logging_options], help="runs in progress, recent days, recent runs"
    )
    status.add_argument("--limit", type=int, default=10, help="recent runs shown")
    status.add_argument("--days", type=int, default=7, help="days shown, ending --to")
    status.add_argument("--to", type=_day, help="last day shown (default: yesterday, UTC)")
    status.add_argument("--json", action="store_true", help="one JSON document")
    status.add_argument(
        "--check", action="store_true", help="exit 1 if a day shown is not loaded successfully"
    )
    explore = commands.add_parser(
        "explore", help="the warehouse explorer in the browser (Streamlit, on localhost)"
    )
    explore.add_argument("--port", type=int, default=8501, help="local port (default 8501)")
    privacy_commands.add_commands(commands, logging_options)
    inspect = commands.add_parser(
        "inspect",
        parents=[logging_options],
        help="before a first load: profile a source, propose a mapping, dry-run (writes nothing)",
    )
    inspect.add_argument("--source", choices=("sensor_db", "csv", "weather"), required=True)
    inspect.add_argument("file", nargs="?", help="--source csv: the export file to inspect")
    inspect.add_argument(
        "--from",
        dest="date_from",
        type=_day,
        help="sensor_db: first day (default: all); weather: the day",
    )
    inspect.add_argument("--to", dest="date_to", type=_day, help="sensor_db: last day")
    inspect.add_argument("--json", action="store_true", help="one JSON document")
    catalogue = commands.add_parser(
        "alarm-catalogue",
        help="write a park's reference/alarm_codes.csv from a maker's alarm catalogue, "
        "as its alarm_catalogue.yaml says",
    )
    catalogue.add_argument("file", help="the maker's catalogue (CSV or JSON)")
    catalogue.add_argument(
        "--park", help="the park's configuration folder (default: the park_config setting)"
    )
    catalogue.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if alarm_codes.csv is not what the catalogue gives",
    )
    return parser


def command_alarm_catalogue(args: argparse.Namespace, settings: Settings) -> int:
    """The generated alarm_codes.csv written (or, with --check, compared)."""
    from loaders.onboarding import alarm_catalogue

    park = Path(args.park) if args.park else settings.park_folder
    try:
        target, same = alarm_catalogue.write(Path(args.file), park, check=args.check)
    except park_config.ParkConfigError as error:
        print(f"python -m loaders alarm-catalogue: {error}", file=sys.stderr)
        return 2
    if args.check:
        print(f"{target}: {'up to date' if same else 'differs from what the catalogue gives'}")
        return 0 if same else 1
    print(f"{target}: {'unchanged' if same else 'written'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            return command_demo(args)
        if args.command == "stop":
            return command_stop()
        settings = load_settings()
    except SettingError as error:
        print(f"python -m loaders: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "explore":
        from loaders.explore import launch  # Streamlit is imported only for this command

        return launch(settings, args.port)
    if args.command == "alarm-catalogue":
        return command_alarm_catalogue(args, settings)
    if args.command == "install-elementary":
        from loaders.reports import elementary

        return 0 if elementary.install(settings) != "failed" else 1
    json_stdout = args.log_json or settings.log_format.strip().lower() == "json"
    with logs.capture(
        settings,
        json_stdout=json_stdout,
        command=args.command,
        stdout_is_data=getattr(args, "json", False),
    ):
        with _sigterm_unwinds():
            try:
                return _dispatch(settings, args)
            except UsageError as error:
                logs.event(args.command, f"usage error: {error}", level="error", stream="stderr")
                return EXIT_USAGE
            except psycopg2.ProgrammingError as error:  # libpq cannot parse the settings
                logs.event(
                    args.command,
                    "configuration error: the PostgreSQL connection settings (WINDFARM_PGHOST, "
                    "WINDFARM_PGPORT, WINDFARM_DATABASE, WINDFARM_PGSSLMODE, the role names) "
                    f"do not make a connection string: {' '.join(str(error).split())}",
                    level="error",
                    stream="stderr",
                )
                return EXIT_CONFIG
