"""The benchmark's figures as text: a console summary and docs/performance.md.

The page is the template beside this file (the prose: what was measured, why, what to do)
with the tables of every result file in the results folder put in place of its marker, so
that re-running the benchmark regenerates the page and a human edits only the template.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parent / "performance_template.md"
MARKER = "<!-- bench:results -->"

# (key in a history's results, label); rows/s and the COPY ratio where rows were moved
STEPS: tuple[tuple[str, str], ...] = (
    ("copy", "PostgreSQL `COPY` of the rows (the ceiling)"),
    ("copy_raw", "`COPY` of the rows in `raw`'s shape, + its indexes"),
    ("load", "sensor loader, backfill of the history into `raw`"),
    ("load_empty", "sensor loader on a window without rows (fixed cost)"),
    ("dbt_full", "`dbt build`, first (full) build of the history"),
    ("load_one_day", "sensor loader, one new day (+3 lookback days)"),
    ("dbt_incremental", "`dbt build` after that new day (incremental)"),
    ("daily_run", "whole daily run for the next day (`loaders.run.pipeline.run`)"),
)


def _peak(step: dict[str, Any]) -> float:
    return max(step["peak_rss_mib"], step["peak_rss_children_mib"])


def _rate(step: dict[str, Any]) -> float | None:
    rows = step.get("rows")
    return rows / step["seconds"] if rows and step.get("seconds") else None


def step_rows(measured: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    """(step, rows, seconds, rows/s, x COPY, peak MiB) for one history length."""
    copy_rate = _rate(measured["copy"])
    rows = []
    for key, label in STEPS:
        step = measured.get(key)
        if step is None:
            continue
        rate = _rate(step) if key in ("copy", "copy_raw", "load", "load_one_day") else None
        ratio = f"{rate / copy_rate:.2f}" if rate and copy_rate else ""
        rows.append(
            (
                label,
                f"{step['rows']:,}" if step.get("rows") else "",
                f"{step['seconds']:.1f}",
                f"{rate:,.0f}" if rate else "",
                ratio,
                f"{_peak(step):,.0f}",
            )
        )
    return rows


def beyond_fixed_cost(measured: dict[str, Any]) -> tuple[float, float, float] | None:
    """(seconds, rows/s, x COPY) of the backfill less the loader's run on a window without
    rows: the rate at which it lands rows, apart from what every run pays once."""
    load, empty, copy = (measured.get(key) for key in ("load", "load_empty", "copy"))
    if not (load and empty and copy and load.get("rows")):
        return None
    copy_rate = _rate(copy)
    if not copy_rate or load["seconds"] <= empty["seconds"]:
        return None
    seconds = load["seconds"] - empty["seconds"]
    rate = load["rows"] / seconds
    return seconds, rate, rate / copy_rate


def summary(results: dict[str, Any]) -> str:
    """What the console shows at the end of a run."""
    config = results["config"]
    lines = [
        f"fleet {config['turbines']} turbines, "
        f"generated {results['generation']['rows']:,} rows in "
        f"{results['generation']['seconds']:.0f} s"
    ]
    for days, measured in results["histories"].items():
        lines.append(f"after {days} days of history:")
        for label, _rows, seconds, rate, ratio, peak in step_rows(measured):
            lines.append(
                f"  {label[:52]:<52} {seconds:>8} s {rate:>10} rows/s "
                f"{(ratio + 'x') if ratio else '':>6}  peak {peak:>6} MiB"
            )
        beyond = beyond_fixed_cost(measured)
        if beyond:
            lines.append(
                f"  {'sensor loader, beyond its fixed cost':<52} {beyond[0]:>8.1f} s "
                f"{beyond[1]:>10,.0f} rows/s {beyond[2]:>5.2f}x"
            )
    for check in results.get("checks", []):
        lines.append(f"{'PASS' if check['ok'] else 'FAIL'}  {check['target']}: {check['value']}")
    return "\n".join(lines)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _machine(machine: dict[str, Any]) -> str:
    pg = machine["postgresql_settings"]
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    return (
        f"{machine['date']}; {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['memory_gib']} GiB RAM, {machine['os']}; {machine['postgresql']} on "
        f"{machine['postgresql_host']} (shared_buffers {pg['shared_buffers']}, work_mem "
        f"{pg['work_mem']}, max_wal_size {pg['max_wal_size']}, synchronous_commit "
        f"{pg['synchronous_commit']}); Python {machine['python']}, {packages}."
    )


# How the parts of a step (steps.py) read on the page; other names are shown as they are.
PART_LABELS = {
    "dlt_extract": "dlt extract (read the historian, convert, write files)",
    "dlt_normalize": "normalize",
    "dlt_load": "load (COPY)",
    "raw_indexes": "raw indexes and statistics",
    "other": "the rest (pipeline set-up, window check)",
    "copy": "COPY",
    "indexes": "indexes and statistics",
}


def _parts(parts: dict[str, float]) -> str:
    return ", ".join(f"{PART_LABELS.get(name, name)} {sec:.1f} s" for name, sec in parts.items())


def section(results: dict[str, Any]) -> list[str]:
    """The tables of one result file."""
    config = results["config"]
    histories = results["histories"]
    title = (
        f"### {config['turbines']} turbines, history "
        f"{' and '.join(str(d) for d in config['histories'])} days"
        + (" — loader only" if config.get("loader_only") else "")
    )
    lines = [title, "", f"Machine: {_machine(results['machine'])}", ""]
    lines += [f"Code measured: `{config.get('code_version', 'unknown')}`.", ""]
    generation = results["generation"]
    lines.append(
        f"Fleet generated: {generation['rows']:,} historian rows ({generation['days']} days, "
        f"{generation['alarm_rows']:,} alarms) in {generation['seconds']:.0f} s; whole "
        f"benchmark {results.get('total_seconds', 0) / 60:.0f} min."
    )
    for days, measured in histories.items():
        lines += ["", f"**After {days} days of history**", ""]
        lines += _table(
            ("step", "rows", "seconds", "rows/s", "× COPY", "peak MiB"), step_rows(measured)
        )
        beyond = beyond_fixed_cost(measured)
        if beyond:
            seconds, rate, ratio = beyond
            lines += [
                "",
                f"Beyond the loader's fixed cost, the backfill's rows took {seconds:.1f} s: "
                f"{rate:,.0f} rows/s, {ratio:.2f}× COPY.",
            ]
        if len(measured["load"].get("samples_seconds", [])) > 1:
            lines += [
                "",
                f"Fastest of {len(measured['load']['samples_seconds'])} alternating runs; "
                f"COPY {measured['copy']['samples_seconds']} s, backfill "
                f"{measured['load']['samples_seconds']} s.",
            ]
        daily_samples = measured.get("daily_run", {}).get("samples_seconds", [])
        if len(daily_samples) > 1:
            lines += [
                "",
                f"Daily run: fastest of {len(daily_samples)} days, run alternately with the "
                f"other histories' daily runs: {daily_samples} s.",
            ]
        for key, label in (
            ("copy_raw", "`COPY` in raw's shape"),
            ("load", "Backfill"),
            ("load_one_day", "One new day's load"),
            ("daily_run", "Daily run"),
        ):
            if measured.get(key, {}).get("parts"):
                lines += ["", f"{label} split: {_parts(measured[key]['parts'])}."]
        settled = measured.get("settled_seconds")
        if settled:
            lines += [
                "",
                "Before the new day and before the daily run, the night between two runs "
                f"(`VACUUM`, `CHECKPOINT`, untimed): {' s, '.join(map(str, settled))} s.",
            ]
        missing = [label for key, label in STEPS if key not in measured]
        if missing:
            lines += ["", f"Not measured in this run (stopped before): {'; '.join(missing)}."]
        for key, label in (
            ("dbt_full", "full build"),
            ("dbt_incremental", "incremental build"),
            ("daily_run", "daily run"),
        ):
            if key not in measured:
                continue
            slowest = measured[key].get("dbt_slowest", [])[:6]
            if slowest:
                nodes = ", ".join(
                    f"`{node.split('.')[-1]}` {sec:.1f} s" for node, sec, _ in slowest
                )
                lines.append(
                    f"Slowest dbt nodes of the {label} ({measured[key]['dbt_nodes']} nodes, "
                    f"dbt {measured[key]['dbt_elapsed_seconds']:.0f} s): {nodes}."
                )
        if measured.get("queries"):
            lines += ["", "Analysts' queries on the marts (warm; first run in brackets):", ""]
            lines += _table(
                ("query", "what", "rows", "seconds", "plan"),
                [
                    (
                        f"`{q['name']}`",
                        q["purpose"],
                        f"{q['rows']:,}",
                        f"{q['seconds']:.2f} ({q['first_seconds']:.2f})",
                        "; ".join(q["scans"]),
                    )
                    for q in measured["queries"]
                ],
            )
        if measured.get("sizes"):
            sizes = ", ".join(
                f"`{name}` {size / 2**20:,.0f} MiB" for name, size in measured["sizes"].items()
            )
            lines += ["", f"Table sizes: {sizes}."]
    if results.get("checks"):
        lines += ["", "Targets:", ""]
        lines += [
            f"- {'✅' if c['ok'] else '❌'} {c['target']}: measured {c['value']}"
            for c in results["checks"]
        ]
    return lines


def write_page(results_dir: Path, page: Path) -> None:
    """Regenerate the page from the template and every result file of `results_dir`."""
    files = sorted(results_dir.glob("*.json"))
    blocks: list[str] = []
    for path in files:
        blocks += section(json.loads(path.read_text(encoding="utf-8"))) + [""]
    text = TEMPLATE.read_text(encoding="utf-8")
    if MARKER not in text:
        raise ValueError(f"{TEMPLATE}: the marker {MARKER} is missing")
    generated = "\n".join(blocks).rstrip() or "_No results yet: run `make bench`._"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(text.replace(MARKER, generated), encoding="utf-8")
