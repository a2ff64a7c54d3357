"""The page's sections on anomalies, distributions, history and Elementary, as HTML.

Same rules as `page`: every value escaped through `markup`, every figure a test reads
carried by a `data-*` attribute, no script, no network. `page.render` places them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from loaders.reports import volume as volume_rules
from loaders.reports.charts import Point, scatter_svg, sparkline_svg
from loaders.reports.elementary import ElementaryOutcome
from loaders.reports.figures import PowerCurve, QcFlags, flag_kind
from loaders.reports.history import MEASURES, Comparison, KeyFigures, Measure
from loaders.reports.markup import attrs, esc, num_cell, number, table
from loaders.reports.volume import VolumeDay, VolumeSeries

# The scatter's axes: wind from 0 to at least cut-out; power from a little below zero to
# a little above rated (values beyond are pinned to the edge and counted).
SCATTER_WIND_MIN_TOP = 25.0
SCATTER_POWER_MARGIN = 1.15
# Above this many volume series, turbines without an unusual day are folded away.
VOLUME_SERIES_SHOWN = 12


def _figure(value: float | None, measure: Measure) -> str:
    if value is None:
        return "—"
    if measure.decimals == 0:
        return f"{round(value):,}"
    text = f"{value:,.{measure.decimals}f}"
    return f"{text} {measure.unit}".strip()


def ordinal(value: int) -> str:
    """2 -> '2nd', 3 -> '3rd', 11 -> '11th', 21 -> '21st'."""
    if 10 <= value % 100 <= 20:
        return f"{value}th"
    return f"{value}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(value % 10, 'th') }"


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _data(value: float | None, measure: Measure) -> str | None:
    if value is None:
        return None
    return f"{value:.{measure.decimals}f}" if measure.decimals else str(round(value))


def comparison(comparisons: Sequence[Comparison]) -> str:
    """This run's key figures against the previous run and the previous runs' median."""
    body = ['<section id="comparison"><h2>This run against the previous runs</h2>']
    compared = max((c.runs_compared for c in comparisons), default=0)
    if compared == 0:
        body.append(
            '<p class="muted" id="comparison-first">No earlier run is recorded: this run\'s '
            "figures are the first reference. They are kept in <code>summary.json</code> "
            "beside this page for the next runs.</p>"
        )
    else:
        body.append(
            '<p class="muted">Previous run: the run recorded just before this one. Median: of '
            f"the earlier runs listed under <em>Last runs</em> ({esc(plural(compared, 'run'))} "
            "at most; a run that wrote no page recorded only its rows, status and duration). "
            "Green is better, red worse.</p>"
        )
    rows = []
    for item in comparisons:
        measure = item.measure
        change = item.change
        verdict = item.verdict
        css = {"better": "good", "worse": "bad"}.get(verdict)
        change_text = "—"
        if change is not None:
            change_text = ("+" if change > 0 else "") + _figure(change, measure)
            if change == 0:
                change_text = "="
        rows.append(
            f"<tr{attrs(data_measure=measure.key, data_current=_data(item.current, measure))}"
            f"{attrs(data_previous=_data(item.previous, measure))}"
            f"{attrs(data_median=_data(item.median, measure), data_verdict=verdict or None)}>"
            f"<td>{esc(measure.label)}</td>"
            f'<td class="num"><strong>{esc(_figure(item.current, measure))}</strong></td>'
            f'<td class="num">{esc(_figure(item.previous, measure))}</td>'
            f"<td{attrs(class_=f'num {css}' if css else 'num')}>{esc(change_text)}</td>"
            f'<td class="num">{esc(_figure(item.median, measure))}</td></tr>'
        )
    head = [
        ("Figure", False),
        ("This run", True),
        ("Previous run", True),
        ("Change", True),
        ("Median of previous runs", True),
    ]
    body.append(table(head, rows, id="comparison-table"))
    return "".join(body) + "</section>"


def qc_flags(flags: QcFlags | None) -> str:
    """QC flags raised, by type and by turbine (fact table's boolean flag columns)."""
    body = ['<section id="qc-flags"><h2>QC flags by type and turbine</h2>']
    if flags is None or not flags.turbines:
        body.append(
            '<p class="alert" id="qc-flags-missing">No QC flags to count: '
            "<code>core.fct_turbine_measurements</code> is not there or is empty.</p>"
        )
        return "".join(body) + "</section>"
    total_rows = sum(flags.rows.values())
    flagged = flags.total_flagged_rows
    body.append(
        f"<p{attrs(id='qc-flags-summary', data_flagged_rows=flagged, data_rows=total_rows)}>"
        f"{esc(number(flagged))} of {esc(number(total_rows))} ten-minute periods carry at least "
        "one QC flag. A flag marks a row, it never drops it (the row stays in the fact with "
        "<code>is_valid = false</code>).</p>"
    )
    kinds: dict[str, int] = {}
    for flag in flags.flags:
        kind, _ = flag_kind(flag)
        kinds[kind] = kinds.get(kind, 0) + flags.total(flag)
    items = "".join(
        f"<li{attrs(data_flag_kind=kind, data_count=count)}>{esc(kind)}: "
        f"<strong>{esc(number(count))}</strong></li>"
        for kind, count in kinds.items()
    )
    body.append(f'<ul class="kinds" id="qc-flag-kinds">{items}</ul>')
    raised = [flag for flag in flags.flags if flags.total(flag)]
    silent = [flag for flag in flags.flags if not flags.total(flag)]
    head = "".join(
        f'<th class="num" title="{esc(flag)}">{esc(flag_kind(flag)[0])}<br>'
        f'<span class="muted">{esc(flag_kind(flag)[1].replace("_", " "))}</span></th>'
        for flag in raised
    )
    rows = []
    for turbine in flags.turbines:
        cells = "".join(
            num_cell(
                flags.count(flag, turbine),
                data_flag=flag,
                data_turbine=turbine,
                data_count=flags.count(flag, turbine),
            )
            for flag in raised
        )
        count = flags.flagged_rows.get(turbine, 0)
        rows.append(
            f"<tr{attrs(data_turbine_flags=turbine)}><td><strong>{esc(turbine)}</strong></td>"
            f"{cells}{num_cell(count, data_flagged_turbine=turbine, data_count=count)}</tr>"
        )
    totals = "".join(
        num_cell(flags.total(flag), data_flag_total=flag, data_count=flags.total(flag))
        for flag in raised
    )
    rows.append(f'<tr class="subtotal"><td>All turbines</td>{totals}{num_cell(flagged)}</tr>')
    body.append(
        '<div class="scroll"><table class="matrix flags" id="qc-flag-table"><thead><tr>'
        f'<th>Turbine</th>{head}<th class="num">Periods with a flag</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    if silent:
        names = ", ".join(
            f"<code{attrs(class_='small', data_silent_flag=flag)}>{esc(flag)}</code>"
            for flag in silent
        )
        body.append(
            f"<details><summary>{esc(plural(len(silent), 'other flag column'))} raised no "
            f'flag</summary><p class="muted" id="qc-flags-silent">{names}</p></details>'
        )
    body.append(
        f'<p class="muted">Source: <code>{esc(flags.origin)}</code>, every boolean '
        "<code>is_*</code>/<code>has_*</code> column except <code>is_gap</code> and "
        "<code>is_valid</code> (a flag column added to the model shows here by itself).</p>"
    )
    return "".join(body) + "</section>"


def _band(day: VolumeDay) -> str:
    if day.lower is None or day.upper is None:
        return "—"
    return f"{max(0.0, day.lower):,.1f} – {day.upper:,.1f}"


def _volume_data(day: VolumeDay) -> dict[str, object]:
    return {
        "data_day": day.day.isoformat(),
        "data_rows": day.rows,
        "data_history_days": day.history_days,
        "data_median": None if day.median is None else f"{day.median:.2f}",
        "data_mad": None if day.mad is None else f"{day.mad:.2f}",
        "data_outside": "true" if day.is_outside else "false",
    }


def volume(series: Sequence[VolumeSeries], window: tuple[date, date] | None) -> str:
    """Rows per day per turbine and per raw table, days outside the usual range listed."""
    body = ['<section id="volume"><h2>Volume change against the usual</h2>']
    if not series or window is None:
        body.append(
            '<p class="muted" id="volume-missing">No daily volumes to judge: the fact and '
            "raw tables are empty or missing.</p>"
        )
        return "".join(body) + "</section>"
    judged = sum(len(s.judged_days) for s in series)
    outside = [(s, day) for s in series for day in s.outside_days]
    body.append(
        f"<p{attrs(id='volume-summary', data_days_judged=judged, data_days_outside=len(outside))}>"
        f"{esc(len(outside))} of {esc(judged)} series-days from {esc(window[0].isoformat())} to "
        f"{esc(window[1].isoformat())} lie outside their usual range.</p>"
    )
    body.append(
        '<p class="muted">A day is judged against the '
        f"{volume_rules.HISTORY_DAYS} days before it (at least "
        f"{volume_rules.MIN_HISTORY_DAYS}): usual range = median ± max("
        f"{volume_rules.MADS:g} × MAD, {volume_rules.TOLERANCE_PCT:g} % of the median), MAD "
        "being the median absolute deviation. Turbines: 10-minute periods with a source row "
        "per UTC day. Raw tables: rows per day of their date column; a day without rows "
        "counts as 0 (the monthly production export only up to its last delivered day).</p>"
    )
    shown, usual = [], []
    for item in series:
        last = item.days[-1] if item.days else None
        values = [float(day.rows) for day in item.days]
        spark = sparkline_svg(values, label=f"{item.series}: rows per day") if values else ""
        row = (
            f"<tr{attrs(data_series=item.series, data_kind=item.kind)}"
            f"{attrs(data_days_judged=len(item.judged_days))}"
            f"{attrs(data_days_outside=len(item.outside_days))}"
            f"{attrs(class_='bad-row' if item.outside_days else None)}>"
            f"<td><code>{esc(item.series)}</code></td><td>{esc(item.kind)}</td>"
            f"{num_cell(len(item.judged_days))}{num_cell(len(item.outside_days))}"
            f"{num_cell(last.rows if last else None)}"
            f'<td class="num">{esc(_band(last) if last else "—")}</td><td>{spark}</td></tr>'
        )
        quiet = item.kind == "turbine" and not item.outside_days
        (usual if quiet and len(series) > VOLUME_SERIES_SHOWN else shown).append(row)
    head = [
        ("Series", False),
        ("Kind", False),
        ("Days judged", True),
        ("Days outside", True),
        ("Rows on the last day", True),
        ("Usual range that day", True),
        ("Rows per day", False),
    ]
    body.append(table(head, shown, id="volume-series"))
    if usual:  # a large fleet: the turbines with nothing unusual are folded away
        body.append(
            f"<details><summary>{esc(plural(len(usual), 'turbine'))} with every day usual"
            f"</summary>{table(head, usual, id='volume-series-usual')}</details>"
        )
    if outside:
        lines = [
            f"<tr{attrs(data_volume_outside=s.series, **_volume_data(day))}>"
            f"<td><code>{esc(s.series)}</code></td><td>{esc(day.day.isoformat())}</td>"
            f'{num_cell(day.rows)}<td class="num">{esc(f"{day.median:,.1f}")}</td>'
            f'<td class="num">{esc(_band(day))}</td></tr>'
            for s, day in outside
            if day.median is not None
        ]
        head = [
            ("Series", False),
            ("Day", False),
            ("Rows", True),
            ("Median", True),
            ("Usual range", True),
        ]
        body.append("<h3>Days outside the usual range</h3>")
        body.append(table(head, lines, id="volume-outside"))
    else:
        body.append('<p class="ok-line" id="volume-all-usual">Every judged day is usual.</p>')
    return "".join(body) + "</section>"


def _scatter_ranges(curve: PowerCurve) -> tuple[tuple[float, float], tuple[float, float]]:
    winds = [p.wind_speed for p in curve.points]
    powers = [p.active_power for p in curve.points]
    wind_top = max([SCATTER_WIND_MIN_TOP, *[w for w in winds if w <= 40]])
    x_range = (0.0, float(math.ceil(wind_top / 5) * 5))
    if curve.rated_power_kw:
        top = curve.rated_power_kw * SCATTER_POWER_MARGIN
    else:
        top = max([100.0, *powers])
    bottom = min(0.0, max(-0.1 * top, min(powers, default=0.0)))
    return x_range, (bottom, top)


def power_curve(curve: PowerCurve | None) -> str:
    """Power against wind speed, flagged periods marked, the manufacturer's curve drawn."""
    body = ['<section id="power-curve-section"><h2>Power curve</h2>']
    if curve is None:
        body.append(
            '<p class="alert" id="power-curve-missing">No power curve: '
            "<code>core.fct_turbine_measurements</code> is not there.</p>"
        )
        return "".join(body) + "</section>"
    x_range, y_range = _scatter_ranges(curve)
    points = [Point(p.wind_speed, p.active_power, p.is_flagged) for p in curve.points]
    lines = [(f"{model} (manufacturer)", line) for model, line in curve.reference.items()]
    svg = scatter_svg(
        points,
        x_range=x_range,
        y_range=y_range,
        title="Active power against wind speed, 10-minute means, all turbines",
        x_label="10-minute mean wind speed (m/s)",
        y_label="10-minute mean active power (kW)",
        lines=lines,
        chart_id="power-curve",
    )
    shown_flagged = sum(1 for p in curve.points if p.is_flagged)
    clipped = sum(
        1
        for p in points
        if not (x_range[0] <= p.x <= x_range[1] and y_range[0] <= p.y <= y_range[1])
    )
    figure_attrs = attrs(
        id="power-curve-figure",
        data_points_total=curve.total_points,
        data_points_flagged=curve.flagged_points,
        data_points_shown=len(curve.points),
        data_points_shown_flagged=shown_flagged,
        data_step=curve.step,
        data_flagged_step=curve.flagged_step,
        data_points_clipped=clipped,
    )
    if curve.is_sampled:
        flagged_part = (
            "every flagged period"
            if curve.flagged_step == 1
            else f"every {ordinal(curve.flagged_step)} flagged period"
        )
        sample = (
            f' <strong id="power-curve-sampled">Sampled: {esc(number(len(curve.points)))} of '
            f"{esc(number(curve.total_points))} periods drawn — {esc(flagged_part)} and every "
            f"{esc(ordinal(curve.step))} other period of the 10-minute time grid, for every "
            "turbine (the same data always gives the same picture).</strong>"
        )
    else:
        sample = f" All {esc(number(curve.total_points))} periods are drawn."
    caption = (
        f"{esc(number(curve.total_points))} ten-minute periods with both a wind speed and an "
        f"active power, {esc(number(curve.flagged_points))} of them with a QC flag (red)."
        f"{sample}"
    )
    if clipped:
        caption += f" {esc(plural(clipped, 'point'))} beyond the axes pinned to the edge."
    if lines:
        caption += " Dashed: the manufacturer's power curve (seed power_curves)."
    caption += f" Source: <code>{esc(curve.origin)}</code>."
    body.append(f"<figure{figure_attrs}>{svg}<figcaption>{caption}</figcaption></figure>")
    body.append(
        '<p class="legend"><span class="dot ok-dot"></span> period without flag '
        '<span class="dot flag-dot"></span> period with at least one QC flag</p>'
    )
    return "".join(body) + "</section>"


def trend_charts(runs: Sequence[KeyFigures]) -> str:
    """One sparkline per key figure over the runs shown (oldest left, this run the dot)."""
    if len(runs) < 1:
        return ""
    ordered = list(reversed(runs))
    rows = []
    for measure in MEASURES:
        values = [getattr(run, measure.key) for run in ordered]
        floats = [None if v is None else float(v) for v in values]
        known = [v for v in floats if v is not None]
        spark = sparkline_svg(floats, label=f"{measure.label} over the last {len(runs)} runs")
        rows.append(
            f"<tr{attrs(data_trend=measure.key, data_runs=len(values))}>"
            f"<td>{esc(measure.label)}</td><td>{spark}</td>"
            f'<td class="num">{esc(_figure(min(known) if known else None, measure))}</td>'
            f'<td class="num">{esc(_figure(max(known) if known else None, measure))}</td>'
            f'<td class="num"><strong>{esc(_figure(floats[-1], measure))}</strong></td></tr>'
        )
    head = [
        ("Figure", False),
        (f"Last {len(runs)} runs", False),
        ("Lowest", True),
        ("Highest", True),
        ("This run", True),
    ]
    return "<h3>Key figures over the last runs</h3>" + table(head, rows, id="trend-charts")


def elementary(outcome: ElementaryOutcome | None) -> str:
    """The link to Elementary's report, or one sentence saying why there is none."""
    body = ['<section id="elementary"><h2>Elementary report</h2>']
    if outcome is None:
        body.append(
            '<p class="muted" data-elementary-status="unknown">The Elementary step did not run '
            "for this page.</p>"
        )
    elif outcome.status == "written" and outcome.report_file:
        body.append(
            f"<p{attrs(data_elementary_status=outcome.status)}>Elementary's report for this "
            f'run (its own monitors, test history and lineage): <a id="elementary-link" '
            f'href="{esc(outcome.report_file)}">{esc(outcome.report_file)}</a>. It is one '
            "self-contained file, opened from disk like this page.</p>"
        )
    elif outcome.status == "absent":
        body.append(
            f'<p class="muted"{attrs(data_elementary_status=outcome.status)}>'
            f"No Elementary report for this run: {esc(outcome.message)} "
            "(docs/quality.md says how).</p>"
        )
    else:
        body.append(
            f'<p class="alert warn"{attrs(data_elementary_status=outcome.status)}>'
            f"The Elementary report could not be written: {esc(outcome.message)}</p>"
        )
    return "".join(body) + "</section>"
