"""The CSV loader against the real database: counts, rejects, refusals, re-runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from loaders import pipeline, warehouse
from loaders.pseudonymise import Pseudonymiser
from loaders.settings import Settings

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


def query(settings: Settings, sql: str) -> list[tuple]:
    with warehouse.connect(settings, "admin") as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    connection.close()
    return rows


def test_rows_read_equal_rows_loaded_plus_rejected(csv_settings: Settings) -> None:
    inbox = Path(csv_settings.csv_inbox)
    (inbox / "production.csv").write_text(PRODUCTION, encoding="utf-8-sig")
    (inbox / "maintenance.csv").write_bytes(MAINTENANCE.encode("cp1252"))
    (inbox / "broken.csv").write_text("Date;Eolienne;Energie\n01/10/2025;T1;1\n", encoding="utf-8")
    pseudonymiser = Pseudonymiser(csv_settings.pseudonym_key)

    outcome = pipeline.load_production_csv(csv_settings, pseudonymiser)

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

    # the same files again: nothing doubles
    pipeline.load_production_csv(csv_settings, pseudonymiser)
    assert query(csv_settings, "select count(*) from raw.production_daily") == [(2,)]
    assert query(csv_settings, "select count(*) from raw.production_daily__rejected") == [(2,)]
    assert query(csv_settings, "select count(*) from raw.maintenance_log") == [(1,)]
