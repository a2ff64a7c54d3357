"""The data subject's rights as commands, on warehouses of their own fed with the demo
month's maintenance exports: look-up and access request (journalled, nothing personal in
the journal), restriction (new loads blank the person, nothing is lost), objection (the
link erased and kept out), and the token migration of the accent folding.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cli import loaders_command
from warehouse_sql import query

from loaders import warehouse
from loaders.demo_park import generate
from loaders.demo_park.park import DEMO_END, DEMO_START
from loaders.privacy import keys, leakscan, rights
from loaders.privacy.pseudonymise import (
    Pseudonymiser,
    normalise_before_accent_folding,
    subject_digest,
)
from loaders.settings import Settings
from loaders.sources.production_csv.load import load_production_csv

TECHNICIAN = ("Léa Fontaine", "lea.fontaine@energitech.fr")


@pytest.fixture(scope="module")
def park(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo month's sources, generated once; each warehouse copies the inbox."""
    folder = tmp_path_factory.mktemp("rights_park")
    generate(folder, DEMO_START, DEMO_END, seed=42)
    return folder


def _warehouse(settings: Settings, park: Path, work: Path, name: str) -> Settings:
    shutil.copytree(park / "inbox", work / "inbox")
    own = replace(
        settings,
        database=f"windfarm_rights_{name}_{secrets.token_hex(3)}",
        dlt_dir=str(work / "dlt"),
        csv_inbox=str(work / "inbox"),
        reports_dir=str(work / "reports"),
        log_dir=str(work / "log"),
        dbt_target_dir=str(work / "dbt_target"),
    )
    warehouse.bootstrap(own)
    return own


@pytest.fixture(scope="module")
def loaded(
    settings: Settings, park: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    own = _warehouse(settings, park, tmp_path_factory.mktemp("rights_loaded"), "loaded")
    try:
        assert load_production_csv(own, keys.pseudonymiser(own)).ok
        yield own
    finally:
        warehouse.drop_database(own)


def _person_file(tmp_path: Path) -> Path:
    """The identifiers in a file: names stay out of the shell's history and `ps`."""
    path = tmp_path / "person.txt"
    path.write_text("\n".join(TECHNICIAN) + "\n", encoding="utf-8")
    return path


def _tokens(settings: Settings) -> list[str]:
    key = Pseudonymiser(settings.pseudonym_key)
    return [key.token(value) or "" for value in TECHNICIAN]


def _journal_is_not_personal(settings: Settings) -> None:
    found = leakscan.scan_database(settings, [*TECHNICIAN, *_tokens(settings)])
    assert [f for f in found if f.where.startswith("audit.")] == []


def test_a_name_lookup_is_journalled(loaded: Settings, tmp_path: Path) -> None:
    done = loaders_command(
        loaded,
        "lookup",
        "--reference",
        "LK-1",
        "--identifiers-file",
        str(_person_file(tmp_path)),
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(token in done.stdout for token in _tokens(loaded))
    counted = loaders_command(
        loaded,
        "erase",
        "--dry-run",
        "--reference",
        "LK-1",
        "--identifier",
        TECHNICIAN[1],
        timeout=300,
    )
    assert "would change 2 row(s) of raw.maintenance_log.technician_email_pseudonym" in (
        counted.stdout  # her two interventions; a dry run changes nothing
    ), counted.stdout + counted.stderr
    [(details,)] = query(loaded, "select details from audit.privacy_log where reference = 'LK-1'")
    assert details == {"identifiers": 2, "tokens": 2}
    _journal_is_not_personal(loaded)


def test_an_access_request_exports_rows_and_source_lines(loaded: Settings, tmp_path: Path) -> None:
    output = tmp_path / "dpo" / "AR-1.json"
    arguments = ("access-request", "--reference", "AR-1", "--output", str(output))
    person = ("--identifiers-file", str(_person_file(tmp_path)))

    done = loaders_command(loaded, *arguments, *person, timeout=300)

    assert done.returncode == 0, done.stdout + done.stderr
    assert output.stat().st_mode & 0o777 == 0o600
    export = json.loads(output.read_text(encoding="utf-8"))
    [held_rows] = [
        rows for table, rows in export["tables"].items() if table == "raw.maintenance_log"
    ]
    held = [row for row in held_rows if row["technician_pseudonym"] == _tokens(loaded)[0]]
    assert held and len(held) == len(held_rows)
    lines = [line for found in export["source_files"].values() for line in found]
    assert lines and all("fontaine" in line.lower() for line in lines)
    rejected = export["tables"]["raw.maintenance_log__rejected"]  # a line with a bad date
    assert all(_tokens(loaded)[0] in json.dumps(row) for row in rejected)
    assert len(lines) == len(held) + len(rejected)  # each source line, each row it became
    again = loaders_command(loaded, *arguments, *person, timeout=300)
    assert again.returncode == 2 and "never overwrites" in again.stderr
    [(details,)] = query(loaded, "select details from audit.privacy_log where reference = 'AR-1'")
    assert details["rows"] == {
        "raw.maintenance_log": len(held),
        "raw.maintenance_log__rejected": len(rejected),
    }
    _journal_is_not_personal(loaded)


def test_tokens_made_before_the_accent_folding_are_migrated(
    loaded: Settings, tmp_path: Path
) -> None:
    key = Pseudonymiser(loaded.pseudonym_key)
    legacy = key.token(TECHNICIAN[0], normaliser=normalise_before_accent_folding)
    new = key.token(TECHNICIAN[0])
    query(
        loaded,
        "create table raw.legacy_rows (technician_pseudonym text, raw_line jsonb); "
        f"insert into raw.legacy_rows values ('{legacy}', '{{\"technicien\": \"{legacy}\"}}')",
        role="loader",
    )
    staff = tmp_path / "staff.txt"
    staff.write_text("Léa Fontaine\nCamille Durand\n", encoding="utf-8")
    arguments = ("migrate-tokens", "--reference", "CHG-1", "--identifiers-file", str(staff))

    dry = loaders_command(loaded, *arguments, "--dry-run", timeout=300)
    assert "would change 2 value(s)" in dry.stdout, dry.stdout + dry.stderr
    done = loaders_command(loaded, *arguments, timeout=300)

    assert done.returncode == 0, done.stdout + done.stderr
    assert query(
        loaded, "select technician_pseudonym, raw_line->>'technicien' from raw.legacy_rows"
    ) == [(new, new)]
    [(details,)] = query(loaded, "select details from audit.privacy_log where reference = 'CHG-1'")
    assert details["tokens_changed"] == 1  # Camille Durand has no accent: same token


def test_an_upheld_objection_erases_the_link_and_keeps_it_out(
    loaded: Settings, tmp_path: Path
) -> None:
    """Her token is also planted where the product writes outside the database (a log
    line, a quality page) and her name in an export whose extension is upper case."""
    rows = query(loaded, "select count(*) from raw.maintenance_log")
    token = _tokens(loaded)[0]
    log = Path(loaded.log_dir) / "windfarm-elt.jsonl"
    page = Path(loaded.reports_dir) / "20251031T000000Z-abcdef" / "index.html"
    for path, text in ((log, f'{{"message": "rejected: {token};x"}}\n'), (page, token)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    shouted = Path(loaded.csv_inbox) / "refused" / "0123456789ab__EXPORT.CSV"
    shouted.parent.mkdir(exist_ok=True)
    shouted.write_bytes("Intervention;Technicien\nINT-9;LÉA FONTAINE\n".encode("cp1252"))

    done = loaders_command(
        loaded,
        "object",
        "--reference",
        "OB-1",
        "--identifiers-file",
        str(_person_file(tmp_path)),
        timeout=300,
    )

    assert done.returncode == 1, done.stdout + done.stderr  # the archived exports name her
    assert f"SOURCE still holds the person in clear: {shouted}" in done.stdout
    assert "log and report files scrubbed: 2" in done.stdout
    assert leakscan.scan_paths([log, page], [token]) == []
    assert query(loaded, "select count(*) from raw.maintenance_log") == rows  # nothing lost
    assert leakscan.scan_database(loaded, _tokens(loaded)) == []
    digests = {subject_digest(token) for token in _tokens(loaded)}
    assert digests <= rights.suppressed(loaded)
    assert query(loaded, "select action from audit.privacy_log where reference = 'OB-1'") == [
        ("objection",)
    ]
    assert query(loaded, "select reference from audit.erasure_log") == [("OB-1",)]


def test_a_restricted_person_loads_blank_until_the_restriction_is_lifted(
    settings: Settings, park: Path, tmp_path: Path
) -> None:
    own = _warehouse(settings, park, tmp_path, "restricted")
    person = ("--identifiers-file", str(_person_file(tmp_path)))
    try:
        done = loaders_command(own, "restrict", "--reference", "RS-1", *person, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr

        outcome = load_production_csv(own, keys.pseudonymiser(own, rights.suppressed(own)))

        assert outcome.ok
        [(rows, blank, hers)] = query(
            own,
            "select count(*), count(*) filter (where technician_pseudonym is null), "
            "count(*) filter (where technician_pseudonym = %s) from raw.maintenance_log",
            (_tokens(own)[0],),
        )
        assert rows > blank > 0 and hers == 0  # her interventions load, without her
        lifted = loaders_command(
            own, "restrict", "--lift", "--reference", "RS-2", *person, timeout=300
        )
        assert lifted.returncode == 0, lifted.stdout + lifted.stderr
        assert rights.suppressed(own) == frozenset()
        assert query(
            own, "select action from audit.privacy_log where reference like 'RS-%' order by 1"
        ) == [("restriction",), ("restriction_lifted",)]
    finally:
        warehouse.drop_database(own)
