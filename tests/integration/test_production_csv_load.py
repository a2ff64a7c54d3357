"""The CSV loader against the real database: counts, rejects, refusals, re-runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from warehouse_sql import query

from loaders import warehouse
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import Settings
from loaders.sources.production_csv.load import load_production_csv

PRODUCTION = (
    "Date;Eolienne;Energie produite (kWh);Disponibilite (%);Heures de production\n"
    "01/10/2025;T1;12 345,6;97,5;21,3\n"
    "31/09/2025;T1;1 000,0;100;24\n"
    "02/10/2025;T1;n/a;100;24\n"
    "\n"
    "03/10/2025;T1;9 876,5;;\n"
)
MAINTENANCE = (
    "N° intervention;Eolienne;Début;Fin;Type;Composant;Description;Technicien;Email technicien\n"
    "M-1;T1;26/10/2025 02:30;26/10/2025 05:00;Préventive;gearbox;Vidange;Zoé Lefèvre;"
    "zoe.lefevre@example.fr\n"
    "M-2;T1;32/10/2025 08:00;;Corrective;rotor;Pale;Zoé Lefèvre;zoe.lefevre@example.fr\n"
)


@pytest.fixture
def csv_settings(settings: Settings, tmp_path: Path) -> Settings:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    database = f"{settings.database}_csv"
    isolated = replace(settings, database=database, csv_inbox=str(inbox))
    warehouse.bootstrap(isolated)
    yield isolated
    warehouse.drop_database(isolated)


def test_rows_read_equal_rows_loaded_plus_rejected(csv_settings: Settings) -> None:
    inbox = Path(csv_settings.csv_inbox)
    (inbox / "production.csv").write_text(PRODUCTION, encoding="utf-8-sig")
    (inbox / "maintenance.csv").write_bytes(MAINTENANCE.encode("cp1252"))
    (inbox / "broken.csv").write_text("Date;Eolienne;Energie\n01/10/2025;T1;1\n", encoding="utf-8")
    pseudonymiser = Pseudonymiser(csv_settings.pseudonym_key)

    outcome = load_production_csv(csv_settings, pseudonymiser)

    assert not outcome.ok
    assert "broken.csv" in outcome.error and "Energie produite (kWh)" in outcome.error
    assert outcome.details["rows_read"] == {"maintenance.csv": 2, "production.csv": 4}
    assert outcome.details["rows_rejected"] == {"maintenance.csv": 1, "production.csv": 2}
    loaded = query(
        csv_settings,
        "select production_date::text, energy_kwh, _source_line from raw.production_daily "
        "order by _source_line",
    )
    assert loaded == [("2025-10-01", 12345.6, 2), ("2025-10-03", 9876.5, 6)]
    rejected = query(
        csv_settings,
        "select _source_file, _source_line, reason from raw.production_daily__rejected "
        "order by _source_line",
    )
    assert [(f, line) for f, line, _ in rejected] == [("production.csv", 3), ("production.csv", 4)]
    assert "31/09/2025" in rejected[0][2] and "n/a" in rejected[1][2]
    # the repeated autumn hour is read as summer time: 02:30 CEST = 00:30 UTC
    maintenance = query(
        csv_settings,
        "select started_at at time zone 'UTC', technician_pseudonym from raw.maintenance_log",
    )
    assert str(maintenance[0][0]) == "2025-10-26 00:30:00"
    assert maintenance[0][1] == pseudonymiser.token("Zoé Lefèvre")
    raw_reject = query(csv_settings, "select raw_line from raw.maintenance_log__rejected")
    assert "Lef" not in raw_reject[0][0] and "zoe" not in raw_reject[0][0]

    # processed files are archived by content hash; the refused one is set aside with why
    archived = dict(
        reversed(p.name.split("__", 1)) for p in (inbox / "archive").iterdir()
    )  # {file name: hash prefix}
    assert archived == outcome.details["files_loaded"]
    assert sorted(archived) == ["maintenance.csv", "production.csv"]
    refused = inbox / "refused"
    reason = next(refused.glob("*__broken.csv.reason.txt")).read_text(encoding="utf-8")
    assert "broken.csv" in reason and "Energie produite (kWh)" in reason
    assert len(list(refused.glob("*__broken.csv"))) == 1
    assert not list(inbox.glob("*.csv"))

    # the same files dropped again: skipped, nothing doubles
    (inbox / "production.csv").write_text(PRODUCTION, encoding="utf-8-sig")
    (inbox / "maintenance.csv").write_bytes(MAINTENANCE.encode("cp1252"))
    again = load_production_csv(csv_settings, pseudonymiser)
    assert again.ok and again.details["rows_read"] == {}
    assert set(again.details["skipped_files"]) == {"production.csv", "maintenance.csv"}
    assert query(csv_settings, "select count(*) from raw.production_daily") == [(2,)]
    assert query(csv_settings, "select count(*) from raw.production_daily__rejected") == [(2,)]
    assert query(csv_settings, "select count(*) from raw.maintenance_log") == [(1,)]
    assert not list(inbox.glob("*.csv"))


def test_a_corrected_file_replaces_every_row_of_the_earlier_version(
    csv_settings: Settings,
) -> None:
    inbox = Path(csv_settings.csv_inbox)
    pseudonymiser = Pseudonymiser(csv_settings.pseudonym_key)
    (inbox / "production.csv").write_text(PRODUCTION, encoding="utf-8-sig")
    load_production_csv(csv_settings, pseudonymiser)

    corrected = (
        "Date;Eolienne;Energie produite (kWh);Disponibilite (%);Heures de production\n"
        "01/10/2025;T1;12 000,0;97,5;21,3\n"
        "02/10/2025;T1;8 000,0;100;24\n"
    )
    (inbox / "production.csv").write_text(corrected, encoding="utf-8-sig")
    outcome = load_production_csv(csv_settings, pseudonymiser)

    assert outcome.details["rows_read"] == {"production.csv": 2}
    assert outcome.details["rows_of_earlier_versions_removed"] == 2  # the two rejected rows
    rows = query(
        csv_settings,
        "select energy_kwh, _source_line, _source_file_sha256 from raw.production_daily "
        "order by _source_line",
    )
    assert [(energy, line) for energy, line, _ in rows] == [(12000.0, 2), (8000.0, 3)]
    assert query(csv_settings, "select count(*) from raw.production_daily__rejected") == [(0,)]
    # rows read = rows loaded + rows rejected, in the warehouse, for the file as it is now
    assert len({sha for _, _, sha in rows}) == 1
    assert len(list((inbox / "archive").glob("*__production.csv"))) == 2  # both versions kept


def test_other_conventions_load_too(csv_settings: Settings) -> None:
    """`,` separator, UTF-8 without BOM, ISO dates and times with offsets, quoted decimal
    commas, a record spanning two lines; and a Latin-1 file with a byte cp1252 lacks."""
    inbox = Path(csv_settings.csv_inbox)
    pseudonymiser = Pseudonymiser(csv_settings.pseudonym_key)
    (inbox / "export_iso.csv").write_text(
        "Date,Eolienne,Energie produite (kWh),Disponibilite (%),Heures de production\n"
        '2025-10-01,T1,"1 234,5",97.5,21.3\n'
        "2025-10-02,T1,1234.5,100,24\n"
        '2025-10-03,"T1\nT2",5,100,24\n',
        encoding="utf-8",
    )
    (inbox / "journal_latin1.csv").write_bytes(
        (
            "N° intervention;Eolienne;Début;Fin;Type;Composant;Description;Technicien;"
            "Email technicien\n"
            "M-9;T1;2025-10-26T02:30:00+01:00;26/10/2025 04:00;Préventive;rotor;Contrôle \x81;"
            "Zoé;z@example.fr\n"
        ).encode("latin-1")
    )
    outcome = load_production_csv(csv_settings, pseudonymiser)

    assert outcome.ok, outcome.error
    assert outcome.details["rows_read"] == {"export_iso.csv": 3, "journal_latin1.csv": 1}
    assert outcome.details["rows_rejected"] == {"export_iso.csv": 0, "journal_latin1.csv": 0}
    assert query(
        csv_settings,
        "select energy_kwh, turbine_id, _source_line from raw.production_daily "
        "where _source_file = 'export_iso.csv' order by _source_line",
    ) == [(1234.5, "T1", 2), (1234.5, "T1", 3), (5.0, "T1\nT2", 4)]
    started, description = query(
        csv_settings,
        "select started_at at time zone 'UTC', description from raw.maintenance_log "
        "where _source_file = 'journal_latin1.csv'",
    )[0]
    assert str(started) == "2025-10-26 01:30:00"  # the offset written in the file wins
    assert description == "Contrôle \x81"
