"""Another operator's production export loads by configuration alone: other headers, an
extra column (kept and reported, not dropped), a `95,47 %` cell, thousands grouped by
no-break spaces; a file sharing no column with any export is refused without pretending
it is close to one."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from warehouse_sql import query

from loaders import warehouse
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import PROJECT_ROOT, Settings
from loaders.sources.production_csv.load import load_production_csv

PARK = """
name: Another operator
time_zone: Europe/Istanbul
exports: exports.yaml
"""
EXPORTS = """
exports:
  - name: daily_report
    table: production_daily
    columns:
      production_date: {header: [Report date, Tarih], format: "%Y.%m.%d"}
      turbine_id: {header: [WTG, Turbine]}
      energy_kwh: {header: Energy, suffix: kWh, decimal: ","}
      availability_pct: {header: Availability, suffix: "%"}
    personal_extras: [Shift lead]
"""
EXPORT = (
    "Report date;WTG;Energy;Availability;Remark;Shift lead\n"
    "2018.01.01;T1;12\u202f345,6 kWh;95,47 %;icing morning;Ayşe Yılmaz\n"
    "2018.01.02;T1;9\u00a0876,5 kWh;100 %;;Ayşe Yılmaz\n"
    "2018.01.03;T1;n/a;100 %;;\n"
)


@pytest.fixture
def operator_settings(settings: Settings, tmp_path: Path) -> Settings:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "park.yaml").write_text(PARK, encoding="utf-8")
    (folder / "exports.yaml").write_text(EXPORTS, encoding="utf-8")
    shutil.copy(PROJECT_ROOT / "config/mont_crosnier/historian.csv", folder / "historian.csv")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    isolated = replace(
        settings,
        database=f"{settings.database}_exports",
        csv_inbox=str(inbox),
        park_config=str(folder),
    )
    warehouse.bootstrap(isolated)
    yield isolated
    warehouse.drop_database(isolated)


def test_another_operators_export_loads_by_configuration(operator_settings: Settings) -> None:
    inbox = Path(operator_settings.csv_inbox)
    (inbox / "daily.csv").write_text(EXPORT, encoding="utf-8")
    (inbox / "unrelated.csv").write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    pseudonymiser = Pseudonymiser(operator_settings.pseudonym_key)

    outcome = load_production_csv(operator_settings, pseudonymiser)

    assert outcome.details["rows_read"] == {"daily.csv": 3}
    assert outcome.details["rows_loaded"] == {"daily.csv": 2}
    assert outcome.details["rows_rejected"] == {"daily.csv": 1}
    assert outcome.details["extra_columns"] == {"daily.csv": ["Remark", "Shift lead"]}
    rows = query(
        operator_settings,
        "select production_date::text, turbine_id, energy_kwh, availability_pct, "
        "_extra_columns from raw.production_daily order by production_date",
    )
    assert [row[:4] for row in rows] == [
        ("2018-01-01", "T1", 12345.6, pytest.approx(95.47)),
        ("2018-01-02", "T1", 9876.5, 100.0),
    ]
    extras = json.loads(rows[0][4])
    assert extras["Remark"] == "icing morning"
    # an extra column declared personal is kept pseudonymised, never in clear
    assert extras["Shift lead"] == pseudonymiser.token("Ayşe Yılmaz")
    # the unrelated file is refused without naming an export it does not resemble
    refused = outcome.details["refused_files"]["unrelated.csv"]
    assert "shares no column with any known export (daily_report)" in refused
    assert "closest" not in refused


def test_a_file_sharing_columns_names_the_closest_export(operator_settings: Settings) -> None:
    inbox = Path(operator_settings.csv_inbox)
    (inbox / "partial.csv").write_text("Tarih;Turbine\n2018.01.01;T1\n", encoding="utf-8")

    outcome = load_production_csv(operator_settings, Pseudonymiser("k" * 32))

    refused = outcome.details["refused_files"]["partial.csv"]
    assert "closest is daily_report (production_daily)" in refused
    assert "missing column(s): Energy" in refused
