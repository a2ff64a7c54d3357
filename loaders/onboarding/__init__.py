"""The onboarding command, `python -m loaders inspect`: what a source holds and what a load
would do with it, before the first load, writing nothing.

- `--source sensor_db`: the configured historian table (WINDFARM_SENSOR_DB_URL,
  WINDFARM_SENSOR_TABLE) profiled, a historian.csv proposed, the sensor loader dry-run
  with the park's mapping (or the proposed one while the park has none);
- `--source csv FILE`: an export file profiled, matched against the park's exports.yaml,
  the CSV loader dry-run on it (the file is not moved);
- `--source weather`: one request to the configured API for one day, and what it lands.

Each gives a report (a dict, `--json` prints it) and a text for a person (`render`).
Exit status: 0 when every row would land, 2 when some would be rejected or the file
refused, 1 when the source cannot be read at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from loaders.onboarding.csv_file import inspect_csv
from loaders.onboarding.sensor_db import InspectError, inspect_sensor_db
from loaders.onboarding.weather import inspect_weather

__all__ = ["InspectError", "exit_code", "inspect_csv", "inspect_sensor_db", "inspect_weather"]
EXIT_CLEAN, EXIT_REJECTS = 0, 2


def _tables(report: dict[str, Any]) -> dict[str, Any]:
    if report["source"] == "weather":
        return {}
    return (report.get("dry_run") or {}).get("tables", {})


def exit_code(report: dict[str, Any]) -> int:
    """0 when every row would land; 2 when a row would be rejected, the file refused, the
    mapping invalid or a request failed."""
    problems = ("mapping_error", "dry_run_error", "errors")
    if any(key in report for key in problems) or "refused" in (report.get("dry_run") or {}):
        return EXIT_REJECTS
    if any(table["would_reject"] for table in _tables(report).values()):
        return EXIT_REJECTS
    if report["source"] == "weather":
        sites = report["tables"]["weather_hourly"].values()
        if any(site["problems"] for site in sites):
            return EXIT_REJECTS
    return EXIT_CLEAN


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _columns(report: dict[str, Any]) -> Iterator[str]:
    yield "Columns:"
    width = max((len(str(c["name"])) for c in report["columns"]), default=4)
    for column in report["columns"]:
        if "min" in column:
            shown = f"{_number(column['min'])} .. {_number(column['max'])}"
        else:
            shown = ", ".join(column["examples"])
        if column.get("timestamp_format"):
            shown += f"  (format {column['timestamp_format']})"
        elif column.get("has_offset"):
            shown += "  (with UTC offset)"
        yield (
            f"  {column['name']:<{width}}  {column['kind']:<13} "
            f"{_number(column['values']):>10} values  {shown}"[:160]
        )
    empty = report.get("empty_columns") or []
    yield f"Empty columns: {', '.join(empty) if empty else 'none'}"


def _proposal(title: str, proposed: dict[str, Any]) -> Iterator[str]:
    yield title
    for line in str(proposed["historian_csv"]).splitlines():
        yield f"  {line}"
    for key, value in proposed["park_yaml_historian"].items():
        yield f"  park.yaml, historian: {key}: {value!r}"
    for name, notes in proposed["notes"].items():
        for note in notes:
            yield f"  note {name}: {note}"
    if proposed["unmapped_columns"]:
        yield f"  not mapped: {', '.join(proposed['unmapped_columns'])}"


def _dry_run(dry: dict[str, Any]) -> Iterator[str]:
    for table, counts in dry.get("tables", {}).items():
        yield (
            f"  {table}: {_number(counts['would_land'])} rows would land, "
            f"{_number(counts['would_reject'])} would be rejected"
        )
        for reason in counts["reasons"]:
            where = reason.get("lines") or reason.get("examples") or []
            label = "lines" if "lines" in reason else "e.g."
            yield f"    {_number(reason['rows'])} x {reason['reason']}  ({label} {where})"[:200]


def _render_sensor_db(report: dict[str, Any]) -> Iterator[str]:
    yield (
        f"Sensor database {report['url']}, table {report['table']}: "
        f"{_number(report['rows'])} rows (park: {report['park']})"
    )
    yield from _columns(report)
    yield ""
    yield from _proposal("Proposed mapping (historian.csv):", report["proposed_mapping"])
    yield ""
    if "mapping_error" in report:
        yield f"The park's mapping cannot be used: {report['mapping_error']}"
    if "dry_run_error" in report:
        yield f"Dry run failed: {report['dry_run_error']}"
    dry = report.get("dry_run")
    if dry:
        window = "every row" if dry["window"][0].startswith("1900") else " .. ".join(dry["window"])
        yield f"Dry run with {report['mapping']} (nothing written), window {window}:"
        yield from _dry_run(dry)
        if dry.get("time_range"):
            yield f"  time range (UTC): {dry['time_range'][0]} .. {dry['time_range'][1]}"
            turbines = ", ".join(f"{t} ({_number(n)})" for t, n in dry["turbines"].items())
            yield f"  turbines: {turbines}"
        if dry.get("empty_signals"):
            yield f"  mapped but empty: {', '.join(dry['empty_signals'])}"
        if dry.get("unmapped_columns"):
            yield f"  columns not in the mapping: {', '.join(dry['unmapped_columns'])}"
        for role, why in dry.get("tables_skipped", {}).items():
            yield f"  {role}: {why}"


def _render_csv(report: dict[str, Any]) -> Iterator[str]:
    yield (
        f"File {report['file']}: {report['encoding']}, separator {report['separator']!r}, "
        f"{_number(report['profiled_rows'])} rows profiled (park: {report['park']})"
    )
    yield from _columns(report)
    yield ""
    match = report["spec_match"]
    if "refused" in match:
        yield f"Export spec: none matches: {match['refused']}"
    else:
        yield f"Export spec: {match['spec']} -> raw.{match['table']}"
        for target, header in match["columns"].items():
            yield f"  {header} -> {target}"
        if match["absent_optional"]:
            yield f"  optional, not in the file: {', '.join(match['absent_optional'])}"
        if match["targets_not_in_spec"]:
            unfilled = ", ".join(match["targets_not_in_spec"])
            yield f"  raw columns this spec does not fill (null): {unfilled}"
        if match["personal"]:
            yield f"  personal data, pseudonymised: {', '.join(match['personal'])}"
        if match["extra_columns"]:
            extras = ", ".join(match["extra_columns"])
            yield f"  not in the spec, kept in {match['extras_kept_in']}: {extras}"
    dry = report.get("dry_run")
    if dry:
        yield "Dry run (nothing written, the file stays in place):"
        if "refused" in dry:
            refused_to = dry["would_move_to"]
            yield f"  the file would be refused (moved to {refused_to}/): {dry['refused']}"
        yield from _dry_run(dry)
    if report.get("warehouse"):
        yield f"Warehouse: {report['warehouse']}"
    if report.get("proposed_historian_mapping"):
        yield ""
        yield from _proposal(
            "Read as a historian export, a mapping (historian.csv):",
            report["proposed_historian_mapping"],
        )


def _render_weather(report: dict[str, Any]) -> Iterator[str]:
    yield f"Weather API {report['endpoint']}, day {report['day']} (UTC), park {report['park']}"
    sites = ", ".join(f"{s['code']} ({s['latitude']}, {s['longitude']})" for s in report["sites"])
    yield f"Sites: {sites}"
    for request in report["requests"]:
        yield f"Request: {request}"
    for error in report.get("errors", []):
        yield f"Error: {error}"
    for code, site in report["tables"]["weather_hourly"].items():
        yield (
            f"  {code}: {site['would_land']} rows of the day asked would land in "
            f"raw.weather_hourly, {site['rows_outside_day']} outside it would be dropped"
        )
        for problem in site["problems"]:
            yield f"    the loader would fail this day: {problem}"
        if site["hours_missing"]:
            yield f"    hours of the day missing: {site['hours_missing']}"
        if site["time_range"]:
            yield f"    time range (UTC): {site['time_range'][0]} .. {site['time_range'][1]}"
        for variable, shown in site["variables"].items():
            if shown["values"]:
                yield (
                    f"    {variable}: {shown['values']} values, "
                    f"{_number(shown['min'])} .. {_number(shown['max'])}"
                )
        if site["empty_variables"]:
            yield f"    no value: {', '.join(site['empty_variables'])}"


def render(report: dict[str, Any]) -> str:
    """The report as text for a person."""
    renderers = {"sensor_db": _render_sensor_db, "csv": _render_csv, "weather": _render_weather}
    return "\n".join(renderers[report["source"]](report))
