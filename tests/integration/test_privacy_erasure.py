"""An erasure request, end to end, with the operator's script (scripts/security/erase_person.py).

Its own database (the session's demo database must keep its data): the demo month's CSV
exports and three days of the sensor database are loaded, then one technician and one
operator are erased; the second after a key rotation, found through the previous key.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from warehouse_sql import query, scalar

from loaders import warehouse
from loaders.demo_park import generate
from loaders.demo_park.park import DEMO_END, DEMO_START
from loaders.privacy import leakscan
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import PROJECT_ROOT, Settings
from loaders.sources.production_csv.load import load_production_csv
from loaders.sources.sensor_db import load as sensor_load

ERASE = PROJECT_ROOT / "scripts" / "security" / "erase_person.py"
TECHNICIAN = ("Léa Fontaine", "lea.fontaine@energitech.fr")
OPERATOR = "Camille Durand"  # acknowledged an alarm on 3 October


@pytest.fixture(scope="module")
def loaded(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    work = tmp_path_factory.mktemp("erasure")
    own = replace(
        settings,
        database=f"windfarm_erasure_{secrets.token_hex(4)}",
        dlt_dir=str(work / "dlt"),
        csv_inbox=str(work / "demo" / "inbox"),
        sensor_db_url=f"sqlite:///{work / 'demo' / 'sources' / 'sensor.db'}",
        reports_dir=str(work / "reports"),
        dbt_target_dir=str(work / "dbt_target"),
    )
    generate(work / "demo", DEMO_START, DEMO_END, seed=42)
    warehouse.bootstrap(own)
    try:
        key = Pseudonymiser(own.pseudonym_key)
        assert load_production_csv(own, key).ok
        assert sensor_load.load_sensor_db(own, date(2025, 10, 3), date(2025, 10, 3), key).ok
        yield own
    finally:
        warehouse.drop_database(own)


def _erase(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "WINDFARM_DATABASE": settings.database,
        "WINDFARM_PSEUDONYM_KEY": settings.pseudonym_key,
        "WINDFARM_DLT_DIR": settings.dlt_dir,
        "WINDFARM_CSV_INBOX": settings.csv_inbox,
        **env,
    }
    return subprocess.run(
        [sys.executable, str(ERASE), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _row_counts(settings: Settings) -> dict[str, int]:
    tables = ("maintenance_log", "maintenance_log__rejected", "scada_alarms", "production_daily")
    return {t: scalar(settings, f"select count(*) from raw.{t}") for t in tables}


def test_a_technician_is_erased_and_nothing_else_changes(loaded: Settings) -> None:
    settings = loaded
    key = Pseudonymiser(settings.pseudonym_key)
    tokens = [key.token(value) for value in TECHNICIAN]
    others = query(
        settings,
        "select technician_pseudonym, count(*) from raw.maintenance_log "
        f"where technician_pseudonym <> '{tokens[0]}' group by 1 order by 1",
    )
    before = _row_counts(settings)
    assert {finding.where for finding in leakscan.scan_database(settings, tokens)} >= {
        "raw.maintenance_log.technician_pseudonym",
        "raw.maintenance_log.technician_email_pseudonym",
    }
    # A model that (wrongly) copied the pseudonym: the erasure must say to rebuild it.
    query(
        settings,
        "create table intermediate.int_leaky_copies as "
        "select technician_pseudonym from raw.maintenance_log",
        role="transformer",
    )
    dry = _erase(settings, "--reference", "DPO-TEST-1", "--dry-run", *_identifiers(TECHNICIAN))
    assert dry.returncode == 1, dry.stdout + dry.stderr
    assert "would change 2 row(s) of raw.maintenance_log.technician_pseudonym" in dry.stdout
    assert leakscan.scan_database(settings, tokens[:1]), "a dry run changed the data"

    erased = _erase(settings, "--reference", "DPO-TEST-1", *_identifiers(TECHNICIAN))

    assert erased.returncode == 1, erased.stdout + erased.stderr  # things left for people
    report = erased.stdout
    assert "changed 2 row(s) of raw.maintenance_log.technician_pseudonym" in report
    assert "changed 2 row(s) of raw.maintenance_log.technician_email_pseudonym" in report
    assert "REBUILD intermediate.int_leaky_copies" in report
    assert "SOURCE still holds the person in clear" in report and "journal_maintenance" in report
    found = {finding.where for finding in leakscan.scan_database(settings, tokens)}
    assert found == {"intermediate.int_leaky_copies.technician_pseudonym"}
    assert leakscan.scan_paths([Path(settings.dlt_dir)], tokens) == []
    # Nothing else changed: same rows, the other technicians keep their tokens.
    assert _row_counts(settings) == before
    assert (
        query(
            settings,
            "select technician_pseudonym, count(*) from raw.maintenance_log "
            "where technician_pseudonym is not null group by 1 order by 1",
        )
        == others
    )
    journal = query(
        settings, "select reference, tokens_searched, rows_changed::text from audit.erasure_log"
    )
    assert [(reference, count) for reference, count, _ in journal] == [("DPO-TEST-1", 2)]
    assert leakscan.scan_database(settings, [*TECHNICIAN, *tokens], role="admin") == [
        leakscan.Finding("intermediate.int_leaky_copies.technician_pseudonym", tokens[0])
    ]


def test_after_a_key_rotation_the_previous_key_still_finds_the_person(loaded: Settings) -> None:
    settings = loaded
    token = Pseudonymiser(settings.pseudonym_key).token(OPERATOR)
    assert query(
        settings,
        f"select count(*) from raw.scada_alarms where acknowledged_by_pseudonym = '{token}'",
    ) == [(1,)]
    rotated = {
        "WINDFARM_PSEUDONYM_KEY": "a-new-key-" + secrets.token_hex(16),
        "WINDFARM_PSEUDONYM_PREVIOUS_KEYS": settings.pseudonym_key,
    }
    without_old_key = _erase(
        settings,
        "--reference",
        "DPO-TEST-2",
        "--dry-run",
        "--identifier",
        OPERATOR,
        WINDFARM_PSEUDONYM_PREVIOUS_KEYS="",
        WINDFARM_PSEUDONYM_KEY=rotated["WINDFARM_PSEUDONYM_KEY"],
    )
    assert "no row of raw holds these tokens" in without_old_key.stdout

    erased = _erase(settings, "--reference", "DPO-TEST-2", "--identifier", OPERATOR, **rotated)

    assert "changed 1 row(s) of raw.scada_alarms.acknowledged_by_pseudonym" in erased.stdout
    assert leakscan.scan_database(settings, [token]) == []


def test_an_erasure_without_reference_or_identifier_is_refused(loaded: Settings) -> None:
    refused = _erase(loaded, "--reference", " ", "--identifier", OPERATOR)
    assert refused.returncode == 2
    assert "reference" in refused.stderr


def _identifiers(values: tuple[str, ...]) -> list[str]:
    return [argument for value in values for argument in ("--identifier", value)]
