"""`python -m loaders.demo_park --out var/demo`: write the demo park's sources."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from loaders.demo_park import park
from loaders.demo_park.simulator import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the demo park's source files.")
    parser.add_argument("--out", type=Path, default=Path("var/demo"))
    parser.add_argument("--start", type=date.fromisoformat, default=park.DEMO_START)
    parser.add_argument("--end", type=date.fromisoformat, default=park.DEMO_END)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    result = generate(args.out, args.start, args.end, args.seed)
    print(
        f"sensor database  {result.sensor_db}  ({result.scada_rows} scada rows, "
        f"{result.alarm_rows} alarms)"
    )
    print(
        f"production CSV   {result.production_csv}  ({result.production_rows} rows, "
        f"{result.production_broken_rows} broken)"
    )
    print(
        f"maintenance CSV  {result.maintenance_csv}  ({result.maintenance_rows} rows, "
        f"{result.maintenance_broken_rows} broken)"
    )
    print(f"weather archive  {result.weather_json}  ({result.weather_hours} hours)")
    print(f"injected faults  {len(result.faults)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
