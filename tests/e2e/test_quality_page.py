"""The quality page of the demo month: its figures equal SQL, and a real browser shows it offline.

The page is read back through its `data-*` attributes and ids (never its wording), and each
figure is recomputed here with SQL written independently of `loaders.reports` and of the
quality marts it reads (from the fact and raw tables). The browser tests open the page
from disk in headless Chromium, with the network features turned off, and check what was
rendered, in English (the run's page) and in French (the same run's page written again
with `report_language = fr`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from warehouse_sql import query, scalar

from loaders import warehouse
from loaders.reports import figures, write_report
from loaders.settings import Settings, load_settings

CRITICAL_SIGNALS = (
    "wind_speed",
    "active_power",
    "rotor_speed",
    "pitch_angle",
    "gearbox_oil_temp",
    "gearbox_bearing_temp",
    "generator_stator_temp",
    "ambient_temp",
)
REQUIRED_SIGNALS = (
    "wind_speed",
    "active_power",
    "gearbox_bearing_temp",
    "gearbox_oil_temp",
    "ambient_temp",
)
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
BROWSER_TIMEOUT_S = 180
WINDOW = (1280, 2400)
# A resource fetched from elsewhere: src/href/url() with a scheme or protocol-relative URL.
EXTERNAL_REFERENCE = re.compile(
    r"""(?:\b(?:src|href|xlink:href|action|poster|srcset)\s*=\s*["']?\s*"""
    r"""|url\(\s*["']?\s*|@import\s+["']?)(?:[a-z][a-z0-9+.-]*:|//)""",
    re.IGNORECASE,
)


VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class Page(HTMLParser):
    """The page's tags with their attributes, and the text of the elements with an id."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._open: list[tuple[str, str | None]] = []
        self.texts: dict[str, str] = {}  # text of each element with an id, spaces collapsed
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        attrs = dict(attributes)
        self.tags.append((tag, attrs))
        if tag not in VOID_ELEMENTS:
            self._open.append((tag, attrs.get("id")))

    def handle_startendtag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attributes)))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            open_tag, element_id = self._open.pop()
            if element_id:
                self.texts[element_id] = " ".join(self.texts.get(element_id, "").split())
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, element_id in self._open:
            if element_id:
                self.texts[element_id] = self.texts.get(element_id, "") + data

    def having(self, *names: str, **values: str) -> list[dict[str, str | None]]:
        """Attributes of the tags carrying every attribute in `names` and `values`."""
        return [
            attrs
            for _, attrs in self.tags
            if all(name in attrs for name in names)
            and all(attrs.get(key.replace("_", "-")) == value for key, value in values.items())
        ]

    def by_id(self, element_id: str) -> dict[str, str | None]:
        found = [attrs for _, attrs in self.tags if attrs.get("id") == element_id]
        assert len(found) == 1, f"expected one element #{element_id}, found {len(found)}"
        return found[0]


@pytest.fixture(scope="module")
def report(demo) -> Path:  # noqa: ANN001
    _, _, outcome = demo
    assert outcome.report_path, "the run wrote no quality page"
    path = Path(outcome.report_path)
    assert path.is_file()
    return path


@pytest.fixture(scope="module")
def markup(report: Path) -> str:
    return report.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page(markup: str) -> Page:
    return Page(markup)


@pytest.fixture(scope="module")
def audit_row(demo) -> dict:  # noqa: ANN001
    settings, _, outcome = demo
    columns = ("started_at", "ended_at", "status", "date_from", "date_to", "rows_by_source")
    row = query(
        settings,
        f"select {', '.join(columns)}, code_version, report_path "
        "from audit.pipeline_runs where run_id = %s",
        (outcome.run_id,),
    )[0]
    return dict(zip((*columns, "code_version", "report_path"), row, strict=True))


# --- files --------------------------------------------------------------------------------


def test_the_page_shows_the_security_checks_the_run_journalled(page: Page) -> None:
    """The grants, the audit chain and the staff-list scan, as the run recorded them in
    audit.privacy_log (no staff list in the tests: the scan says it did not run)."""
    checks = {
        row["data-security-check"]: row["data-ok"] for row in page.having("data-security-check")
    }
    assert checks == {"grants": "true", "audit_chain": "true", "pii_scan": "true"}
    assert "no staff list" in page.texts["security"]


def test_the_page_latest_and_dbt_results_are_in_place(demo, report: Path, audit_row) -> None:  # noqa: ANN001
    settings, _, outcome = demo
    reports = Path(settings.reports_dir)
    assert report == reports / outcome.run_id / "index.html"
    assert audit_row["report_path"] == str(report)
    latest = reports / "latest"
    assert latest.exists()
    assert latest.resolve() == report.parent.resolve()
    if latest.is_symlink():
        assert not os.path.isabs(os.readlink(latest))  # the reports folder can move
    assert (latest / "index.html").read_bytes() == report.read_bytes()
    results = json.loads((report.parent / "run_results.json").read_text(encoding="utf-8"))
    assert results["results"], "the copied run_results.json lists no node"
    invoked = datetime.fromisoformat(
        results["metadata"]["invocation_started_at"].replace("Z", "+00:00")
    )
    assert invoked >= audit_row["started_at"] - timedelta(minutes=1)  # this run's dbt build


def test_the_page_references_nothing_outside_itself(markup: str, page: Page) -> None:
    assert not EXTERNAL_REFERENCE.search(markup), EXTERNAL_REFERENCE.search(markup)
    assert not [tag for tag, _ in page.tags if tag in ("script", "link", "iframe", "img")]
    for _, attrs in page.tags:
        for name in ("href", "src"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith("#") or not re.match(r"^[a-z][a-z0-9+.-]*:|^//", value)
    policy = [a["content"] for a in page.having("content", http_equiv="Content-Security-Policy")]
    assert policy and "default-src 'none'" in policy[0]


# --- figures against SQL -----------------------------------------------------------------


def test_the_header_is_the_audit_row(demo, page: Page, audit_row: dict) -> None:  # noqa: ANN001
    _, _, outcome = demo
    assert page.texts["run-id"] == outcome.run_id
    assert page.by_id("run-status")["data-status"] == audit_row["status"] == outcome.status
    seconds = (audit_row["ended_at"] - audit_row["started_at"]).total_seconds()
    assert float(page.by_id("run-duration")["data-seconds"]) == pytest.approx(seconds, abs=0.001)
    assert page.texts["run-dates"] == f"{audit_row['date_from']} → {audit_row['date_to']}"
    assert page.texts["run-code-version"] == audit_row["code_version"]
    started = audit_row["started_at"].astimezone(UTC)
    assert page.texts["run-started"] == started.strftime("%Y-%m-%d %H:%M:%S UTC")


def test_rows_extracted_equal_the_audit_row(page: Page, audit_row: dict) -> None:
    expected = {
        (source, table): rows
        for source, details in audit_row["rows_by_source"].items()
        for table, rows in details.get("tables", {}).items()
    }
    shown = {
        (attrs["data-source"], attrs["data-table"]): int(attrs["data-rows"])
        for attrs in page.having("data-source", "data-table", "data-rows")
    }
    assert shown == expected
    assert expected[("sensor_db", "scada_measurements")] > 12_000
    assert int(page.by_id("rows-loaded-total")["data-rows"]) == sum(expected.values())
    for source, details in audit_row["rows_by_source"].items():
        total = page.having(data_source_total=source)[0]
        rejected = details.get("rows_rejected")
        if isinstance(rejected, dict):
            rejected = sum(rejected.values())
        if rejected is not None:
            assert int(total["data-rows-rejected"]) == rejected


def test_rejected_rows_and_marts_equal_sql(demo, page: Page) -> None:  # noqa: ANN001
    settings, _, _ = demo
    tables = [
        name
        for (name,) in query(
            settings,
            "select table_name from information_schema.tables where table_schema = 'raw' "
            "and table_name like %s order by 1",
            ("%\\_\\_rejected",),
        )
    ]
    assert "production_daily__rejected" in tables and "maintenance_log__rejected" in tables
    shown = {a["data-rejected-table"]: a for a in page.having("data-rejected-table")}
    assert set(shown) == {f"raw.{table}" for table in tables}
    for table in tables:
        rows = scalar(settings, f'select count(*) from raw."{table}"')
        assert int(shown[f"raw.{table}"]["data-rows"]) == rows
        top = query(
            settings,
            f'select reason, count(*) from raw."{table}" group by 1 order by 2 desc, 1 limit 1',
        )
        if top:
            assert top[0][0] in [a["data-reason"] for a in page.having("data-reason")]
    csv_rejected = int(shown["raw.production_daily__rejected"]["data-rows"]) + int(
        shown["raw.maintenance_log__rejected"]["data-rows"]
    )
    assert csv_rejected >= 3  # the demo's broken rows
    for mart in ("core.dim_turbine", "core.fct_turbine_measurements", "core.fct_weather_hourly"):
        assert int(page.having(data_mart=mart)[0]["data-rows"]) == scalar(
            settings, f"select count(*) from {mart}"
        )


def test_qc_flags_and_power_curve_cover_the_newest_31_days(demo, page: Page) -> None:  # noqa: ANN001
    settings, _, _ = demo
    first, last = query(
        settings, f"select max(measured_date) - 30, max(measured_date) from {FACT}"
    )[0]
    summary = page.by_id("qc-flags-summary")
    assert (summary["data-first-date"], summary["data-last-date"]) == (str(first), str(last))
    assert page.by_id("power-curve-figure")["data-first-date"] == str(first)
    rows, flagged = query(
        settings,
        f"select count(*), count(*) filter (where qc_flag_count > 0) from {FACT} "
        "where measured_date >= %s",
        (first,),
    )[0]
    assert int(summary["data-rows"]) == rows and int(summary["data-flagged-rows"]) == flagged


def test_completeness_of_one_turbine_matches_sql(demo, page: Page) -> None:  # noqa: ANN001
    settings, _, _ = demo
    # The turbine with the most gaps: the demo's dropouts make its figures non-trivial.
    turbine = scalar(
        settings,
        "select turbine_id from core.fct_turbine_measurements group by turbine_id "
        "order by count(*) filter (where is_gap) desc, turbine_id limit 1",
    )
    counts = ", ".join(f"count({signal}_avg)" for signal in REQUIRED_SIGNALS)
    expected, present, *non_null = query(
        settings,
        f"select count(*), count(*) filter (where not is_gap), {counts} "
        "from core.fct_turbine_measurements where turbine_id = %s",
        (turbine,),
    )[0]
    pct_present, *pct_non_null = query(
        settings,
        "select round(100.0 * %s / %s, 2), "
        + ", ".join("round(100.0 * %s / %s, 2)" for _ in REQUIRED_SIGNALS),
        (present, expected, *[v for n in non_null for v in (n, expected)]),
    )[0]
    assert expected > 0 and present < expected  # the demo's dropouts are gaps
    cells = {a["data-signal"]: a for a in page.having("data-signal", data_turbine=turbine)}
    for signal, count, pct in zip(REQUIRED_SIGNALS, non_null, pct_non_null, strict=True):
        cell = cells[signal]
        assert int(cell["data-expected"]) == expected, signal
        assert int(cell["data-present"]) == present, signal
        assert int(cell["data-non-null"]) == count, signal
        assert cell["data-pct-present"] == f"{pct_present:.2f}", signal
        assert cell["data-pct-non-null"] == f"{pct:.2f}", signal
        grade = "good" if pct >= 98 else "warn" if pct >= 90 else "bad"
        assert cell["data-grade"] == grade and grade in cell["class"].split(), signal
    turbines = {t for (t,) in query(settings, "select turbine_id from core.dim_turbine")}
    for signal in REQUIRED_SIGNALS:
        assert {a["data-turbine"] for a in page.having(data_signal=signal)} == turbines


def test_the_histogram_counts_every_wind_speed(demo, page: Page) -> None:  # noqa: ANN001
    settings, _, _ = demo
    bars = {a["data-bin"]: int(a["data-count"]) for a in page.having("data-bin", "data-count")}
    non_null = scalar(settings, "select count(wind_speed_avg) from core.fct_turbine_measurements")
    assert non_null > 10_000
    assert sum(bars.values()) == non_null
    assert int(page.by_id("wind-speed-histogram")["data-total"]) == non_null
    by_bin = query(
        settings,
        "select floor(wind_speed_avg)::integer, count(*) from core.fct_turbine_measurements "
        "where wind_speed_avg >= 0 and wind_speed_avg < 30 group by 1",
    )
    for lower, count in by_bin:
        assert bars[f"{lower}-{lower + 1}"] == count
    assert len([label for label in bars if re.fullmatch(r"\d+-\d+", label)]) >= 25


def test_the_dbt_section_reports_this_runs_tests(report: Path, page: Page) -> None:
    results = json.loads((report.parent / "run_results.json").read_text(encoding="utf-8"))
    tests = [r for r in results["results"] if r["unique_id"].startswith(("test.", "unit_test."))]
    problems = [r for r in tests if r["status"] in ("fail", "error", "warn", "runtime error")]
    summary = page.by_id("dbt-tests-summary")
    assert int(summary["data-tests-total"]) == len(tests) > 0
    assert int(summary["data-tests-problems"]) == len(problems)
    shown = {a["data-node"]: a["data-test-status"] for a in page.having("data-test-status")}
    for problem in problems:
        assert shown[problem["unique_id"]] == problem["status"]
    if not problems:
        assert page.texts["dbt-tests-summary"] == f"All {len(tests):,} tests passed."


def test_the_trend_lists_the_recorded_runs(demo, page: Page) -> None:  # noqa: ANN001
    settings, _, outcome = demo
    rows = page.having("data-run-id", "data-rows-loaded")
    assert 1 <= len(rows) <= 10
    assert rows[0]["data-run-id"] == outcome.run_id
    for attrs in rows:
        status, by_source = query(
            settings,
            "select status, rows_by_source from audit.pipeline_runs where run_id = %s",
            (attrs["data-run-id"],),
        )[0]
        assert attrs["data-status"] == status
        loaded = sum(
            rows for details in by_source.values() for rows in details.get("tables", {}).values()
        )
        assert int(attrs["data-rows-loaded"]) == loaded


# --- anomalies, distributions and key figures against SQL -------------------------------

FACT = "core.fct_turbine_measurements"


ROW_FLAGS = {
    "has_duplicates": "duplicate.row",
    "has_conflicting_duplicates": "conflicting_duplicate.row",
    "is_power_curve_outlier": "power_curve_outlier.row",
}
SIGNAL_FLAG = re.compile(r"^is_(out_of_range|frozen|spike)_(\w+)$")


def flag_key(column: str) -> str:
    """A fact's flag column as the page names the flag: `out_of_range.wind_speed`."""
    if column in ROW_FLAGS:
        return ROW_FLAGS[column]
    match = SIGNAL_FLAG.match(column)
    assert match, f"a flag column the page does not know: {column}"
    return f"{match[1]}.{match[2]}"


def flag_columns(settings: Settings) -> list[str]:
    """The fact's QC flag columns, read independently of loaders.reports."""
    return [
        name
        for (name,) in query(
            settings,
            "select column_name from information_schema.columns where table_schema = 'core' "
            "and table_name = 'fct_turbine_measurements' and data_type = 'boolean' "
            "and (column_name like %s or column_name like %s) "
            "and column_name not in ('is_gap', 'is_valid') order by ordinal_position",
            ("is\\_%", "has\\_%"),
        )
    ]


def test_qc_flags_per_type_and_turbine_equal_sql(demo, page: Page) -> None:  # noqa: ANN001
    settings, _, _ = demo
    flags = flag_columns(settings)
    assert "is_out_of_range_wind_speed" in flags and "is_frozen_gearbox_oil_temp" in flags
    counts = ", ".join(f'count(*) filter (where "{flag}")' for flag in flags)
    rows = query(
        settings,
        f"select turbine_id, count(*) filter (where qc_flag_count > 0), {counts} "
        f"from {FACT} group by 1 order by 1",
    )
    shown = {
        (a["data-flag"], a["data-turbine"]): int(a["data-count"])
        for a in page.having("data-flag", "data-turbine", "data-count")
    }
    expected = {
        (flag_key(flag), row[0]): row[2 + i] for row in rows for i, flag in enumerate(flags)
    }
    raised = {flag for (flag, _), count in expected.items() if count}
    assert shown == {key: count for key, count in expected.items() if key[0] in raised}
    silent = {a["data-silent-flag"] for a in page.having("data-silent-flag")}
    assert silent == {flag_key(f) for f in flags} - raised  # every flag: counted, or said silent
    flagged = {
        a["data-flagged-turbine"]: int(a["data-count"]) for a in page.having("data-flagged-turbine")
    }
    assert flagged == {row[0]: row[1] for row in rows}
    assert int(page.by_id("qc-flags-summary")["data-flagged-rows"]) == sum(flagged.values())
    frozen = sum(count for (flag, _), count in expected.items() if flag.startswith("frozen."))
    assert frozen > 0 and sum(flagged.values()) > 0  # the demo's frozen sensor and spikes


VOLUME_SQL = """
with counted as (
    select {series} as series, {day} as day, {measure} as n
      from {table} where {day} between %(history)s and %(end)s group by 1, 2
),
spans as (
    select series, min(day) as first_day, {last} as last_day from counted group by series
),
days as (
    select spans.series, generated::date as day
      from spans cross join generate_series(spans.first_day, spans.last_day, interval '1 day')
           as generated
),
daily as (
    select days.series, days.day, coalesce(counted.n, 0) as n
      from days left join counted on counted.series = days.series and counted.day = days.day
),
judged as (
    select daily.series, daily.day, daily.n, usual.days, usual.median,
           (select percentile_cont(0.5) within group (order by abs(before.n - usual.median))
              from daily as before
             where before.series = daily.series
               and before.day between daily.day - 14 and daily.day - 1) as mad
      from daily
     cross join lateral (
        select count(*) as days, percentile_cont(0.5) within group (order by before.n) as median
          from daily as before
         where before.series = daily.series and before.day between daily.day - 14 and daily.day - 1
     ) as usual
     where daily.day between %(start)s and %(end)s and usual.days >= 7
)
select series, day, n, median, mad,
       abs(n - median) > greatest(3 * mad, 0.02 * abs(median)) as outside
  from judged order by series, day
"""


def volume_by_sql(settings: Settings, start, end) -> dict[str, list[tuple]]:  # noqa: ANN001
    """Each judged day of every series: (day, rows, median, MAD, outside), recomputed."""
    params = {"history": start - timedelta(days=14), "start": start, "end": end}
    found: dict[str, list[tuple]] = {}
    plans = [
        (FACT, "turbine_id", "measured_date", "count(*) filter (where not is_gap)", True),
        ("raw.scada_measurements", "'raw.scada_measurements'", "measured_date", "count(*)", True),
        ("raw.weather_hourly", "'raw.weather_hourly'", "observed_date", "count(*)", True),
        ("raw.production_daily", "'raw.production_daily'", "production_date", "count(*)", False),
    ]
    for table, series, day, measure, daily in plans:
        text = VOLUME_SQL.format(
            table=table,
            series=series,
            day=day,
            measure=measure,
            last="%(end)s::date" if daily else "max(day)",
        )
        for row in query(settings, text, params):
            found.setdefault(row[0], []).append(row[1:])
    return found


def test_volume_days_outside_the_usual_equal_sql(demo, page: Page, audit_row: dict) -> None:  # noqa: ANN001
    settings, _, _ = demo
    expected = volume_by_sql(settings, audit_row["date_from"], audit_row["date_to"])
    series = {a["data-series"]: a for a in page.having("data-series", "data-days-judged")}
    assert set(series) == set(expected)
    for name, days in expected.items():
        assert int(series[name]["data-days-judged"]) == len(days), name
        assert int(series[name]["data-days-outside"]) == sum(1 for d in days if d[4]), name
    shown = {
        (a["data-volume-outside"], a["data-day"]): a for a in page.having("data-volume-outside")
    }
    outside = {(name, d[0].isoformat()): d for name, days in expected.items() for d in days if d[4]}
    assert set(shown) == set(outside)
    assert outside, "the demo's dropouts make some days unusual"
    for key, (_, rows, median, mad, _) in outside.items():
        assert int(shown[key]["data-rows"]) == rows
        assert shown[key]["data-median"] == f"{median:.2f}"
        assert shown[key]["data-mad"] == f"{mad:.2f}"
    assert int(page.by_id("volume-summary")["data-days-outside"]) == len(outside)


def test_the_power_curve_draws_every_flagged_period_and_a_stated_sample(
    demo,  # noqa: ANN001
    page: Page,
) -> None:
    settings, _, _ = demo
    measured = f"from {FACT} where wind_speed_avg is not null and active_power_avg is not null"
    total, flagged = query(
        settings, f"select count(*), count(*) filter (where qc_flag_count > 0) {measured}"
    )[0]
    figure = page.by_id("power-curve-figure")
    assert int(figure["data-points-total"]) == total
    assert int(figure["data-points-flagged"]) == flagged
    circles = [a["class"].split() for _, a in page.tags if (a.get("class") or "").startswith("pt")]
    assert len(circles) == int(figure["data-points-shown"]) <= 5_000
    drawn_flagged = sum(1 for classes in circles if "flagged" in classes)
    assert drawn_flagged == int(figure["data-points-shown-flagged"]) == flagged > 0
    step = int(figure["data-step"])
    assert total > 5_000 and step > 1, "the demo month has more periods than the scatter draws"
    sampled = scalar(  # the periods of the 10-minute grid whose index is a multiple of step
        settings,
        f"select count(*) {measured} and not qc_flag_count > 0 "
        "and (extract(epoch from measured_at)::bigint / 600) %% %s = 0",
        (step,),
    )
    assert len(circles) - drawn_flagged == sampled
    assert f"of {total:,} periods drawn" in page.texts["power-curve-sampled"]  # English


def test_the_summary_file_holds_the_key_figures(
    demo,  # noqa: ANN001
    report: Path,
    page: Page,
    audit_row: dict,
) -> None:
    settings, _, outcome = demo
    summary = json.loads((report.parent / "summary.json").read_text(encoding="utf-8"))
    assert summary["run_id"] == outcome.run_id and summary["status"] == audit_row["status"]
    expected, present, non_null = query(
        settings,
        "select count(*), count(*) filter (where not is_gap), "
        + " + ".join(f"count({signal}_avg)" for signal in CRITICAL_SIGNALS)
        + f" from {FACT}",
    )[0]
    assert summary["fact_rows"] == expected
    assert summary["pct_present"] == float(round(100 * Decimal(present) / expected, 2))
    signal_periods = expected * len(CRITICAL_SIGNALS)
    assert summary["pct_non_null"] == float(round(100 * Decimal(non_null) / signal_periods, 2))
    assert summary["qc_flagged_recent_rows"] == scalar(
        settings,
        f"select count(*) from {FACT} where qc_flag_count > 0 "
        f"and measured_date > (select max(measured_date) - 31 from {FACT})",
    )
    loaded = sum(
        rows
        for details in audit_row["rows_by_source"].values()
        for rows in details.get("tables", {}).values()
    )
    assert summary["rows_loaded"] == loaded
    shown = {a["data-measure"]: a.get("data-current") for a in page.having("data-measure")}
    assert shown["fact_rows"] == str(expected) and shown["rows_loaded"] == str(loaded)
    assert shown["pct_present"] == f"{summary['pct_present']:.2f}"


def test_the_elementary_section_says_what_happened(page: Page) -> None:
    from loaders.reports import elementary

    status = page.having("data-elementary-status")[0]["data-elementary-status"]
    installed = elementary.package_installed(elementary.monitoring_dir(load_settings()))
    assert status == ("absent" if not installed else status)
    if status == "absent":
        assert "package not installed" in page.texts.get("elementary", "")
    assert status in ("absent", "written", "failed")


def test_the_anomalies_section_gathers_what_the_checks_found(
    demo,  # noqa: ANN001
    report: Path,
    page: Page,
) -> None:
    settings, _, _ = demo
    found = {a["data-anomaly"]: a.get("data-count") for a in page.having("data-anomaly")}
    flagged = scalar(settings, f"select count(*) from {FACT} where qc_flag_count > 0")
    assert int(found["qc_flagged_periods"]) == flagged > 0
    columns = [c for c in flag_columns(settings) if c.startswith("is_out_of_range_")]
    out_of_range = sum(
        query(
            settings,
            f"select {', '.join(f'count(*) filter (where {c})' for c in columns)} from {FACT}",
        )[0]
    )
    assert int(found["implausible_values"]) == int(found["flag.out_of_range"]) == out_of_range
    assert (
        int(found["volume_days_outside"])
        == int(page.by_id("volume-summary")["data-days-outside"])
        > 0
    )  # the demo's dropouts
    results = json.loads((report.parent / "run_results.json").read_text(encoding="utf-8"))
    statuses = [r["status"] for r in results["results"] if r["unique_id"].startswith("test.")]
    assert int(found["dbt_tests_fail"]) == statuses.count("fail")
    assert int(found["dbt_tests_warn"]) == statuses.count("warn")
    assert (
        int(found["rows_rejected"])
        == sum(int(a["data-rows-this-run"]) for a in page.having("data-rows-this-run"))
        >= 3
    )  # the demo's broken CSV rows
    elementary_tables = scalar(
        settings, "select to_regclass('elementary.elementary_test_results') is not null"
    )
    if not elementary_tables:  # the monitoring project never ran here: said, not counted
        assert found["elementary"] is None
        assert page.by_id("elementary-anomalies-summary")["data-monitors"] == "0"
    links = [a["href"] for a in page.having("href") if a["href"].startswith("#")]
    for anchor in ("#qc-flags", "#volume", "#dbt-tests", "#rejected", "#anomalies"):
        assert anchor in links and page.by_id(anchor[1:]), anchor


# Elementary's results table as its 0.25.1 package creates it (empty_elementary_test_results).
ELEMENTARY_TABLE = """
create table elementary.elementary_test_results (
    id text, data_issue_id text, test_execution_id text, test_unique_id text,
    model_unique_id text, invocation_id text, detected_at timestamp, created_at timestamp,
    database_name text, schema_name text, table_name text, column_name text, test_type text,
    test_sub_type text, test_results_description text, owners text, tags text,
    test_results_query text, other text, test_name text, test_params text, severity text,
    status text, failures bigint, test_short_name text, test_alias text, result_rows text,
    failed_row_count bigint
)
"""


def test_elementary_anomalies_are_read_from_its_results_table(settings: Settings) -> None:
    """Elementary's table created in a transaction that is rolled back: the anomaly
    monitors of the run (detected since it started) that failed or warned are counted,
    older results, passing monitors and other tests are not."""
    started = datetime(2025, 11, 1, 2, 0, tzinfo=UTC)
    run = figures.RunSummary(
        "r", started, None, "success", None, None, None, None, None, None, {}, {}
    )
    connection = warehouse.connect(settings, "admin")
    try:
        with connection.cursor() as cursor:
            assert figures.read_elementary(cursor, run) == figures.ElementaryAnomalies(False)
            cursor.execute("create schema if not exists elementary")
            cursor.execute(ELEMENTARY_TABLE)
            rows = [
                ("fct_turbine_measurements", None, "anomaly_detection", "row_count", "fail", 5),
                ("scada_measurements", None, "anomaly_detection", "freshness", "warn", 10),
                (
                    "fct_turbine_measurements",
                    "wind_speed_avg",
                    "anomaly_detection",
                    "null_count",
                    "pass",
                    15,
                ),
                ("fct_turbine_measurements", None, "anomaly_detection", "row_count", "fail", -60),
                ("dim_turbine", "turbine_key", "dbt_test", "not_null", "fail", 5),
            ]
            for table, column, kind, sub_type, status, minutes in rows:
                cursor.execute(
                    "insert into elementary.elementary_test_results (table_name, column_name, "
                    "test_type, test_sub_type, status, test_results_description, detected_at) "
                    "values (%s, %s, %s, %s, %s, 'why', %s)",
                    (
                        table,
                        column,
                        kind,
                        sub_type,
                        status,
                        (started + timedelta(minutes=minutes)).replace(tzinfo=None),
                    ),
                )
            found = figures.read_elementary(cursor, run)
    finally:
        connection.rollback()
        connection.close()
    assert found.installed and found.monitors_run == 3  # the run's anomaly monitors
    assert [(a.table, a.monitor, a.status) for a in found.anomalies] == [
        ("fct_turbine_measurements", "row_count", "fail"),
        ("scada_measurements", "freshness", "warn"),
    ]
    assert found.anomalies[0].detected_at == started + timedelta(minutes=5)


@pytest.fixture(scope="module")
def written_again(
    demo,  # noqa: ANN001
    report: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path]:
    """The same run's page written again in French (`report_language = fr`) and in English,
    elsewhere, one after the other: both read the warehouse as it is now (other tests of
    the session may have added runs to its history since the run's own page was written)."""
    settings, _, outcome = demo
    pages = []
    for language in ("fr", "en"):
        reports = tmp_path_factory.mktemp(f"reports_{language}")
        again = replace(settings, report_language=language, reports_dir=str(reports))
        pages.append(write_report(again, outcome.run_id, reports / outcome.run_id / "index.html"))
    return pages[0], pages[1]


@pytest.fixture(scope="module")
def french_report(written_again: tuple[Path, Path]) -> Path:
    return written_again[0]


def test_the_french_page_has_the_seed_s_headings_and_the_same_figures(
    written_again: tuple[Path, Path],
) -> None:
    french_page, english_page = written_again
    markup = french_page.read_text(encoding="utf-8")
    french = Page(markup)
    assert '<html lang="fr">' in markup
    headings = dict(re.findall(r'<section id="([\w-]+)"><h2>([^<]+)</h2>', markup))
    assert [headings[key] for key in ("extracted", "completeness-section", "anomalies")] == [
        "Lignes extraites",
        "Taux de complétude",
        "Anomalies détectées",
    ]
    assert headings["distribution"] == "Distribution des valeurs critiques"
    assert "Rows extracted" not in markup and "Completeness rate" not in markup

    def figures_of(parsed: Page) -> list:
        return [
            sorted((k, v) for k, v in attrs.items() if k.startswith("data-") and k != "data-line")
            for _, attrs in parsed.tags
            if any(k.startswith("data-") for k in attrs)
        ]

    english = figures_of(Page(english_page.read_text(encoding="utf-8")))
    assert figures_of(french) == english and len(english) > 100
    assert not EXTERNAL_REFERENCE.search(markup)


# --- a real browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    pytest.skip(
        "Chromium is not installed: install the `chromium` package "
        "(Debian/Ubuntu: `apt-get install -y chromium`) to run the browser checks"
    )


def browser(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium with every background network feature off, fresh profile."""
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        *args,
    ]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S, check=False
    )


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    return struct.unpack(">II", header[16:24])


def test_chromium_takes_a_screenshot_of_the_page(
    chromium: str, report: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    work = tmp_path_factory.mktemp("screenshot")
    screenshot = work / "quality_page.png"
    completed = browser(
        chromium, work / "profile", f"--screenshot={screenshot}", report.resolve().as_uri()
    )
    assert screenshot.is_file(), completed.stderr[-3000:]
    assert png_size(screenshot) == WINDOW
    assert screenshot.stat().st_size > 50_000, "the screenshot looks blank"
    artifacts = os.environ.get("WINDFARM_TEST_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, Path(artifacts) / screenshot.name)
    print(f"quality page screenshot: {screenshot}")


def test_chromium_renders_the_key_figures_without_console_errors(
    chromium: str, report: Path, page: Page, tmp_path_factory: pytest.TempPathFactory
) -> None:
    work = tmp_path_factory.mktemp("dom")
    latest = report.parent.parent / "latest" / "index.html"
    completed = browser(
        chromium,
        work / "profile",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        latest.absolute().as_uri(),  # through `latest`, as people bookmark it
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    rendered = Page(completed.stdout)
    assert rendered.texts["run-id"] == page.texts["run-id"]
    assert rendered.by_id("run-status")["data-status"] == page.by_id("run-status")["data-status"]
    assert (
        rendered.by_id("rows-loaded-total")["data-rows"]
        == (page.by_id("rows-loaded-total")["data-rows"])
    )
    bars = rendered.having("data-bin", "data-count")
    assert len(bars) == len(page.having("data-bin", "data-count")) >= 25
    assert sum(int(a["data-count"]) for a in bars) == int(
        page.by_id("wind-speed-histogram")["data-total"]
    )
    cells = rendered.having("data-signal", "data-pct-non-null")
    assert len(cells) == len(page.having("data-signal", "data-pct-non-null")) > 0
    assert rendered.texts["dbt-tests-summary"] == page.texts["dbt-tests-summary"]

    def drawn(parsed: Page) -> list[str]:
        return [a["class"] for _, a in parsed.tags if (a.get("class") or "").startswith("pt")]

    assert (
        len(drawn(rendered))
        == len(drawn(page))
        == int(page.by_id("power-curve-figure")["data-points-shown"])
    )
    for name in ("data-flag", "data-measure", "data-series", "data-trend"):
        assert len(rendered.having(name)) == len(page.having(name)) > 0, name
    assert rendered.having("data-elementary-status") == page.having("data-elementary-status")
    console = [
        line
        for line in completed.stderr.splitlines()
        if ":CONSOLE" in line or "Uncaught" in line or "Refused to" in line
    ]
    assert not console, "\n".join(console)


def test_chromium_renders_the_french_page_without_console_errors(
    chromium: str, french_report: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    work = tmp_path_factory.mktemp("dom_fr")
    screenshot = work / "quality_page_fr.png"
    shot = browser(
        chromium, work / "shot", f"--screenshot={screenshot}", french_report.resolve().as_uri()
    )
    assert screenshot.is_file(), shot.stderr[-3000:]
    assert screenshot.stat().st_size > 50_000, "the screenshot looks blank"
    artifacts = os.environ.get("WINDFARM_TEST_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, Path(artifacts) / screenshot.name)
    completed = browser(
        chromium,
        work / "profile",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        french_report.resolve().as_uri(),
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    rendered = Page(completed.stdout)
    assert rendered.texts["anomalies"].startswith("Anomalies détectées")
    assert rendered.texts["completeness-section"].startswith("Taux de complétude")
    assert rendered.texts["extracted"].startswith("Lignes extraites")
    assert rendered.texts["distribution"].startswith("Distribution des valeurs critiques")
    assert len(rendered.having("data-bin", "data-count")) >= 25
    assert rendered.having("data-anomaly")
    console = [
        line
        for line in completed.stderr.splitlines()
        if ":CONSOLE" in line or "Uncaught" in line or "Refused to" in line
    ]
    assert not console, "\n".join(console)


# --- a second run: the page compares it with the first ----------------------------------


@pytest.fixture(scope="module")
def second_run(demo, report: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN001, ANN201
    """A real second run (the demo's last day again) whose page goes to a reports folder
    holding a copy of the first run's folder, as a reports folder holds every run."""
    from loaders.demo_park.park import DEMO_END
    from loaders.run import pipeline

    settings, _, first = demo
    reports = tmp_path_factory.mktemp("reports_again")
    shutil.copytree(report.parent, reports / first.run_id)
    again = pipeline.run(replace(settings, reports_dir=str(reports)), DEMO_END, DEMO_END)
    assert again.report_path, "the second run wrote no page"
    return settings, again, Path(again.report_path)


def test_the_second_page_compares_with_the_runs_before(second_run, report: Path) -> None:  # noqa: ANN001
    settings, again, path = second_run
    second = Page(path.read_text(encoding="utf-8"))
    ran = query(
        settings,
        "select run_id, rows_by_source from audit.pipeline_runs where started_at <= "
        "(select started_at from audit.pipeline_runs where run_id = %s) "
        "order by started_at desc, run_id desc limit 10",
        (again.run_id,),
    )
    assert ran[0][0] == again.run_id and len(ran) >= 2
    summaries = {}
    for run_id, _ in ran:
        folder = path.parent.parent / run_id
        if (folder / "summary.json").is_file():
            summaries[run_id] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert report.parent.name in summaries  # the first run's figures, kept beside its page

    def loaded(by_source: dict) -> int:
        return sum(r for d in by_source.values() for r in d.get("tables", {}).values())

    rows = {a["data-measure"]: a for a in second.having("data-measure")}
    previous_id, previous_sources = ran[1]
    assert int(rows["rows_loaded"]["data-current"]) == loaded(ran[0][1])
    assert int(rows["rows_loaded"]["data-previous"]) == loaded(previous_sources)
    earlier = sorted(loaded(by_source) for _, by_source in ran[1:])
    middle = len(earlier) // 2
    median = earlier[middle] if len(earlier) % 2 else (earlier[middle - 1] + earlier[middle]) / 2
    assert int(rows["rows_loaded"]["data-median"]) == round(median)
    for key in ("fact_rows", "pct_present", "qc_flagged_recent_rows"):
        current = summaries[again.run_id][key]
        assert rows[key]["data-current"] == (
            f"{current:.2f}" if isinstance(current, float) else str(current)
        ), key
        if previous_id in summaries:
            kept = summaries[previous_id][key]
            assert rows[key]["data-previous"] == (
                f"{kept:.2f}" if isinstance(kept, float) else str(kept)
            ), key
        else:  # a run without a page recorded no such figure
            assert "data-previous" not in rows[key], key
    # Re-running a day changes nothing in the warehouse: the same figures, "same" verdict.
    first = summaries[report.parent.name]
    assert summaries[again.run_id]["fact_rows"] == first["fact_rows"]
    assert summaries[again.run_id]["pct_present"] == first["pct_present"]
    trend = second.having("data-trend", "data-runs")
    assert trend and all(int(a["data-runs"]) == len(ran) for a in trend)
    latest = path.parent.parent / "latest"
    assert latest.resolve() == path.parent.resolve()
