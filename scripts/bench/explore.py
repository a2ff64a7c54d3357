"""How fast each explorer view answers: the queries a view runs (loaders/explore/queries.py,
the same functions), timed against the configured warehouse, coldest first then warm.

    .venv/bin/python -m scripts.bench.explore [--database windfarm_bench] [--repeat 3]

Meant for the bench fleet (`make bench`: 100 turbines x 1 year) as well as the demo; it
prints one line per view (its slowest of the warm runs), and writes nothing. The app adds
Streamlit's cache on top: a view shown again with the same choices does not query at all.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from datetime import time as clock

from loaders.explore import queries
from loaders.settings import Settings, load_settings


def views(settings: Settings) -> dict[str, Callable[[], object]]:
    """Each view's queries with the defaults the app opens with: the whole span for the
    fleet, power curve and ML mart; the last 7 days for the turbine view."""
    span = queries.data_span(settings)
    if span is None:
        raise SystemExit(f"{settings.database} has no measurements: run make demo or make bench")
    first_day, last_day = span
    first = datetime.combine(first_day, clock.min, UTC)
    last = datetime.combine(last_day + timedelta(days=1), clock.min, UTC)
    week = last - timedelta(days=7)
    turbine = str(queries.turbines(settings)["turbine_id"].iloc[0])
    return {
        "fleet": lambda: (
            queries.fleet_days(settings, first_day, last_day),
            queries.availability_days(settings, first_day, last_day),
        ),
        "turbine (7 days, 10 min)": lambda: (
            queries.signals(settings, turbine, week, last),
            queries.events(settings, turbine, week, last),
            queries.failure_labels(settings, turbine, week, last),
        ),
        "turbine (whole span)": lambda: queries.signals(settings, turbine, first, last),
        "power curve (whole span)": lambda: queries.power_curve(settings, turbine, first, last),
        "ML mart (whole span)": lambda: queries.ml_features(settings, turbine, first, last),
        "ingestion": lambda: (queries.runs(settings), queries.source_rows(settings)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="warehouse database (default: the settings')")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per view")
    args = parser.parse_args()
    settings = load_settings()
    if args.database:
        settings = replace(settings, database=args.database)
    print(f"explorer views on {settings.database} ({settings.pghost}:{settings.pgport})")
    for name, run in views(settings).items():
        started = time.perf_counter()
        run()
        cold = time.perf_counter() - started
        warm = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            run()
            warm.append(time.perf_counter() - started)
        print(f"  {name:28s} first {cold:6.2f} s   then at most {max(warm):6.2f} s")


if __name__ == "__main__":
    main()
