"""The quality page's building blocks without a database: SVG, HTML in both languages,
dbt results, files."""

from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from loaders.reports import (
    charts,
    dbt_results,
    elementary,
    figures,
    history,
    page,
    publish,
    volume,
)
from loaders.reports.charts import attrs, esc
from loaders.reports.language import language
from loaders.settings import load_settings

EN, FR = language("en"), language("fr")

HOSTILE = "<script>alert('x')</script> & \"quoted\""
EXTERNAL = re.compile(r"""(?:src|href|xlink:href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


class _Collector(HTMLParser):
    """Every start tag with its attributes, and the page's text, for assertions."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attributes)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(markup: str) -> _Collector:
    collector = _Collector()
    collector.feed(markup)
    collector.close()
    return collector


# --- markup ------------------------------------------------------------------------------


def test_esc_and_attrs_escape_text_and_attribute_values() -> None:
    assert esc(HOSTILE) == (
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;quoted&#34;"
    )
    assert esc(None) == ""
    rendered = attrs(class_="a", data_run_id=HOSTILE, hidden=True, title=None, open=False)
    assert rendered.startswith(' class="a" data-run-id="&lt;script&gt;')
    assert rendered.endswith(" hidden")
    assert "title" not in rendered and "open" not in rendered
    assert attrs(data_count=0) == ' data-count="0"'


def test_durations_read_naturally() -> None:
    assert page.duration(None) == "—"
    assert page.duration(timedelta(seconds=7.25)) == "7.2 s"
    assert page.duration(timedelta(seconds=7.25), FR) == "7,2 s"
    assert page.duration(timedelta(seconds=245)) == "4 min 05 s"
    assert page.duration(timedelta(hours=1, minutes=2, seconds=3)) == "1 h 02 min 03 s"


# --- language ----------------------------------------------------------------------------


def test_both_catalogues_hold_the_same_keys_and_placeholders() -> None:
    assert set(EN.messages) == set(FR.messages)
    for key, english in EN.messages.items():
        assert re.findall(r"{(\w+)}", english) == re.findall(r"{(\w+)}", FR.messages[key]), key
        assert "<" not in english and "<" not in FR.messages[key], key  # text, never HTML


def test_numbers_and_plurals_are_written_as_each_language_writes_them() -> None:
    assert EN.number(1234567) == "1,234,567" and EN.percent(98.5) == "98.50\u00a0%"
    assert FR.number(1234567) == "1\u202f234\u202f567" and FR.percent(98.5) == "98,50\u00a0%"
    assert EN.number(None) == FR.number(None) == "—"
    assert EN.plural("dbt.all_passed", 0) == "All 0 tests passed."
    assert EN.plural("dbt.all_passed", 1) == "The 1 test passed."
    assert FR.plural("power_curve.clipped", 1).startswith("1 point au-delà")
    assert FR.plural("power_curve.clipped", 3).startswith("3 points au-delà")


def test_an_unknown_language_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="WINDFARM_REPORT_LANGUAGE.*en, fr.*'de'"):
        language("de")


# --- charts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("maximum", "expected"),
    [(0, [0, 1]), (3, [0, 1, 2, 3]), (7, [0, 2, 4, 6, 8]), (131, [0, 50, 100, 150])],
)
def test_y_ticks_are_round_and_cover_the_maximum(maximum: int, expected: list[int]) -> None:
    assert charts.y_ticks(maximum) == expected


def test_y_ticks_for_large_counts() -> None:
    ticks = charts.y_ticks(12_345)
    assert ticks[0] == 0 and ticks[-1] >= 12_345 and len(ticks) <= 7
    assert ticks[1] in (2_000, 2_500, 5_000)


def _bars() -> list[charts.Bar]:
    return [
        charts.Bar("< 0", 2, None, 0.0),
        *[charts.Bar(f"{i}-{i + 1}", i * 10, float(i), float(i + 1)) for i in range(5)],
        charts.Bar(">= 30", 1, 30.0, None),
    ]


def test_histogram_svg_is_well_formed_with_one_rect_per_bar() -> None:
    svg = charts.histogram_svg(
        _bars(), title=HOSTILE, x_label="speed (m/s)", y_label="periods", chart_id="h"
    )
    root = ET.fromstring(svg)  # well-formed XML, so also valid inline SVG in HTML5
    rects = [el for el in root.iter("rect") if el.get("class") == "bar"]
    assert [r.get("data-bin") for r in rects] == [b.label for b in _bars()]
    assert sum(int(r.get("data-count", "0")) for r in rects) == sum(b.value for b in _bars())
    assert root.find("title").text == HOSTILE  # escaped in the markup, intact once parsed
    assert "<script>" not in svg
    texts = [el.text for el in root.iter("text")]
    assert "speed (m/s)" in texts and "periods" in texts
    assert "< 0" in texts and ">= 30" in texts  # open bins labelled under the bar
    assert ["0", "1", "2", "3", "4", "5"] == [t for t in texts if t and t.isdigit()][-6:]
    assert not EXTERNAL.search(svg) and "http" not in svg


def test_histogram_bars_scale_to_the_top_tick() -> None:
    svg = charts.histogram_svg(
        [charts.Bar("0-1", 50, 0, 1), charts.Bar("1-2", 100, 1, 2)],
        title="t",
        x_label="x",
        y_label="y",
        frame=charts.Frame(height=216, top=16, bottom=0),
    )
    heights = [float(r.get("height")) for r in ET.fromstring(svg).iter("rect")]
    assert heights == [100.0, 200.0]  # plot height 200 for the top tick 100


def test_an_empty_histogram_says_so() -> None:
    svg = charts.histogram_svg([charts.Bar("0-1", 0, 0, 1)], title="t", x_label="x", y_label="y")
    assert "no values to show" in svg
    ET.fromstring(svg)


# --- figures helpers ---------------------------------------------------------------------


def test_audit_counts_are_summed_per_file_and_per_table() -> None:
    assert figures.as_int(5) == 5
    assert figures.as_int({"a.csv": 3, "b.csv": 4}) == 7
    assert figures.as_int("x") is None and figures.as_int(True) is None
    rows = {
        "sensor_db": {"tables": {"scada_measurements": 100, "scada_alarms": 2}},
        "production_csv": {"tables": {"production_daily": 5}},
        "weather_api": {},
    }
    assert figures.rows_loaded(rows) == 107


def test_source_summaries_keep_a_fixed_order_and_the_errors() -> None:
    rows = {
        "weather_api": {"tables": {"weather_hourly": 24}, "rows_read": 24},
        "production_csv": {
            "tables": {"production_daily": 5},
            "rows_read": {"a.csv": 6},
            "rows_rejected": {"a.csv": 1},
            "refused_files": {"b.csv": "no header"},
        },
        "sensor_db": {"tables": {"scada_measurements": 10}, "rows_rejected": 0},
    }
    errors = {"production_csv": "b.csv refused", "dbt": [{"node": "x"}], "extra_source": "down"}
    summaries = figures.source_summaries(rows, errors)
    assert [s.source for s in summaries] == [
        "sensor_db",
        "production_csv",
        "weather_api",
        "extra_source",
    ]
    csv = summaries[1]
    assert (csv.rows_read, csv.rows_rejected, csv.rows_written) == (6, 1, 5)
    assert csv.refused_files == {"b.csv": "no header"} and csv.error == "b.csv refused"
    assert summaries[0].rows_rejected == 0 and summaries[2].rows_rejected is None
    assert summaries[3].tables == () and summaries[3].error == "down"


def wind_bins(counts: dict[int, int]) -> tuple[figures.HistogramBin, ...]:
    """Bins as quality_wind_speed_distribution holds them: -1 (below 0) to 30 (open)."""

    def label(index: int) -> str:
        return "< 0" if index < 0 else ">= 30" if index >= 30 else f"{index}-{index + 1}"

    return tuple(
        figures.HistogramBin(
            i, label(i), None if i < 0 else float(i), None if i >= 30 else i + 1.0, counts.get(i, 0)
        )
        for i in range(-1, 31)
    )


def test_flags_are_listed_row_level_first_then_by_type_and_signal() -> None:
    flags = [
        figures.Flag("spike", "wind_speed"),
        figures.Flag("out_of_range", "ambient_temp"),
        figures.Flag("stuck", "pitch_angle"),  # a type the models may add: after the known
        figures.Flag("out_of_range", "wind_speed"),
        figures.Flag("conflicting_duplicate", "row"),
        figures.Flag("duplicate", "row"),
    ]
    assert [f.key for f in figures.flag_order(flags)] == [
        "duplicate.row",
        "conflicting_duplicate.row",
        "out_of_range.wind_speed",
        "out_of_range.ambient_temp",
        "spike.wind_speed",
        "stuck.pitch_angle",
    ]


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(1, 3, 33.33), (2, 3, 66.67), (1, 8, 12.5), (1, 800, 0.13), (0, 0, 0.0), (288, 288, 100.0)],
)
def test_pct_rounds_like_postgresql(part: int, whole: int, expected: float) -> None:
    assert figures.pct(part, whole) == expected


# --- dbt results -------------------------------------------------------------------------


def _results_document() -> dict:
    def result(unique_id: str, status: str, message: str | None = None, failures=None) -> dict:
        return {"unique_id": unique_id, "status": status, "message": message, "failures": failures}

    return {
        "metadata": {
            "generated_at": "2025-11-01T02:03:00.000000Z",
            "invocation_started_at": "2025-11-01T02:01:00.000000Z",
        },
        "args": {"which": "build"},
        "elapsed_time": 12.5,
        "results": [
            result("model.windfarm.dim_turbine", "success", "SELECT 3"),
            result("seed.windfarm.turbine_models", "success"),
            result("test.windfarm.not_null_a.1", "pass", None, 0),
            result("test.windfarm.unique_b.2", "warn", "Got 2 results", 2),
            result("test.windfarm.range_c.3", "fail", "Got 5 results, <configured>", 5),
            result("test.windfarm.broken_d.4", "error", "relation does not exist"),
            result("model.windfarm.fct_x", "error", "syntax error"),
            result("model.windfarm.fct_y", "skipped"),
        ],
    }


def test_dbt_results_list_the_tests_that_did_not_pass_worst_first() -> None:
    results = dbt_results.parse(_results_document())
    assert len(results.tests) == 4
    assert [(t.status, t.name) for t in results.test_problems] == [
        ("error", "broken_d"),
        ("fail", "range_c"),
        ("warn", "unique_b"),
    ]
    assert [n.name for n in results.node_problems] == ["fct_x", "fct_y"]
    assert results.count("model") == 3 and results.command == "build"
    assert results.generated_at == datetime(2025, 11, 1, 2, 3, tzinfo=UTC)


def test_dbt_results_missing_or_broken_file_is_none(tmp_path: Path) -> None:
    assert dbt_results.load(tmp_path / "absent.json") is None
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    assert dbt_results.load(tmp_path / "broken.json") is None


# --- the page ----------------------------------------------------------------------------

STARTED = datetime(2025, 11, 1, 2, 0, tzinfo=UTC)


def _figures(run_id: str = "20251101T020000Z-abc123") -> figures.Figures:
    run = figures.RunSummary(
        run_id=run_id,
        started_at=STARTED,
        ended_at=STARTED + timedelta(seconds=125),
        status="partial",
        date_from=date(2025, 10, 1),
        date_to=date(2025, 10, 31),
        code_version="abc123def456-dirty",
        dbt_status="success",
        run_by="cron@host",
        db_role="windfarm_transformer",
        rows_by_source={
            "sensor_db": {"tables": {"scada_measurements": 13000}, "rows_read": 13000},
            "weather_api": {"tables": {}},
        },
        errors={"weather_api": HOSTILE},
    )
    completeness = tuple(
        figures.Completeness(turbine, signal, 100, 99, non_null, 99.0, float(non_null), None)
        for turbine, signal, non_null in [
            ("T01", "wind_speed", 99),
            ("T01", "active_power", 95),
            ("T02", "wind_speed", 85),
            ("T02", "active_power", 98),
        ]
    )
    return figures.Figures(
        run_id=run_id,
        run=run,
        sources=figures.source_summaries(run.rows_by_source, run.errors),
        rejected=(
            figures.RejectedTable(
                "raw",
                "production_daily__rejected",
                3,
                1,
                (figures.ReasonCount(HOSTILE, 2, "f.csv:4"), figures.ReasonCount("bad", 1, None)),
                0,
            ),
        ),
        marts=(
            figures.MartCount("core", "dim_turbine", 3),
            figures.MartCount("core", "fct_turbine_measurements", 5_253_000),
        ),
        completeness=completeness,
        completeness_origin="quality.quality_completeness",
        histogram=wind_bins({2: 5, 12: 9, 30: 1}),
        histogram_origin="quality.quality_wind_speed_distribution",
        trend=(
            figures.TrendRun(run_id, STARTED, STARTED + timedelta(seconds=125), "partial", 13000),
            figures.TrendRun(
                "20251031T020000Z-000000", STARTED - timedelta(days=1), None, "failed", 0
            ),
        ),
        collected_at=STARTED + timedelta(seconds=130),
    )


def _context(dbt: dbt_results.DbtResults | None = None, pages: frozenset = frozenset()):
    return page.PageContext(
        dbt=dbt,
        dbt_results_file="run_results.json" if dbt else None,
        run_pages=pages,
        generated_at=STARTED + timedelta(seconds=131),
    )


def _with(tags: list, **wanted: str) -> list[dict]:
    return [a for _, a in tags if all(a.get(k) == v for k, v in wanted.items())]


def test_the_page_escapes_everything_and_loads_nothing_external() -> None:
    html = page.render(_figures('run<"x">'), _context(), EN)
    assert "<script" not in html and HOSTILE not in html
    assert esc(HOSTILE) in html
    assert not EXTERNAL.search(html) and "http:" not in html and "https:" not in html
    parsed = parse(html)
    assert "Content-Security-Policy" in [a.get("http-equiv") for _, a in parsed.tags]
    assert _with(parsed.tags, id="run-id")  # the id reads back intact once parsed
    assert 'run<"x">' in "".join(parsed.text)


def test_the_page_carries_its_figures_as_data_attributes() -> None:
    html = page.render(_figures(), _context(pages=frozenset({"20251031T020000Z-000000"})), EN)
    tags = parse(html).tags
    assert _with(tags, id="run-status")[0]["data-status"] == "partial"
    assert _with(tags, id="run-duration")[0]["data-seconds"] == "125.000"
    assert _with(tags, **{"data-source": "sensor_db"})[0]["data-rows"] == "13000"
    assert _with(tags, id="rows-loaded-total")[0]["data-rows"] == "13000"
    counts = [int(a["data-count"]) for a in _with(tags, **{"class": "bar"})]
    assert sum(counts) == 15
    assert _with(tags, id="wind-speed-histogram")[0]["data-total"] == "15"
    cell = _with(tags, **{"data-turbine": "T02", "data-signal": "wind_speed"})[0]
    assert (cell["data-pct-non-null"], cell["data-grade"]) == ("85.00", "bad")
    assert "cell bad" in cell["class"]
    grades = {
        (a["data-turbine"], a["data-signal"]): a["data-grade"]
        for a in _with(tags)
        if "data-signal" in a and "data-turbine" in a
    }
    assert grades == {
        ("T01", "wind_speed"): "good",
        ("T01", "active_power"): "warn",
        ("T02", "wind_speed"): "bad",
        ("T02", "active_power"): "good",
    }
    fact = _with(tags, **{"data-mart": "core.fct_turbine_measurements"})[0]
    assert fact["data-rows"] == "5253000" and ">5,253,000<" in html
    reject = _with(tags, **{"data-rejected-table": "raw.production_daily__rejected"})[0]
    assert (reject["data-rows"], reject["data-rows-this-run"]) == ("3", "1")
    assert [a["data-run-id"] for a in _with(tags) if "data-rows-loaded" in a] == [
        "20251101T020000Z-abc123",
        "20251031T020000Z-000000",
    ]
    assert _with(tags, href="../20251031T020000Z-000000/index.html")
    assert _with(tags, id="run-errors")


@pytest.mark.parametrize(
    ("pct", "expected"),
    [
        (100.0, "good"),
        (98.0, "good"),
        (97.99, "warn"),
        (90.0, "warn"),
        (89.99, "bad"),
        (0.0, "bad"),
    ],
)
def test_completeness_thresholds(pct: float, expected: str) -> None:
    assert page.grade(pct) == expected


def test_the_dbt_section_states_passes_and_problems() -> None:
    passing = dbt_results.parse(
        {"results": [{"unique_id": f"test.p.t{i}.x", "status": "pass"} for i in range(7)]}
    )
    html = page.render(_figures(), _context(passing), EN)
    summary = _with(parse(html).tags, id="dbt-tests-summary")[0]
    assert summary["data-tests-total"] == "7" and summary["data-tests-problems"] == "0"
    assert "All 7 tests passed." in html
    failing = dbt_results.parse(_results_document())
    html = page.render(_figures(), _context(failing), EN)
    tags = parse(html).tags
    assert [a["data-test-status"] for a in _with(tags) if "data-test-status" in a] == [
        "error",
        "fail",
        "warn",
        "error",
        "skipped",
    ]
    assert "&lt;configured&gt;" in html and "dbt-results-stale" not in html
    assert "run_results.json" in [a.get("href") for _, a in tags]
    missing = parse(page.render(_figures(), _context(), EN)).tags
    assert _with(missing, id="dbt-tests-summary")[0]["data-tests-total"] == "0"


def test_the_histogram_always_spans_0_to_25_ms() -> None:
    shown = page.visible_bins(wind_bins({5: 1}))
    assert (shown[0].label, shown[-1].label) == ("0-1", "24-25")
    shown = page.visible_bins(wind_bins({-1: 1, 30: 1}))
    assert (shown[0].label, shown[-1].label) == ("< 0", ">= 30")


def test_a_run_without_audit_row_still_renders() -> None:
    empty = figures.Figures("r1", None, (), (), (), (), "", (), "", (), STARTED)
    for lang in (EN, FR):
        html = page.render(empty, _context(), lang)
        assert 'id="run-missing"' in html and 'id="completeness-missing"' in html
        assert 'id="qc-flags-missing"' in html and 'id="power-curve-missing"' in html


# --- files -------------------------------------------------------------------------------


def _run_folder(reports: Path, run_id: str) -> Path:
    folder = reports / run_id
    publish.write_atomically(folder / "index.html", run_id)
    return folder


def test_latest_is_a_relative_symlink_to_the_newest_run(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    older = _run_folder(reports, "20251101T020000Z-aaaaaa")
    assert publish.point_latest(reports, older) == older
    newer = _run_folder(reports, "20251102T020000Z-bbbbbb")
    publish.point_latest(reports, newer)
    latest = reports / "latest"
    assert latest.is_symlink() and os.readlink(latest) == newer.name
    assert (latest / "index.html").read_text(encoding="utf-8") == newer.name
    publish.point_latest(reports, older)  # re-generating an old page does not go backwards
    assert os.readlink(latest) == newer.name
    assert sorted(p.name for p in reports.iterdir()) == [older.name, newer.name, "latest"]


def test_latest_falls_back_to_a_copy_without_symlinks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = tmp_path / "reports"
    first = _run_folder(reports, "20251101T020000Z-aaaaaa")
    publish.point_latest(reports, first)  # a symlink first: the copy must replace it

    def no_symlinks(*args: object, **kwargs: object) -> None:
        raise OSError("symbolic links are not supported here")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    second = _run_folder(reports, "20251102T020000Z-bbbbbb")
    publish.point_latest(reports, second)
    latest = reports / "latest"
    assert latest.is_dir() and not latest.is_symlink()
    assert (latest / "index.html").read_text(encoding="utf-8") == second.name
    third = _run_folder(reports, "20251103T020000Z-cccccc")
    publish.point_latest(reports, third)  # a copy replaces the earlier copy
    assert (latest / "index.html").read_text(encoding="utf-8") == third.name
    assert sorted(p.name for p in reports.iterdir()) == [
        first.name,
        second.name,
        third.name,
        "latest",
    ]  # no temporary or set-aside folder left behind


def test_run_results_are_copied_when_present(tmp_path: Path) -> None:
    assert publish.copy_run_results(tmp_path / "absent.json", tmp_path / "run") is None
    source = tmp_path / "run_results.json"
    source.write_text('{"results": []}', encoding="utf-8")
    copied = publish.copy_run_results(source, tmp_path / "run")
    assert copied == tmp_path / "run" / "run_results.json"
    assert copied.read_text(encoding="utf-8") == '{"results": []}'


# --- scatter and sparklines --------------------------------------------------------------


def test_scatter_svg_marks_flagged_points_and_pins_outliers_to_the_edge() -> None:
    points = [
        charts.Point(5.0, 500.0),
        charts.Point(10.0, 1500.0, flagged=True),
        charts.Point(99.0, -9999.0, flagged=True),  # an absurd spike
    ]
    svg = charts.scatter_svg(
        points,
        x_range=(0.0, 25.0),
        y_range=(-100.0, 2000.0),
        title=HOSTILE,
        x_label="wind",
        y_label="power",
        lines=[("MM82", [(0.0, 0.0), (12.0, 2000.0), (30.0, 2000.0)])],
        frame=charts.Frame(width=272, height=226, left=72, right=0, top=16, bottom=0),
    )
    root = ET.fromstring(svg)
    circles = [c for c in root.iter("circle")]
    classes = [c.get("class") for c in circles]
    assert classes == ["pt", "pt flagged", "pt flagged clipped"]  # flagged drawn on top
    first, _, spike = circles
    assert (float(first.get("cx")), float(first.get("cy"))) == (112.0, 226 - 60.0)
    assert (float(spike.get("cx")), float(spike.get("cy"))) == (272.0, 226.0)  # corner
    line = root.find("polyline")
    assert line.get("data-line") == "MM82" and len(line.get("points").split()) == 2
    assert root.find("title").text == HOSTILE and not EXTERNAL.search(svg)


def test_sparkline_breaks_on_unknown_values_and_keeps_them_readable() -> None:
    svg = charts.sparkline_svg([1.0, 2.0, None, 4.0, 3.0], label="x")
    root = ET.fromstring(svg)
    assert root.get("data-values") == "1,2,,4,3"
    assert len(root.findall("polyline")) == 2 and len(root.findall("circle")) == 1
    assert ET.fromstring(charts.sparkline_svg([None], label="x")).find("polyline") is None


# --- volume, QC flags, power-curve sampling ----------------------------------------------


def _days(values: list[int], first: date = date(2025, 10, 1)) -> dict[date, int]:
    return {first + timedelta(days=i): value for i, value in enumerate(values)}


def test_a_day_is_judged_against_the_median_and_mad_of_the_days_before() -> None:
    counts = _days([144] * 10 + [100, 150, 144, 0])
    window = (date(2025, 10, 1), date(2025, 10, 14))
    judged = {day.day.day: day for day in volume.judge(counts, window)}
    assert not judged[7].judged and judged[8].history_days == 7  # too little history before
    assert judged[11].median == 144 and judged[11].mad == 0 and judged[11].is_outside
    assert judged[11].lower == pytest.approx(141.12) and judged[11].upper == pytest.approx(146.88)
    assert judged[12].mad == 0 and judged[12].is_outside  # 150 > 144 + 2 % when MAD is 0
    assert not judged[13].is_outside  # one odd day in the history does not move the median
    assert judged[14].is_outside and judged[14].rows == 0


def test_the_usual_range_widens_with_the_spread_of_the_history() -> None:
    counts = _days([100, 120, 80, 110, 90, 100, 130, 70, 60])
    day = volume.judge(counts, (date(2025, 10, 9), date(2025, 10, 9)))[0]
    assert day.median == 100 and day.mad == 15  # |deviations| 0,20,20,10,10,0,30,30
    assert (day.lower, day.upper) == (55, 145) and not day.is_outside


def test_daily_counts_fill_missing_days_with_zero() -> None:
    filled = volume.daily_counts({date(2025, 10, 2): 5}, date(2025, 10, 1), date(2025, 10, 3))
    assert list(filled.values()) == [0, 5, 0]


@pytest.mark.parametrize(
    ("total", "flagged", "expected"),
    [
        (4_000, 40, (1, 1)),
        (13_392, 45, (3, 1)),
        (20_000, 9_000, (5, 4)),
        (5_001, 0, (2, 1)),
        (1_000_000, 10, (211, 1)),
    ],
)
def test_scatter_sampling_keeps_about_the_limit(total: int, flagged: int, expected) -> None:
    step, flagged_step = figures.scatter_steps(total, flagged)
    assert (step, flagged_step) == expected
    kept = (total - flagged) / step + flagged / flagged_step
    assert kept <= figures.MAX_SCATTER_POINTS * figures.SCATTER_BUDGET_SHARE + 1


def test_sampling_steps_never_keep_only_a_few_times_of_day() -> None:
    # 72 would keep two times of day; 8 eighteen: the step moves on to one that keeps 24+.
    assert figures.scatter_steps(72 * 4_750, 0)[0] == 73
    assert figures.scatter_steps(8 * 4_750, 0)[0] == 10
    for total in range(5_001, 2_000_000, 7_919):
        step, _ = figures.scatter_steps(total, 0)
        assert 144 // math.gcd(step, 144) >= 24, step


# --- key figures, history and comparisons ------------------------------------------------


def _rich_figures(run_id: str = "20251101T020000Z-abc123") -> figures.Figures:
    """The page's figures with QC flags, volumes and a power curve."""
    base = _figures(run_id)
    flags = figures.QcFlags(
        origin="quality.quality_recent_qc_flags",
        first_date=date(2025, 10, 1),
        last_date=date(2025, 10, 31),
        flags=figures.flag_order(
            (
                figures.Flag("conflicting_duplicate", "row"),
                figures.Flag("out_of_range", "wind_speed"),
                figures.Flag("frozen", "ambient_temp"),
            )
        ),
        turbines=("T01", "T02"),
        counts={("out_of_range.wind_speed", "T02"): 4, ("frozen.ambient_temp", "T01"): 36},
        rows={"T01": 100, "T02": 100},
        flagged_rows={"T01": 36, "T02": 4},
    )
    counts = _days([144] * 14 + [100])
    last = (date(2025, 10, 15), date(2025, 10, 15))
    series = volume.VolumeSeries(
        "T01", "turbine", "core.fct_turbine_measurements", volume.judge(counts, last)
    )
    curve = figures.PowerCurve(
        origin="quality.quality_power_curve_points",
        first_date=date(2025, 10, 1),
        total_points=9_000,
        flagged_points=2,
        step=2,
        flagged_step=1,
        points=(
            figures.PowerPoint(5.0, 400.0, False),
            figures.PowerPoint(8.0, 50.0, True),
            figures.PowerPoint(45.0, 99_999.0, True),
        ),
        reference={"MM82": ((0.0, 0.0), (14.5, 2050.0), (25.0, 2050.0))},
        rated_power_kw=2050.0,
    )
    return replace(
        base,
        qc_flags=flags,
        volume=(series,),
        volume_window=(date(2025, 10, 15), date(2025, 10, 15)),
        power_curve=curve,
    )


def test_key_figures_sum_what_the_page_shows() -> None:
    key = history.key_figures(_rich_figures(), dbt_results.parse(_results_document()))
    assert key.rows_loaded == 13000 and key.duration_seconds == 125.0
    assert key.rows_rejected_this_run == 1 and key.fact_rows == 5_253_000
    assert key.pct_present == 99.0  # 2 turbines × 99 present of 2 × 100
    assert key.pct_non_null == 94.25  # (99 + 95 + 85 + 98) of 400
    assert (key.qc_flagged_recent_rows, key.volume_days_outside) == (40, 1)
    assert (key.dbt_tests, key.dbt_test_problems) == (4, 3)


def test_summaries_round_trip_and_tolerate_junk(tmp_path: Path) -> None:
    key = history.key_figures(_rich_figures(), None)
    history.write_summary(tmp_path, key)
    assert history.read_summary(tmp_path) == key
    (tmp_path / "summary.json").write_text(
        '{"run_id": "r", "rows_loaded": "many", "pct_present": 97, "status": true}',
        encoding="utf-8",
    )
    assert history.read_summary(tmp_path) == history.KeyFigures("r", pct_present=97.0)
    (tmp_path / "summary.json").write_text("[1, 2]", encoding="utf-8")
    assert history.read_summary(tmp_path) is None
    assert history.read_summary(tmp_path / "absent") is None


def test_a_first_version_summary_s_whole_history_qc_figure_is_not_compared(
    tmp_path: Path,
) -> None:
    """Pages before summary version 2 counted QC flags over the whole history: that figure
    must not be read as the newest days' one (the trend would jump when it changed)."""
    (tmp_path / "summary.json").write_text(
        '{"summary_version": 1, "run_id": "r", "qc_flagged_rows": 90000, "fact_rows": 7}',
        encoding="utf-8",
    )
    assert history.read_summary(tmp_path) == history.KeyFigures("r", fact_rows=7)


def test_history_merges_summaries_with_the_audit_rows(tmp_path: Path) -> None:
    current = history.KeyFigures("r3", rows_loaded=10, pct_present=99.0)
    history.write_summary(tmp_path / "r2", history.KeyFigures("r2", rows_loaded=1, fact_rows=7))
    runs = [
        figures.TrendRun("r3", STARTED, None, "running", 10),
        figures.TrendRun("r2", STARTED, STARTED + timedelta(seconds=5), "success", 20),
        figures.TrendRun("r1", STARTED, None, "failed", 0),
    ]
    found = history.history(tmp_path, runs, current)
    assert [item.run_id for item in found] == ["r3", "r2", "r1"]
    assert found[0] is current
    assert (found[1].rows_loaded, found[1].fact_rows, found[1].duration_seconds) == (20, 7, 5.0)
    assert found[2].fact_rows is None and found[2].status == "failed"


def test_comparisons_say_better_or_worse_by_the_figure_s_direction() -> None:
    runs = [
        history.KeyFigures("r3", pct_present=98.5, qc_flagged_recent_rows=10, rows_loaded=5),
        history.KeyFigures("r2", pct_present=99.0, qc_flagged_recent_rows=12, rows_loaded=5),
        history.KeyFigures("r1", pct_present=97.0, qc_flagged_recent_rows=None, rows_loaded=9),
    ]
    found = {c.measure.key: c for c in history.compare(runs)}
    present = found["pct_present"]
    assert (present.previous, present.median, present.verdict) == (99.0, 98.0, "worse")
    assert present.change == pytest.approx(-0.5)
    flagged = found["qc_flagged_recent_rows"]
    assert (flagged.verdict, flagged.median, flagged.runs_compared) == ("better", 12.0, 1)
    assert found["rows_loaded"].verdict == ""  # more rows is neither better nor worse
    assert found["dbt_test_problems"].current is None and found["dbt_test_problems"].verdict == ""
    assert history.compare([]) == []


# --- the new sections ----------------------------------------------------------------------


def _rich_context(**extra: object) -> page.PageContext:
    current = history.key_figures(_rich_figures(), None)
    earlier = history.KeyFigures("20251031T020000Z-000000", pct_present=99.5, rows_loaded=500)
    return replace(_context(), history=(current, earlier), **extra)


def test_the_new_sections_carry_their_figures() -> None:
    html = page.render(_rich_figures(), _rich_context(), EN)
    tags = parse(html).tags
    assert not EXTERNAL.search(html) and "<script" not in html
    present = _with(tags, **{"data-measure": "pct_present"})[0]
    assert (present["data-current"], present["data-previous"]) == ("99.00", "99.50")
    assert present["data-verdict"] == "worse"
    cell = _with(tags, **{"data-flag": "out_of_range.wind_speed", "data-turbine": "T02"})[0]
    assert cell["data-count"] == "4"
    assert not _with(tags, **{"data-flag": "conflicting_duplicate.row"})  # none raised
    assert _with(tags, **{"data-silent-flag": "conflicting_duplicate.row"})
    t01 = _with(tags, **{"data-flag": "out_of_range.wind_speed", "data-turbine": "T01"})[0]
    assert t01["data-count"] == "0"
    assert _with(tags, **{"data-flag-total": "frozen.ambient_temp"})[0]["data-count"] == "36"
    assert _with(tags, id="qc-flags-summary")[0]["data-flagged-rows"] == "40"
    kinds = {a["data-flag-kind"]: a["data-count"] for a in _with(tags) if "data-flag-kind" in a}
    assert kinds == {"conflicting_duplicate": "0", "out_of_range": "4", "frozen": "36"}
    outside = _with(tags, **{"data-volume-outside": "T01"})[0]
    assert (outside["data-day"], outside["data-rows"], outside["data-median"]) == (
        "2025-10-15",
        "100",
        "144.00",
    )
    curve = _with(tags, id="power-curve-figure")[0]
    assert (curve["data-points-total"], curve["data-points-shown"]) == ("9000", "3")
    assert curve["data-points-clipped"] == "1" and curve["data-step"] == "2"
    assert "one unflagged period in 2 of" in html and 'id="power-curve-sampled"' in html
    assert [a["data-trend"] for a in _with(tags) if "data-trend" in a] == [
        m.key for m in history.MEASURES
    ]


def test_the_first_run_has_nothing_to_compare_with() -> None:
    only = history.key_figures(_rich_figures(), None)
    html = page.render(_rich_figures(), replace(_context(), history=(only,)), EN)
    assert 'id="comparison-first"' in html


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (None, "unknown"),
        (elementary.ElementaryOutcome("absent", "package not installed <here>"), "absent"),
        (elementary.ElementaryOutcome("failed", "edr report failed (exit 1)"), "failed"),
        (
            elementary.ElementaryOutcome("written", "ok", report_file="elementary_report.html"),
            "written",
        ),
    ],
)
def test_the_elementary_section_links_the_report_or_says_why_not(outcome, expected) -> None:
    html = page.render(_figures(), replace(_context(), elementary=outcome), EN)
    tags = parse(html).tags
    assert _with(tags, **{"data-elementary-status": expected})
    links = [a.get("href") for a in _with(tags, id="elementary-link")]
    assert links == (["elementary_report.html"] if expected == "written" else [])
    if expected == "absent":
        assert "package not installed &lt;here&gt;" in html
    if expected == "written":  # the anomalies table links Elementary's report
        assert "elementary_report.html" in [a.get("href") for a in _with(tags) if "href" in a]


# --- anomalies and languages ----------------------------------------------------------------


def _anomalies(tags: list) -> dict[str, str | None]:
    return {a["data-anomaly"]: a.get("data-count") for a in _with(tags) if "data-anomaly" in a}


def test_the_implausible_values_of_the_exports_and_weather_are_counted_and_listed() -> None:
    nulled = figures.ImplausibleCount(
        "weather", "temperature_2m_c", -60.0, 60.0, "°C", 24, 3, "MTC 2025-10-02 03:00"
    )
    clean = figures.ImplausibleCount("production", "energy_kwh", 0.0, 3e5, "kWh", 2, 0, None)
    tags = parse(page.render(replace(_figures(), implausible=(nulled, clean)), _context(), EN)).tags
    assert _anomalies(tags)["implausible_source_values"] == "3"
    (row,) = _with(tags, **{"data-implausible": "weather.temperature_2m_c"})
    assert (row["data-count"], row["data-checked"]) == ("3", "24")
    assert not _with(tags, **{"data-implausible": "production.energy_kwh"})  # none: not listed
    tags = parse(page.render(replace(_figures(), implausible=(clean,)), _context(), FR)).tags
    assert _anomalies(tags)["implausible_source_values"] == "0"
    assert _with(tags, id="no-implausible")
    tags = parse(page.render(_figures(), _context(), EN)).tags  # the mart is missing: said
    assert _anomalies(tags)["implausible_source_values"] is None
    assert _with(tags, id="implausible-missing")


def test_the_anomalies_section_counts_what_every_check_found() -> None:
    failing = dbt_results.parse(_results_document())
    html = page.render(_rich_figures(), replace(_rich_context(), dbt=failing), EN)
    found = _anomalies(parse(html).tags)
    assert found["qc_flagged_periods"] == "40"
    assert (found["flag.out_of_range"], found["flag.frozen"]) == ("4", "36")
    assert found["flag.conflicting_duplicate"] == "0"
    assert found["implausible_values"] == "4"  # the out-of-range flags
    assert found["volume_days_outside"] == "1"
    assert (found["dbt_tests_fail"], found["dbt_tests_error"], found["dbt_tests_warn"]) == (
        "1",
        "1",
        "1",
    )
    assert found["rows_rejected"] == "1"
    assert found["elementary"] is None  # no Elementary tables: not installed, said so
    assert "Elementary is not installed" in html
    hrefs = [a["href"] for _, a in parse(html).tags if a.get("href", "").startswith("#")]
    for anchor in ("#qc-flags", "#volume", "#dbt-tests", "#rejected"):
        assert anchor in hrefs, anchor
        assert f'id="{anchor[1:]}"' in html, anchor


def test_elementary_anomalies_are_counted_and_listed_when_its_tables_exist() -> None:
    anomaly = figures.ElementaryAnomaly(
        "fct_turbine_measurements", None, "row_count", "fail", "3 rows, expected 144", STARTED
    )
    found = figures.ElementaryAnomalies(installed=True, monitors_run=12, anomalies=(anomaly,))
    html = page.render(replace(_rich_figures(), elementary=found), _rich_context(), FR)
    tags = parse(html).tags
    assert _anomalies(tags)["elementary"] == "1"
    summary = _with(tags, id="elementary-anomalies-summary")[0]
    assert (summary["data-monitors"], summary["data-anomalies"]) == ("12", "1")
    assert _with(tags, **{"data-elementary-anomaly": "fct_turbine_measurements"})


SEED_HEADINGS = {
    "en": ("Rows extracted", "Completeness rate", "Anomalies detected"),
    "fr": ("Lignes extraites", "Taux de complétude", "Anomalies détectées"),
}
DISTRIBUTION = {"en": "Distribution of critical values", "fr": "Distribution des valeurs critiques"}


@pytest.mark.parametrize("lang", [EN, FR], ids=["en", "fr"])
def test_the_page_speaks_one_language_with_the_seed_s_four_headings(lang) -> None:  # noqa: ANN001
    html = page.render(_rich_figures(), _rich_context(), lang)
    parsed = parse(html)
    assert f'<html lang="{lang.code}">' in html
    headings = {
        section: text
        for section, text in re.findall(r'<section id="([\w-]+)"><h2>([^<]+)</h2>', html)
    }
    expected = (*SEED_HEADINGS[lang.code], DISTRIBUTION[lang.code])
    assert [
        headings[i] for i in ("extracted", "completeness-section", "anomalies", "distribution")
    ] == list(expected)
    other = FR if lang is EN else EN
    assert not any(heading in html for heading in SEED_HEADINGS[other.code])
    text = "".join(parsed.text)
    assert lang.number(13000) in text  # numbers as the language writes them
    # The figures a machine reads do not change with the language.
    assert _with(parsed.tags, id="rows-loaded-total")[0]["data-rows"] == "13000"


def test_both_languages_carry_the_same_figures() -> None:
    def figures_of(lang) -> list:  # noqa: ANN001
        tags = parse(page.render(_rich_figures(), _rich_context(), lang)).tags
        return [  # data-line names a reference curve in words: the one label among them
            sorted((k, v) for k, v in a.items() if k.startswith("data-") and k != "data-line")
            for _, a in tags
        ]

    assert figures_of(EN) == figures_of(FR)


# --- the Elementary step without Elementary --------------------------------------------------


def test_edr_config_is_quiet_and_offline(tmp_path: Path) -> None:
    config = elementary.write_config(tmp_path)
    assert config == tmp_path / ".edr" / "config.yml"
    lines = config.read_text(encoding="utf-8").splitlines()
    assert "anonymous_usage_tracking: false" in lines
    assert "disable_elementary_version_check: true" in lines
    assert "run_dbt_deps_if_needed: false" in lines


def test_edr_runs_on_the_monitoring_project_with_our_home(tmp_path: Path) -> None:
    settings = replace(load_settings(), dbt_target_dir=str(tmp_path / "target"))
    home = elementary.edr_home(settings)
    assert home == tmp_path / "target" / "edr"
    command = elementary.edr_command("edr", Path("/p/monitoring"), home, tmp_path / "r.html")
    options = dict(zip(command[2::2], command[3::2], strict=True))
    assert command[:2] == ["edr", "report"]
    assert options["--project-dir"] == options["--profiles-dir"] == "/p/monitoring"
    assert options["--config-dir"] == str(home / ".edr")
    assert options["--file-path"] == str(tmp_path / "r.html")
    assert options["--disable-samples"] == "true" and options["--open-browser"] == "false"
    env = elementary.edr_environment(settings, home)
    assert env["HOME"] == str(home) and env["DO_NOT_TRACK"] == "1"
    assert env["WINDFARM_DATABASE"] == settings.database


def test_the_monitoring_project_is_found_beside_or_as_the_run_s_project(tmp_path: Path) -> None:
    main = tmp_path / "dbt_project"
    (main / "monitoring").mkdir(parents=True)
    settings = replace(load_settings(), dbt_project_dir=str(main))
    assert elementary.monitoring_dir(settings) == main / "monitoring"
    (main / "monitoring" / "packages.yml").write_text(
        "packages:\n  - package: elementary-data/elementary\n    version: 0.25.1\n",
        encoding="utf-8",
    )
    monitoring = replace(settings, dbt_project_dir=str(main / "monitoring"))
    assert elementary.monitoring_dir(monitoring) == main / "monitoring"
    assert not elementary.package_installed(main / "monitoring")
    outcome = elementary.check(monitoring)
    assert outcome is not None and outcome.status == "absent"
    assert outcome.line.startswith("[elementary] package not installed in ")
    assert f"dbt deps --project-dir {main / 'monitoring'}" in outcome.line
    assert outcome.line.endswith("skipping the Elementary report")
