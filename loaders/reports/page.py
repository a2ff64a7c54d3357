"""The quality page as one self-contained HTML document, from Jinja2 templates.

Self-contained on purpose: the page is opened from disk (`file://`), mailed, archived
with the run, so it carries its own style (`static/quality.css`, inlined), draws its
charts as inline SVG, and a Content-Security-Policy forbids any network fetch: a page
that looks right offline once looks right everywhere. Figures that tests check carry
`data-*` attributes or ids, so a test reads numbers from the page rather than its
wording, which changes with the language (`language`).

The templates (`templates/`, autoescape on) place what this module prepares: the
derived views of each section (which cells, which rows, which order) are computed here
in plain Python, so that the templates hold markup and words only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from loaders.reports import history
from loaders.reports import volume as volume_rules
from loaders.reports.charts import Bar, Point, histogram_svg, scatter_svg, sparkline_svg
from loaders.reports.dbt_results import DbtResults
from loaders.reports.elementary import ElementaryOutcome
from loaders.reports.figures import Completeness, Figures, HistogramBin, PowerCurve
from loaders.reports.language import Language
from loaders.reports.volume import VolumeDay, VolumeSeries

GOOD_PCT = 98.0
WARN_PCT = 90.0
STATUS_GRADES = {"success": "good", "partial": "warn", "failed": "bad", "running": "neutral"}
# The histogram always spans 0 to 25 m/s (cut-out), wider when values fall outside.
HISTOGRAM_ALWAYS = (0, 24)
# dbt results generated this long before the run started belong to an earlier run.
STALE_RESULTS_TOLERANCE = timedelta(minutes=5)
# The scatter's axes: wind from 0 to at least cut-out; power from a little below zero to
# a little above rated (values beyond are pinned to the edge and counted).
SCATTER_WIND_MIN_TOP = 25.0
SCATTER_POWER_MARGIN = 1.15
# Above this many volume series, turbines without an unusual day are folded away.
VOLUME_SERIES_SHOWN = 12
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
    # The auditor's checks the run journalled (loaders/run/security_checks.py), or None.
    security: dict[str, dict[str, Any]] | None = None


def grade(pct: float) -> str:
    """Completeness colour class: good ≥ 98 %, warn ≥ 90 %, bad below."""
    if pct >= GOOD_PCT:
        return "good"
    if pct >= WARN_PCT:
        return "warn"
    return "bad"


def timestamp(value: datetime | None) -> str:
    """A UTC timestamp as the page shows it, in every language (ISO 8601 reads the same)."""
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(value: timedelta | None, lang: Language | None = None) -> str:
    """A run's length, `1 h 02 min 03 s`, `4 min 05 s` or `7.2 s` (`7,2 s` in French)."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{lang.number(seconds, 1) if lang else f'{seconds:.1f}'} s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s"


def seconds(value: timedelta | None) -> str | None:
    return None if value is None else f"{value.total_seconds():.3f}"


# --- views: what each section shows, decided here rather than in the templates ----------


def visible_bins(bins: Sequence[HistogramBin]) -> list[HistogramBin]:
    """0–25 m/s always, plus whatever bins outside that range hold values."""
    low, high = HISTOGRAM_ALWAYS
    filled = [b.index for b in bins if b.count]
    low = min([low, *filled])
    high = max([high, *filled])
    return [b for b in bins if low <= b.index <= high]


@dataclass(frozen=True)
class CompletenessView:
    signals: list[str]
    turbines: list[str]
    cells: dict[tuple[str, str], Completeness]
    below: int
    worst: Completeness | None

    def present(self, turbine: str) -> Completeness:
        """The turbine's row with the fewest periods present (the same for every signal)."""
        rows = [self.cells[(turbine, s)] for s in self.signals if (turbine, s) in self.cells]
        return min(rows, key=lambda row: row.pct_present)


def completeness_view(rows: Sequence[Completeness]) -> CompletenessView:
    below = [row for row in rows if grade(row.pct_non_null) != "good"]
    return CompletenessView(
        signals=list(dict.fromkeys(row.signal for row in rows)),
        turbines=list(dict.fromkeys(row.turbine_id for row in rows)),
        cells={(row.turbine_id, row.signal): row for row in rows},
        below=len(below),
        worst=min(rows, key=lambda r: (r.pct_non_null, r.turbine_id, r.signal)) if below else None,
    )


def band(day: VolumeDay, lang: Language) -> str:
    if day.lower is None or day.upper is None:
        return "—"
    return f"{lang.number(max(0.0, day.lower), 1)} – {lang.number(day.upper, 1)}"


@dataclass(frozen=True)
class VolumeView:
    shown: list[VolumeSeries]
    usual: list[VolumeSeries]  # a large fleet: turbines with nothing unusual, folded away
    outside: list[tuple[VolumeSeries, VolumeDay]]
    judged: int


def volume_view(series: Sequence[VolumeSeries]) -> VolumeView:
    shown, usual = [], []
    for item in series:
        quiet = item.kind == "turbine" and not item.outside_days
        (usual if quiet and len(series) > VOLUME_SERIES_SHOWN else shown).append(item)
    return VolumeView(
        shown=shown,
        usual=usual,
        outside=[(s, day) for s in series for day in s.outside_days if day.median is not None],
        judged=sum(len(s.judged_days) for s in series),
    )


def scatter_ranges(curve: PowerCurve) -> tuple[tuple[float, float], tuple[float, float]]:
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


@dataclass(frozen=True)
class PowerCurveView:
    svg: Markup
    shown_flagged: int
    clipped: int


def power_curve_view(curve: PowerCurve, lang: Language) -> PowerCurveView:
    x_range, y_range = scatter_ranges(curve)
    points = [Point(p.wind_speed, p.active_power, p.is_flagged) for p in curve.points]
    svg = scatter_svg(
        points,
        x_range=x_range,
        y_range=y_range,
        title=lang.text("power_curve.chart_title"),
        x_label=lang.text("power_curve.x_label"),
        y_label=lang.text("power_curve.y_label"),
        lines=[
            (lang.text("power_curve.manufacturer", model=model), line)
            for model, line in curve.reference.items()
        ],
        chart_id="power-curve",
        empty_text=lang.text("chart.empty"),
        number=lambda value: lang.number(value, 0 if float(value).is_integer() else 1),
    )
    clipped = sum(
        1
        for p in points
        if not (x_range[0] <= p.x <= x_range[1] and y_range[0] <= p.y <= y_range[1])
    )
    return PowerCurveView(svg, sum(1 for p in curve.points if p.is_flagged), clipped)


def histogram_chart(bins: Sequence[HistogramBin], lang: Language) -> Markup:
    return histogram_svg(
        [Bar(b.label, b.count, b.lower, b.upper) for b in bins],
        title=lang.text("wind.chart_title"),
        x_label=lang.text("wind.x_label"),
        y_label=lang.text("wind.y_label"),
        unit="m/s",
        value_noun=lang.text("wind.value_noun"),
        chart_id="wind-histogram",
        empty_text=lang.text("chart.empty"),
        number=lambda value: lang.number(value),
    )


def measure_figure(value: float | None, measure: history.Measure, lang: Language) -> str:
    if value is None:
        return "—"
    return f"{lang.number(value, measure.decimals)} {measure.unit}".strip()


def measure_data(value: float | None, measure: history.Measure) -> str | None:
    """A key figure as `data-*` attributes carry it: fixed decimals, no grouping."""
    if value is None:
        return None
    return f"{value:.{measure.decimals}f}" if measure.decimals else str(round(value))


@dataclass(frozen=True)
class TrendLine:
    measure: history.Measure
    values: list[float | None]
    sparkline: Markup

    @property
    def known(self) -> list[float]:
        return [v for v in self.values if v is not None]


def trend_lines(runs: Sequence[history.KeyFigures], lang: Language) -> list[TrendLine]:
    """One sparkline per key figure over the runs shown (oldest left, this run the dot)."""
    ordered = list(reversed(runs))
    lines = []
    for measure in history.MEASURES:
        values = [getattr(run, measure.key) for run in ordered]
        floats = [None if v is None else float(v) for v in values]
        label = lang.text(
            "trend.sparkline", figure=lang.text(f"measure.{measure.key}"), runs=len(runs)
        )
        lines.append(TrendLine(measure, floats, sparkline_svg(floats, label=label)))
    return lines


@dataclass(frozen=True)
class Anomaly:
    """One line of the anomalies section: a check, what it found in this run, where to look."""

    check: str  # key of the check (data-anomaly), its label in the catalogue
    count: int | None  # None: the check did not run or its figures are missing
    link: str  # an anchor on this page or a file beside it
    detail: str = ""  # catalogue key of a note, when there is one


def anomalies(figures: Figures, context: PageContext) -> list[Anomaly]:
    """What every check found in this run, gathered in one table (issue of the seed:
    "anomalies detected"): QC flags by type, implausible values (the SCADA's out of the
    plausible range; the exports' and the weather's, set to null in core), days with an
    unusual volume, dbt tests not passed, Elementary's monitors."""
    found = []
    flags = figures.qc_flags
    by_type = flags.total_by_type() if flags else {}
    found.append(
        Anomaly("qc_flagged_periods", flags.total_flagged_rows if flags else None, "#qc-flags")
    )
    for flag_type, count in by_type.items():
        found.append(Anomaly(f"flag.{flag_type}", count, "#qc-flags"))
    found.append(
        Anomaly(
            "implausible_values",
            by_type.get("out_of_range") if flags else None,
            "#qc-flags",
            "anomalies.implausible_note",
        )
    )
    implausible = figures.implausible
    found.append(
        Anomaly(
            "implausible_source_values",
            sum(m.implausible for m in implausible) if implausible is not None else None,
            "#implausible",
            "anomalies.implausible_source_note",
        )
    )
    found.append(
        Anomaly(
            "volume_days_outside",
            sum(len(s.outside_days) for s in figures.volume) if figures.volume else None,
            "#volume",
        )
    )
    dbt = context.dbt
    for status, statuses in (
        ("fail", ("fail",)),
        ("error", ("error", "runtime error")),
        ("warn", ("warn",)),
    ):
        count = sum(1 for t in dbt.test_problems if t.status in statuses) if dbt else None
        found.append(Anomaly(f"dbt_tests_{status}", count, "#dbt-tests"))
    rejected = figures.rejected
    this_run = [t.rows_this_run for t in rejected or () if t.rows_this_run is not None]
    found.append(
        Anomaly("rows_rejected", sum(this_run) if rejected is not None else None, "#rejected")
    )
    elementary = figures.elementary
    report = context.elementary
    link = (
        report.report_file
        if report is not None and report.status == "written" and report.report_file
        else "#elementary"
    )
    if elementary is None or not elementary.installed:
        found.append(Anomaly("elementary", None, link, "anomalies.elementary_absent"))
    else:
        found.append(Anomaly("elementary", len(elementary.anomalies), link))
    return found


# --- rendering -----------------------------------------------------------------------------


@cache
def environment() -> jinja2.Environment:
    """The templates, autoescaped (every value from the warehouse or a file is escaped)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("loaders.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        grade=grade,
        timestamp=timestamp,
        seconds=seconds,
        status_grades=STATUS_GRADES,
        good_pct=GOOD_PCT,
        warn_pct=WARN_PCT,
    )
    return env


@cache
def style() -> str:
    """The page's CSS, inlined into its <style> (static/quality.css)."""
    return (
        resources.files("loaders.reports")
        .joinpath("static", "quality.css")
        .read_text(encoding="utf-8")
    )


def render(figures: Figures, context: PageContext, lang: Language) -> str:
    """The whole page for one run, in `lang`."""
    run = figures.run
    dbt = context.dbt
    started = run.started_at if run else None
    produced = (dbt.invocation_started_at or dbt.generated_at) if dbt else None
    window: tuple[date, date] | None = figures.volume_window
    return (
        environment()
        .get_template("page.html.j2")
        .render(
            f=figures,
            run=run,
            ctx=context,
            L=lang,
            t=lang.text,
            n=lang.number,
            pct=lang.percent,
            duration=lambda value: duration(value, lang),
            css=Markup(style()),  # noqa: S704 - the package's own stylesheet
            csp=CSP,
            comparisons=history.compare(context.history) if context.history else [],
            measure_figure=lambda value, measure: measure_figure(value, measure, lang),
            measure_data=measure_data,
            completeness=completeness_view(figures.completeness),
            volume=volume_view(figures.volume),
            volume_window=window,
            band=lambda day: band(day, lang),
            volume_rules=volume_rules,
            sparkline=sparkline_svg,
            histogram_bins=visible_bins(figures.histogram),
            histogram_chart=(
                histogram_chart(visible_bins(figures.histogram), lang)
                if figures.histogram
                else None
            ),
            power_curve=(
                power_curve_view(figures.power_curve, lang) if figures.power_curve else None
            ),
            trend_lines=trend_lines(context.history, lang) if context.history else [],
            anomalies=anomalies(figures, context),
            dbt_stale=bool(started and produced and produced < started - STALE_RESULTS_TOLERANCE),
            dbt_produced=produced,
        )
    )
