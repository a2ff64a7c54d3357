"""Hostile production exports against a real warehouse: whatever a file holds, it is refused
alone (or its bad rows are), the others load, nothing is lost, no personal data is kept in
clear anywhere, and the next run is not blocked.

After every case: the count invariant per file (rows read = clean + rejected rows in raw),
no load package left pending, the personal-data scan over every table and dlt's folder,
and a clean file dropped next loads."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import dlt
import pytest
from warehouse_sql import query

from loaders import warehouse
from loaders.privacy import leakscan
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import Settings
from loaders.sources.landing import SourceOutcome
from loaders.sources.production_csv.load import load_production_csv

MAINTENANCE_HEADER = (
    "N° intervention;Eolienne;Début;Fin;Type;Composant;Description;Technicien;Email technicien\n"
)
PRODUCTION_HEADER = "Date;Eolienne;Energie produite (kWh);Disponibilite (%);Heures de production\n"
# The people of the hostile files: none may be found in clear after any case.
PEOPLE = ("Zoé Lefèvre", "zoe.lefevre@example.fr", "Marc Dubois", "marc.dubois@example.fr")
PHONE = "+33 6 12 34 56 78"
PERSONAL = (*PEOPLE, PHONE)


@pytest.fixture
def hostile(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    isolated = replace(
        settings,
        database=f"{settings.database}_hostile_csv",
        csv_inbox=str(inbox),
        dlt_dir=str(tmp_path / "dlt"),
    )
    warehouse.bootstrap(isolated)
    yield isolated
    warehouse.drop_database(isolated)


def load(settings: Settings) -> SourceOutcome:
    return load_production_csv(settings, Pseudonymiser(settings.pseudonym_key))


def clean_production(day: int) -> str:
    return PRODUCTION_HEADER + f"{day:02d}/10/2025;T1;1 000,5;99;24\n"


def maintenance_row(number: str, description: str = "Vidange") -> str:
    return (
        f"{number};T1;01/10/2025 08:00;01/10/2025 10:00;Préventive;gearbox;{description};"
        "Zoé Lefèvre;zoe.lefevre@example.fr\n"
    )


def rows_by_file(settings: Settings) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in (
        "production_daily",
        "production_daily__rejected",
        "maintenance_log",
        "maintenance_log__rejected",
    ):
        if query(settings, f"select to_regclass('raw.{table}')")[0][0] is None:
            continue
        for name, count in query(
            settings, f"select _source_file, count(*) from raw.{table} group by 1"
        ):
            counts[name] = counts.get(name, 0) + count
    return counts


def assert_after_every_case(settings: Settings, outcome: SourceOutcome) -> None:
    """Nothing lost, nothing pending, nothing personal in clear, the next run not blocked."""
    in_raw = rows_by_file(settings)
    for name, read in outcome.details["rows_read"].items():
        assert in_raw.get(name, 0) == read, (name, read, in_raw)
    for name in outcome.details["refused_files"]:
        assert name not in in_raw, f"refused {name} left rows in raw"
    attached = dlt.attach(
        pipeline_name="windfarm_production_csv",
        pipelines_dir=str(Path(settings.dlt_dir) / settings.database),
    )
    assert not attached.has_pending_data
    assert leakscan.scan_database(settings, PERSONAL) == []
    assert leakscan.scan_paths([Path(settings.dlt_dir)], PERSONAL) == []
    assert not (Path(settings.csv_inbox) / ".reading").exists()

    inbox = Path(settings.csv_inbox)
    (inbox / "next_day.csv").write_text(clean_production(28), encoding="utf-8")
    following = load(settings)
    assert following.details["rows_loaded"].get("next_day.csv") == 1, following.details
    assert "next_day.csv" not in following.details["refused_files"]


def refused(settings: Settings) -> dict[str, str]:
    folder = Path(settings.csv_inbox) / "refused"
    return {
        path.name.removesuffix(".reason.txt"): path.read_text(encoding="utf-8")
        for path in folder.glob("*.reason.txt")
    }


@pytest.mark.parametrize(
    "poison",
    ["\x00", "\x01", "\x1b[31m", "\x7f", "a\x00b\x00c"],
    ids=["nul", "soh", "escape", "del", "several-nul"],
)
def test_a_control_character_rejects_its_row_not_the_load(hostile: Settings, poison: str) -> None:
    inbox = Path(hostile.csv_inbox)
    (inbox / "maintenance.csv").write_text(
        MAINTENANCE_HEADER + maintenance_row("M-1", f"Vid{poison}ange") + maintenance_row("M-2"),
        encoding="utf-8",
    )
    (inbox / "production.csv").write_text(clean_production(1), encoding="utf-8")

    outcome = load(hostile)

    assert outcome.ok, outcome.error
    assert outcome.details["rows_rejected"] == {"maintenance.csv": 1, "production.csv": 0}
    reason, raw_line = query(hostile, "select reason, raw_line from raw.maintenance_log__rejected")[
        0
    ]
    assert reason.startswith("Description: control character U+00"), reason
    assert "\x00" not in raw_line and "\\x" in raw_line
    assert_after_every_case(hostile, outcome)


def test_quotes_line_breaks_and_separators_inside_cells_load(hostile: Settings) -> None:
    inbox = Path(hostile.csv_inbox)
    description = '"Vidange; ""filtre"" changé\r\nsur 2 lignes\tet tab"'
    (inbox / "maintenance.csv").write_text(
        MAINTENANCE_HEADER + maintenance_row("M-1", description), encoding="utf-8"
    )

    outcome = load(hostile)

    assert outcome.ok and outcome.details["rows_loaded"] == {"maintenance.csv": 1}
    (stored,) = query(hostile, "select description from raw.maintenance_log")[0]
    assert stored == 'Vidange; "filtre" changé\r\nsur 2 lignes\tet tab'
    assert_after_every_case(hostile, outcome)


def test_a_field_the_csv_reader_refuses_refuses_its_file_alone(hostile: Settings) -> None:
    inbox = Path(hostile.csv_inbox)
    huge = "x" * 200_000
    (inbox / "huge.csv").write_text(
        MAINTENANCE_HEADER + maintenance_row("M-1") + maintenance_row("M-2", huge),
        encoding="utf-8",
    )
    (inbox / "production.csv").write_text(clean_production(2), encoding="utf-8")

    outcome = load(hostile)

    assert not outcome.ok
    assert "huge.csv: line 3: the CSV reader refuses the record" in outcome.error
    assert outcome.details["rows_loaded"] == {"production.csv": 1}
    assert any(name.endswith("__huge.csv") for name in refused(hostile))
    assert not (inbox / "huge.csv").exists()
    assert_after_every_case(hostile, outcome)


def test_a_file_name_that_is_not_utf8_is_refused_alone(hostile: Settings) -> None:
    inbox = Path(hostile.csv_inbox)
    bad_name = os.fsencode(inbox) + b"/production_\xff\xfe.csv"
    with open(bad_name, "wb") as handle:
        handle.write(clean_production(3).encode("utf-8"))
    (inbox / "production\nnewline.csv").write_text(clean_production(4), encoding="utf-8")
    (inbox / "production.csv").write_text(clean_production(5), encoding="utf-8")

    outcome = load(hostile)

    assert not outcome.ok
    assert set(outcome.details["refused_files"]) == {
        "production_\\xff\\xfe.csv",
        "production\\x0anewline.csv",
    }
    assert "not valid UTF-8" in outcome.error and "control character" in outcome.error
    assert outcome.details["rows_loaded"] == {"production.csv": 1}
    assert len(refused(hostile)) == 2
    assert set(os.listdir(os.fsencode(inbox))) == {b"refused", b"archive"}
    assert_after_every_case(hostile, outcome)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\n\n\n",
        MAINTENANCE_HEADER.encode("utf-8"),
        bytes(range(256)) * 50,
        b"\xef\xbb\xbf" + b";" * 10_000 + b"\n",
    ],
    ids=["empty", "blank-lines", "header-only", "binary", "separators-only"],
)
def test_empty_binary_or_headless_files_do_not_stop_the_others(
    hostile: Settings, content: bytes
) -> None:
    inbox = Path(hostile.csv_inbox)
    (inbox / "odd.csv").write_bytes(content)
    (inbox / "production.csv").write_text(clean_production(6), encoding="utf-8")

    outcome = load(hostile)

    assert outcome.details["rows_loaded"]["production.csv"] == 1
    assert outcome.details["rows_read"].get("odd.csv", 0) == 0
    assert_after_every_case(hostile, outcome)


@pytest.mark.parametrize(
    "rows",
    [
        # one field too many: the phone number shifts every column after the name
        "M-1;T1;01/10/2025 08:00;01/10/2025 10:00;Préventive;gearbox;Vidange;Zoé Lefèvre;"
        f"{PHONE};zoe.lefevre@example.fr\n",
        # one field too few: the e-mail lands where the name should be
        "M-2;T1;01/10/2025 08:00;01/10/2025 10:00;Préventive;gearbox;Zoé Lefèvre;"
        "zoe.lefevre@example.fr\n",
        # the person written in the free-text columns of a row of the wrong shape
        "M-3;Marc Dubois;marc.dubois@example.fr;Zoé Lefèvre\n",
        # a rejected row of the right shape: its personal columns are pseudonymised
        "M-4;T1;32/10/2025 08:00;;Corrective;rotor;Pale;Marc Dubois;marc.dubois@example.fr\n",
    ],
    ids=["field-too-many", "field-too-few", "shuffled", "bad-date"],
)
def test_malformed_rows_keep_no_personal_data_in_clear(hostile: Settings, rows: str) -> None:
    inbox = Path(hostile.csv_inbox)
    (inbox / "maintenance.csv").write_text(MAINTENANCE_HEADER + rows, encoding="utf-8")

    outcome = load(hostile)

    assert outcome.details["rows_rejected"] == {"maintenance.csv": 1}
    (raw_line,) = query(hostile, "select raw_line from raw.maintenance_log__rejected")[0]
    assert "psn_" in raw_line
    assert_after_every_case(hostile, outcome)


def test_an_unexpected_column_is_pseudonymised_in_rejected_rows(hostile: Settings) -> None:
    inbox = Path(hostile.csv_inbox)
    header = MAINTENANCE_HEADER.rstrip("\n") + ";Téléphone\n"
    rows = (
        "M-1;T1;01/10/2025 08:00;01/10/2025 10:00;Préventive;gearbox;Vidange;Zoé Lefèvre;"
        f"zoe.lefevre@example.fr;{PHONE}\n"
        "M-2;T1;99/10/2025 08:00;;Préventive;gearbox;Vidange;Marc Dubois;"
        f"marc.dubois@example.fr;{PHONE}\n"
    )
    (inbox / "maintenance.csv").write_text(header + rows, encoding="utf-8")

    outcome = load(hostile)

    assert outcome.details["rows_loaded"] == {"maintenance.csv": 1}
    assert outcome.details["rows_rejected"] == {"maintenance.csv": 1}
    (raw_line,) = query(hostile, "select raw_line from raw.maintenance_log__rejected")[0]
    assert raw_line.startswith("M-2;T1;99/10/2025 08:00;;Préventive;gearbox;Vidange;psn_")
    assert_after_every_case(hostile, outcome)


def test_rows_postgresql_refuses_set_the_package_aside_and_refuse_their_file_alone(
    hostile: Settings,
) -> None:
    """A refusal the loader cannot foresee (here a check constraint added to raw): the load
    package is aborted, not left pending for every later run; the files are landed one by
    one, and only the file PostgreSQL refuses is refused."""
    inbox = Path(hostile.csv_inbox)
    (inbox / "first.csv").write_text(clean_production(7), encoding="utf-8")
    assert load(hostile).ok
    query(
        hostile,
        "alter table raw.production_daily add constraint energy_is_plausible "
        "check (energy_kwh < 1000000)",
    )
    (inbox / "absurd.csv").write_text(
        PRODUCTION_HEADER + "08/10/2025;T1;99 999 999;99;24\n", encoding="utf-8"
    )
    (inbox / "fine.csv").write_text(clean_production(9), encoding="utf-8")

    outcome = load(hostile)

    assert not outcome.ok
    assert "absurd.csv: PostgreSQL refuses its rows" in outcome.error
    assert "energy_is_plausible" in outcome.error
    assert set(outcome.details["refused_files"]) == {"absurd.csv"}
    assert outcome.details["rows_loaded"] == {"fine.csv": 1}
    assert any(name.endswith("__absurd.csv") for name in refused(hostile))
    assert_after_every_case(hostile, outcome)


def test_a_file_replaced_while_it_is_read_is_loaded_as_hashed_or_left(hostile: Settings) -> None:
    """The exporter rewrites the file during the run: the rows loaded are those of the
    version hashed (archived under its hash), and the new version stays in the inbox for
    the next run, which loads it in place of the first."""
    inbox = Path(hostile.csv_inbox)
    first = PRODUCTION_HEADER + "".join(
        f"{1 + n % 28:02d}/10/2025;T{n};{n},5;99;24\n" for n in range(1, 60_001)
    )
    second = clean_production(10)
    path = inbox / "production.csv"
    path.write_text(first, encoding="utf-8")

    def replace_during_the_read() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            reading = inbox / ".reading"
            if reading.is_dir() and any(reading.iterdir()):
                path.write_text(second, encoding="utf-8")
                return
            time.sleep(0.005)

    replacer = threading.Thread(target=replace_during_the_read)
    replacer.start()
    outcome = load(hostile)
    replacer.join()

    read = outcome.details["rows_read"].get("production.csv", 0)
    assert rows_by_file(hostile).get("production.csv", 0) == read
    if read:  # loaded: exactly the version hashed, archived under its hash
        (sha256,) = query(
            hostile,
            "select distinct _source_file_sha256 from raw.production_daily "
            "where _source_file = 'production.csv'",
        )[0]
        (archived,) = (inbox / "archive").glob("*__production.csv")
        assert hashlib.sha256(archived.read_bytes()).hexdigest() == sha256
        assert read == archived.read_text(encoding="utf-8").count("\n") - 1
    else:  # copied while being written: left for the next run, said
        assert "being written" in outcome.details["skipped_files"]["production.csv"]
    if path.exists():  # the new version waits in the inbox, whole
        assert path.read_text(encoding="utf-8") == second
        load(hostile)
    final = query(
        hostile,
        "select count(*), min(_source_file_sha256) from raw.production_daily "
        "where _source_file = 'production.csv'",
    )
    assert final == [(1, hashlib.sha256(second.encode("utf-8")).hexdigest())]
    assert_after_every_case(hostile, load(hostile))
