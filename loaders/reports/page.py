"""The quality page as one self-contained HTML document.

Self-contained on purpose: the page is opened from disk (`file://`), mailed, archived
with the run, so it carries its own `<style>`, draws its charts as inline SVG, and a
Content-Security-Policy forbids any network fetch: a page that looks right offline once
looks right everywhere. Figures that tests check carry `data-*` attributes or ids, so a
test reads numbers from the page rather than scraping its wording.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from loaders.reports import history, sections
from loaders.reports.charts import Bar, histogram_svg
from loaders.reports.dbt_results import DbtResults, NodeResult
from loaders.reports.elementary import ElementaryOutcome
from loaders.reports.figures import (
    Completeness,
    Figures,
    HistogramBin,
    MartCount,
    RejectedTable,
    RunSummary,
    SourceSummary,
    TrendRun,
)
from loaders.reports.markup import (
    attrs,
    duration,
    esc,
    number,
    percent,
    timestamp,
)
from loaders.reports.markup import num_cell as _num_cell
from loaders.reports.markup import table as _table

GOOD_PCT = 98.0
WARN_PCT = 90.0
STATUS_GRADES = {"success": "good", "partial": "warn", "failed": "bad", "running": "neutral"}
# The histogram always spans 0 to 25 m/s (cut-out), wider when values fall outside.
HISTOGRAM_ALWAYS = (0, 24)
# dbt results generated this long before the run started belong to an earlier run.
STALE_RESULTS_TOLERANCE = timedelta(minutes=5)

SIGNAL_LABELS = {
    "wind_speed": "Wind speed",
    "active_power": "Active power",
    "rotor_speed": "Rotor speed",
    "pitch_angle": "Pitch angle",
    "gearbox_oil_temp": "Gearbox oil temp.",
    "gearbox_bearing_temp": "Gearbox bearing temp.",
    "generator_stator_temp": "Generator stator temp.",
    "ambient_temp": "Ambient temp.",
}

STYLE = """
:root {
  --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --paper: #ffffff; --band: #f6f8fa;
  --good: #1a7f37; --good-bg: #dafbe1; --warn: #9a6700; --warn-bg: #fff8c5;
  --bad: #cf222e; --bad-bg: #ffebe9; --neutral: #59636e; --neutral-bg: #eef1f4;
  --accent: #0969da;
}
* { box-sizing: border-box; }
html { background: var(--band); }
body {
  margin: 0 auto; max-width: 1180px; padding: 24px 32px 48px; color: var(--ink);
  background: var(--paper); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif;
}
h1 { font-size: 24px; margin: 0 0 4px; }
h1 .mono { font-size: 20px; }
h2 {
  font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line);
}
h3 { font-size: 15px; margin: 16px 0 6px; }
p { margin: 6px 0; }
a { color: var(--accent); }
code, .mono {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px;
}
.muted { color: var(--muted); }
nav { margin: 8px 0 16px; font-size: 13px; }
nav a { margin-right: 12px; }
dl.facts {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 8px 16px;
  margin: 12px 0; padding: 12px 16px; background: var(--band); border: 1px solid var(--line);
  border-radius: 6px;
}
dl.facts div { min-width: 0; }
dl.facts dt {
  font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em;
}
dl.facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.badge {
  display: inline-block; padding: 1px 10px; border-radius: 999px; font-weight: 700;
  font-size: 13px; border: 1px solid currentColor;
}
.good { color: var(--good); background: var(--good-bg); }
.warn { color: var(--warn); background: var(--warn-bg); }
.bad { color: var(--bad); background: var(--bad-bg); }
.neutral { color: var(--neutral); background: var(--neutral-bg); }
.alert {
  border: 1px solid var(--bad); background: var(--bad-bg); border-radius: 6px; padding: 8px 14px;
}
.alert.warn { border-color: var(--warn); background: var(--warn-bg); color: var(--ink); }
.alert ul { margin: 4px 0; padding-left: 20px; }
.ok-line { color: var(--good); font-weight: 600; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td {
  padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top;
}
th { font-size: 12px; color: var(--muted); font-weight: 600; background: var(--band); }
td.num, th.num { text-align: right; white-space: nowrap; }
tr.subtotal td { font-weight: 600; background: var(--band); }
tr.current td { font-weight: 600; }
table.matrix td.cell { text-align: right; font-weight: 600; white-space: nowrap; }
table.matrix td:first-child { white-space: nowrap; }
table.matrix th.signal { text-align: right; }
.message { max-width: 640px; overflow-wrap: anywhere; white-space: pre-wrap; }
.legend span.badge { font-weight: 600; margin-right: 6px; }
ol.reasons { margin: 0; padding-left: 20px; }
figure { margin: 8px 0; }
figcaption { color: var(--muted); font-size: 13px; }
svg.chart { width: 100%; max-width: 900px; height: auto; display: block; }
svg.chart text { font-size: 12px; fill: var(--ink); }
svg.chart .axis-label { font-size: 13px; fill: var(--muted); }
svg.chart .grid line { stroke: var(--line); stroke-width: 1; }
svg.chart .axis line, svg.chart .x-ticks line { stroke: var(--ink); stroke-width: 1; }
svg.chart rect.bar { fill: #3b82c4; }
svg.chart rect.bar:hover { fill: #1d5c96; }
svg.chart .empty { fill: var(--muted); font-size: 14px; }
svg.scatter circle.pt { fill: #3b82c4; fill-opacity: .35; }
svg.scatter circle.pt.flagged { fill: var(--bad); fill-opacity: .85; }
svg.scatter polyline.reference {
  fill: none; stroke: var(--ink); stroke-width: 1.5; stroke-dasharray: 5 3;
}
svg.sparkline { display: block; overflow: visible; }
svg.sparkline polyline { fill: none; stroke: var(--accent); stroke-width: 1.5; }
svg.sparkline circle { fill: var(--accent); }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin: 0 4px 0 12px; }
.ok-dot { background: #3b82c4; opacity: .6; }
.flag-dot { background: var(--bad); }
ul.kinds { display: flex; flex-wrap: wrap; gap: 4px 24px; padding-left: 20px; margin: 6px 0; }
table.flags th.num { font-size: 11px; min-width: 72px; }
.scroll { overflow-x: auto; max-width: 100%; }
tr.bad-row td:first-child { box-shadow: inset 3px 0 0 var(--bad); }
td.num.good { background: var(--good-bg); } td.num.bad { background: var(--bad-bg); }
code.small { font-size: 11px; }
details { margin: 6px 0; }
summary { cursor: pointer; color: var(--accent); }
footer {
  margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line);
  padding-top: 8px;
}
@media print {
  html { background: none; } body { max-width: none; padding: 0; } nav { display: none; }
}
"""

# No network, ever: styles are inline, images may only be data: URIs, nothing else loads.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"


@dataclass(frozen=True)
class PageContext:
    """What the page needs beyond the database figures: dbt results and the run folder."""

    dbt: DbtResults | None
    dbt_results_file: str | None  # relative link to the copied run_results.json
    run_pages: frozenset[str]  # run ids with a page beside this one, for the trend links
    generated_at: datetime
    # Key figures of the recorded runs, newest first (this run first); see `history`.
    history: tuple[history.KeyFigures, ...] = ()
    elementary: ElementaryOutcome | None = None


def grade(pct: float) -> str:
    """Completeness colour class: good ≥ 98 %, warn ≥ 90 %, bad below."""
    if pct >= GOOD_PCT:
        return "good"
    if pct >= WARN_PCT:
        return "warn"
    return "bad"


def status_badge(status: str, element_id: str | None = None) -> str:
    css = STATUS_GRADES.get(status, "neutral")
    return (
        f"<span{attrs(id=element_id, class_=f'badge {css}', data_status=status)}>"
        f"{esc(status)}</span>"
    )


# --- sections ----------------------------------------------------------------------------


def header(figures: Figures) -> str:
    run = figures.run
    title = (
        f'<h1>Data quality — run <span id="run-id" class="mono">{esc(figures.run_id)}</span></h1>'
    )
    if run is None:
        return (
            title + '<p class="alert" id="run-missing">This run has no row in '
            "<code>audit.pipeline_runs</code>: the figures below describe the warehouse as "
            "it is now, not a recorded run.</p>"
        )
    dates = f"{run.date_from or '—'} → {run.date_to or '—'}"
    facts = [
        ("Status", status_badge(run.status, "run-status")),
        ("Started", f'<span id="run-started">{esc(timestamp(run.started_at))}</span>'),
        (
            "Duration",
            f"<span{attrs(id='run-duration', data_seconds=_seconds(run.duration))}>"
            f"{esc(duration(run.duration))}</span>",
        ),
        ("Dates loaded", f'<span id="run-dates">{esc(dates)}</span>'),
        (
            "Code version",
            f'<span id="run-code-version" class="mono">{esc(run.code_version or "unknown")}</span>',
        ),
        ("dbt", status_badge(run.dbt_status or "not run", "run-dbt-status")),
        (
            "Rows loaded",
            f"<span{attrs(id='run-rows-loaded', data_rows=run.rows_loaded)}>"
            f"{esc(number(run.rows_loaded))}</span>",
        ),
        ("Run by", f"<span>{esc(run.run_by or '—')} as {esc(run.db_role or '—')}</span>"),
    ]
    items = "".join(f"<div><dt>{esc(label)}</dt><dd>{value}</dd></div>" for label, value in facts)
    return title + f'<dl class="facts">{items}</dl>' + _errors(run)


def _seconds(value: timedelta | None) -> str | None:
    return None if value is None else f"{value.total_seconds():.3f}"


def _errors(run: RunSummary) -> str:
    """The audit row's errors: one line per failed source, one per failed dbt node."""
    lines = []
    for source, message in run.errors.items():
        if source == "dbt" and isinstance(message, list):
            for failure in message:
                failure = failure if isinstance(failure, dict) else {"message": failure}
                lines.append(
                    f"<li>dbt <code>{esc(failure.get('node', '?'))}</code> "
                    f"({esc(failure.get('status', '?'))}): "
                    f'<span class="message">{esc(failure.get("message") or "")}</span></li>'
                )
        elif message:
            lines.append(
                f"<li><strong>{esc(source)}</strong>: "
                f'<span class="message">{esc(message)}</span></li>'
            )
    if not lines:
        return ""
    css = "alert" if run.status == "failed" else "alert warn"
    return (
        f'<div class="{css}" id="run-errors"><strong>What went wrong in this run</strong>'
        f"<ul>{''.join(lines)}</ul></div>"
    )


def rows_extracted(sources: Sequence[SourceSummary], run: RunSummary | None) -> str:
    body = ['<section id="extracted"><h2>Rows extracted in this run</h2>']
    if run is None or not sources:
        body.append('<p class="muted">The audit row records no source for this run.</p>')
        return "".join(body) + "</section>"
    body.append(
        '<p class="muted">Rows each source wrote to <code>raw</code> in this run (dlt\'s '
        "counts, as recorded in the audit row), with the rows the loader read and rejected."
        "</p>"
    )
    rows = []
    for source in sources:
        rows.append(
            f"<tr{attrs(class_='subtotal', data_source_total=source.source)}"
            f"{attrs(data_rows_read=source.rows_read, data_rows_rejected=source.rows_rejected)}>"
            f"<td>{esc(source.source)}</td><td>{_source_note(source)}</td>"
            f"{_num_cell(source.rows_read)}{_num_cell(source.rows_rejected)}"
            f"{_num_cell(source.rows_written)}</tr>"
        )
        for table in source.tables:
            rows.append(
                f"<tr{attrs(data_source=table.source, data_table=table.table)}"
                f"{attrs(data_rows=table.rows)}><td></td><td><code>raw.{esc(table.table)}</code>"
                f"</td><td></td><td></td>{_num_cell(table.rows)}</tr>"
            )
    rows.append(
        f'<tr class="subtotal"><td>All sources</td><td></td><td></td><td></td>'
        f"{_num_cell(run.rows_loaded, id='rows-loaded-total', data_rows=run.rows_loaded)}</tr>"
    )
    head = [("Source", False), ("Table", False), ("Read", True), ("Rejected", True)]
    body.append(_table([*head, ("Rows written", True)], rows, id="rows-extracted"))
    return "".join(body) + "</section>"


def _source_note(source: SourceSummary) -> str:
    notes = []
    if source.error:
        notes.append(f'<span class="badge bad">failed</span> {esc(source.error)}')
    for file_name, reason in source.refused_files.items():
        notes.append(f"refused <code>{esc(file_name)}</code>: {esc(reason)}")
    return "<br>".join(f'<span class="message">{note}</span>' for note in notes)


def rejected(tables: Sequence[RejectedTable]) -> str:
    body = [
        '<section id="rejected"><h2>Rejected rows</h2>',
        '<p class="muted">What the loaders could not parse, kept in the <code>raw.*__rejected'
        "</code> tables with the reason. <em>In table</em> is every row there now; "
        "<em>this run</em> the rows landed by this run's loads.</p>",
    ]
    if not tables:
        body.append('<p class="ok-line" id="no-rejected-tables">No rejected-rows table exists.</p>')
        return "".join(body) + "</section>"
    rows = []
    for table in tables:
        if table.reasons:
            items = "".join(
                f"<li{attrs(data_reason=reason.reason, data_rows=reason.rows)}>"
                f'<span class="message">{esc(reason.reason)}</span> — {esc(number(reason.rows))}'
                f"{_example(reason.example)}</li>"
                for reason in table.reasons
            )
            if table.other_reason_rows:
                items += f"<li>other reasons — {esc(number(table.other_reason_rows))}</li>"
            reasons = f'<ol class="reasons">{items}</ol>'
        else:
            reasons = '<span class="muted">none</span>'
        rows.append(
            f"<tr{attrs(data_rejected_table=table.qualified_name, data_rows=table.rows)}"
            f"{attrs(data_rows_this_run=table.rows_this_run)}>"
            f"<td><code>{esc(table.qualified_name)}</code></td>{_num_cell(table.rows)}"
            f"{_num_cell(table.rows_this_run)}<td>{reasons}</td></tr>"
        )
    head = [("Table", False), ("In table", True), ("This run", True), ("Top reasons", False)]
    body.append(_table(head, rows, id="rejected-tables"))
    return "".join(body) + "</section>"


def _example(example: str | None) -> str:
    return f' <span class="muted">(e.g. {esc(example)})</span>' if example else ""


def marts(counts: Sequence[MartCount]) -> str:
    rows = []
    for mart in counts:
        state = "" if mart.rows is not None else ' <span class="badge bad">missing</span>'
        shown = ("≈ " if mart.estimated else "") + number(mart.rows)
        rows.append(
            f"<tr{attrs(data_mart=mart.qualified_name, data_rows=mart.rows)}"
            f"{attrs(data_estimated=mart.estimated)}>"
            f"<td><code>{esc(mart.qualified_name)}</code>{state}</td>"
            f'<td class="num">{esc(shown)}</td></tr>'
        )
    note = (
        '<p class="muted" id="marts-estimated">≈: PostgreSQL\'s estimate from the statistics '
        "of the last build (a table this large is not counted row by row on every run).</p>"
        if any(mart.estimated for mart in counts)
        else ""
    )
    return (
        '<section id="marts"><h2>Rows in the marts</h2>'
        + _table([("Table", False), ("Rows", True)], rows, id="mart-counts")
        + note
        + "</section>"
    )


def _signal_label(signal: str) -> str:
    return SIGNAL_LABELS.get(signal, signal.replace("_", " ").capitalize())


def completeness(rows: Sequence[Completeness], origin: str) -> str:
    body = ['<section id="completeness-section"><h2>Completeness per turbine and signal</h2>']
    if not rows:
        body.append(
            '<p class="alert" id="completeness-missing">No completeness figures: neither '
            "<code>quality.quality_completeness</code> nor "
            "<code>core.fct_turbine_measurements</code> is there.</p>"
        )
        return "".join(body) + "</section>"
    signals = list(dict.fromkeys(row.signal for row in rows))
    turbines = list(dict.fromkeys(row.turbine_id for row in rows))
    cells = {(row.turbine_id, row.signal): row for row in rows}
    below = [row for row in rows if grade(row.pct_non_null) != "good"]
    worst = min(rows, key=lambda row: (row.pct_non_null, row.turbine_id, row.signal))
    summary = (
        f'<p id="completeness-summary"{attrs(data_below=len(below), data_pairs=len(rows))}>'
        f"{esc(len(rows) - len(below))} of {esc(len(rows))} turbine–signal pairs have a value in "
        f"at least {GOOD_PCT:g} % of the expected 10-minute periods."
    )
    if below:
        summary += (
            f" Lowest: <strong>{esc(worst.turbine_id)}</strong> "
            f"{esc(_signal_label(worst.signal))} at {esc(percent(worst.pct_non_null))}."
        )
    body.append(summary + "</p>")
    body.append(
        '<p class="muted">Expected periods: the 10-minute grid from each turbine\'s first to '
        "last loaded day. <em>Present</em>: periods with a source row. Signal columns: "
        "periods where the signal has a value, % of expected. "
        f"Source: <code>{esc(origin)}</code>.</p>"
    )
    body.append(
        '<p class="legend"><span class="badge good">≥ 98 %</span>'
        '<span class="badge warn">90 – 98 %</span><span class="badge bad">&lt; 90 %</span></p>'
    )
    head_cells = "".join(
        f'<th class="signal" title="{esc(signal)}">{esc(_signal_label(signal))}</th>'
        for signal in signals
    )
    lines = []
    for turbine in turbines:
        turbine_rows = [cells[(turbine, s)] for s in signals if (turbine, s) in cells]
        first = turbine_rows[0]
        present = min(turbine_rows, key=lambda row: row.pct_present)
        line = [
            f"<td><strong>{esc(turbine)}</strong></td>",
            _num_cell(first.expected_periods, data_expected=first.expected_periods),
            f"<td{attrs(class_=f'cell {grade(present.pct_present)}', data_turbine=turbine)}"
            f"{attrs(data_present=present.present_periods, data_expected=present.expected_periods)}"
            f"{attrs(data_pct_present=f'{present.pct_present:.2f}')}"
            f"{attrs(data_grade=grade(present.pct_present), title=_present_title(present))}>"
            f"{esc(percent(present.pct_present))}</td>",
        ]
        for signal in signals:
            row = cells.get((turbine, signal))
            if row is None:
                line.append('<td class="cell neutral">—</td>')
                continue
            line.append(
                f"<td{attrs(class_=f'cell {grade(row.pct_non_null)}', data_turbine=turbine)}"
                f"{attrs(data_signal=signal, data_expected=row.expected_periods)}"
                f"{attrs(data_present=row.present_periods, data_non_null=row.non_null_count)}"
                f"{attrs(data_pct_present=f'{row.pct_present:.2f}')}"
                f"{attrs(data_pct_non_null=f'{row.pct_non_null:.2f}')}"
                f"{attrs(data_grade=grade(row.pct_non_null), title=_signal_title(row))}>"
                f"{esc(percent(row.pct_non_null))}</td>"
            )
        lines.append(f"<tr{attrs(data_turbine_row=turbine)}>{''.join(line)}</tr>")
    body.append(
        '<table class="matrix" id="completeness"><thead><tr><th>Turbine</th>'
        '<th class="num">Expected periods</th><th class="signal">Present</th>'
        f"{head_cells}</tr></thead><tbody>{''.join(lines)}</tbody></table>"
    )
    return "".join(body) + "</section>"


def _present_title(row: Completeness) -> str:
    return (
        f"{row.turbine_id}: {row.present_periods:,} of {row.expected_periods:,} "
        "periods have a source row"
    )


def _signal_title(row: Completeness) -> str:
    title = (
        f"{row.turbine_id} · {row.signal}: {row.non_null_count:,} of "
        f"{row.expected_periods:,} periods have a value"
    )
    if row.pct_valid is not None:
        title += f"; {row.pct_valid:.2f} % pass QC"
    return title


def dbt_tests(context: PageContext, run: RunSummary | None) -> str:
    body = ['<section id="dbt-tests"><h2>dbt tests</h2>']
    results = context.dbt
    if results is None:
        status = (run.dbt_status if run else None) or "unknown"
        body.append(
            '<p class="alert" id="dbt-tests-summary" data-tests-total="0">No dbt '
            "<code>run_results.json</code> was there when this page was written, so the "
            f"tests cannot be listed. dbt status in the audit row: {esc(status)}.</p>"
        )
        return "".join(body) + "</section>"
    tests = results.tests
    problems = results.test_problems
    summary_attrs = attrs(
        id="dbt-tests-summary", data_tests_total=len(tests), data_tests_problems=len(problems)
    )
    if not tests:
        body.append(f'<p class="muted"{summary_attrs}>This dbt invocation ran no tests.</p>')
    elif not problems:
        body.append(f'<p class="ok-line"{summary_attrs}>All {len(tests):,} tests passed.</p>')
    else:
        counts = ", ".join(
            f"{sum(1 for p in problems if p.status == status)} {label}"
            for status, label in (("fail", "failed"), ("error", "errored"), ("warn", "warned"))
            if any(p.status == status for p in problems)
        )
        body.append(
            f'<p class="alert"{summary_attrs}>{len(problems):,} of {len(tests):,} tests did '
            f"not pass ({esc(counts)}).</p>"
        )
        body.append(_node_table(problems, "dbt-test-problems", "Test"))
    if results.node_problems:
        body.append("<h3>Models and seeds that did not build</h3>")
        body.append(_node_table(results.node_problems, "dbt-node-problems", "Node"))
    built = ", ".join(
        f"{results.count(kind):,} {kind}s"
        for kind in ("model", "seed", "snapshot", "test")
        if results.count(kind)
    )
    details = f"<code>dbt {esc(results.command or '?')}</code>: {esc(built or 'no nodes')}"
    if results.elapsed_seconds is not None:
        details += f" in {esc(f'{results.elapsed_seconds:.1f}')} s"
    if context.dbt_results_file:
        details += f' — <a href="{esc(context.dbt_results_file)}">run_results.json</a>'
    body.append(f'<p class="muted">{details}.</p>')
    started = run.started_at if run else None
    produced = results.invocation_started_at or results.generated_at
    if started and produced and produced < started - STALE_RESULTS_TOLERANCE:
        body.append(
            '<p class="alert warn" id="dbt-results-stale">These results were produced at '
            f"{esc(timestamp(produced))}, before this run started: they may belong to an "
            "earlier dbt invocation.</p>"
        )
    return "".join(body) + "</section>"


def _node_table(nodes: Sequence[NodeResult], table_id: str, kind: str) -> str:
    rows = []
    for node in nodes:
        css = "warn" if node.status == "warn" else "bad"
        rows.append(
            f"<tr{attrs(data_test_status=node.status, data_node=node.unique_id)}>"
            f'<td><span class="badge {css}">{esc(node.status)}</span></td>'
            f'<td><code title="{esc(node.unique_id)}">{esc(node.name)}</code></td>'
            f"{_num_cell(node.failures)}"
            f'<td class="message">{esc(node.message or "")}</td></tr>'
        )
    head = [("Status", False), (kind, False), ("Failing rows", True), ("Message", False)]
    return _table(head, rows, id=table_id)


def visible_bins(bins: Sequence[HistogramBin]) -> list[HistogramBin]:
    """0–25 m/s always, plus whatever bins outside that range hold values."""
    low, high = HISTOGRAM_ALWAYS
    filled = [b.index for b in bins if b.count]
    low = min([low, *filled])
    high = max([high, *filled])
    return [b for b in bins if low <= b.index <= high]


def wind_histogram(bins: Sequence[HistogramBin], origin: str) -> str:
    body = ['<section id="wind-speed"><h2>Wind speed distribution</h2>']
    if not bins:
        body.append(
            '<p class="alert" id="wind-histogram-missing">No wind-speed figures: neither '
            "<code>quality.quality_wind_speed_distribution</code> nor "
            "<code>core.fct_turbine_measurements</code> is there.</p>"
        )
        return "".join(body) + "</section>"
    shown = visible_bins(bins)
    total = sum(b.count for b in bins)
    svg = histogram_svg(
        [Bar(b.label, b.count, b.lower, b.upper) for b in shown],
        title="Histogram of the 10-minute mean wind speed, all turbines, 1 m/s bins",
        x_label="10-minute mean wind speed (m/s)",
        y_label="10-minute periods",
        unit="m/s",
        value_noun="periods",
        chart_id="wind-histogram",
    )
    body.append(
        f"<figure{attrs(id='wind-speed-histogram', data_total=total)}>{svg}"
        f"<figcaption>{esc(number(total))} ten-minute periods with a wind speed, all turbines "
        f"(gaps and missing values not counted). Source: <code>{esc(origin)}</code>."
        "</figcaption></figure>"
    )
    rows = "".join(
        f"<tr><td>{esc(b.label)}</td>{_num_cell(b.count)}</tr>" for b in shown if b.count
    )
    body.append(
        "<details><summary>Bin counts</summary>"
        + _table([("Wind speed (m/s)", False), ("Periods", True)], [rows], id="wind-bins")
        + "</details>"
    )
    return "".join(body) + "</section>"


def trend(runs: Sequence[TrendRun], context: PageContext, run_id: str) -> str:
    body = ['<section id="trend-section"><h2>Last runs</h2>']
    if not runs:
        body.append('<p class="muted">No run recorded yet.</p>')
        return "".join(body) + "</section>"
    rows = []
    for item in runs:
        current = item.run_id == run_id
        if current:
            label = f"<code>{esc(item.run_id)}</code> (this run)"
        elif item.run_id in context.run_pages:
            link = f"../{item.run_id}/index.html"
            label = f'<a href="{esc(link)}"><code>{esc(item.run_id)}</code></a>'
        else:
            label = f"<code>{esc(item.run_id)}</code>"
        rows.append(
            f"<tr{attrs(class_='current' if current else None, data_run_id=item.run_id)}"
            f"{attrs(data_status=item.status, data_rows_loaded=item.rows_loaded)}>"
            f"<td>{esc(timestamp(item.started_at))}</td><td>{label}</td>"
            f"<td>{status_badge(item.status)}</td>{_num_cell(item.rows_loaded)}"
            f'<td class="num">{esc(duration(item.duration))}</td></tr>'
        )
    head = [
        ("Started", False),
        ("Run", False),
        ("Status", False),
        ("Rows loaded", True),
        ("Duration", True),
    ]
    body.append(_table(head, rows, id="trend"))
    body.append(sections.trend_charts(context.history))
    return "".join(body) + "</section>"


def render(figures: Figures, context: PageContext) -> str:
    """The whole page for one run."""
    parts = [
        header(figures),
        '<nav><a href="#comparison">Against previous runs</a>'
        '<a href="#extracted">Rows extracted</a><a href="#rejected">Rejected</a>'
        '<a href="#marts">Marts</a><a href="#completeness-section">Completeness</a>'
        '<a href="#qc-flags">QC flags</a><a href="#volume">Volume</a>'
        '<a href="#dbt-tests">dbt tests</a><a href="#wind-speed">Wind speed</a>'
        '<a href="#power-curve-section">Power curve</a>'
        '<a href="#trend-section">Last runs</a><a href="#elementary">Elementary</a></nav>',
        sections.comparison(history.compare(context.history)) if context.history else "",
        rows_extracted(figures.sources, figures.run),
        rejected(figures.rejected),
        marts(figures.marts),
        completeness(figures.completeness, figures.completeness_origin),
        sections.qc_flags(figures.qc_flags),
        sections.volume(figures.volume, figures.volume_window),
        dbt_tests(context, figures.run),
        wind_histogram(figures.histogram, figures.histogram_origin),
        sections.power_curve(figures.power_curve),
        trend(figures.trend, context, figures.run_id),
        sections.elementary(context.elementary),
    ]
    footer = (
        f"<footer>Generated {esc(timestamp(context.generated_at))} by "
        "<code>loaders.reports</code> from the warehouse as read at "
        f"{esc(timestamp(figures.collected_at))}. Times are UTC.</footer>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Data quality · run {esc(figures.run_id)}</title>"
        f"<style>{STYLE}</style></head>\n"
        f"<body{attrs(data_run_id=figures.run_id)}>\n"
        + "\n".join(part for part in parts if part)
        + f"\n{footer}\n</body></html>\n"
    )
