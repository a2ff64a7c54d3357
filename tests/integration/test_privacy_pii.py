"""Personal data is pseudonymised before it is written anywhere, and the registry says where.

Uses the demo month (the session's `demo` run): its people are the simulator's
`PERSONAL_NAMES` and `PERSONAL_EMAILS`. None of them may appear in any table, in a plain
dump of the database, in the quality pages, in dbt's target folder or in dlt's local
files, while the sources themselves do hold them (the scanner's positive control).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

from warehouse_sql import query

from loaders.demo_park.simulator import (
    PERSONAL_EMAILS,
    PERSONAL_NAMES,
    maintenance_interventions,
)
from loaders.privacy import leakscan
from loaders.privacy.pseudonymise import TOKEN_HEX_CHARS, TOKEN_PREFIX, Pseudonymiser
from loaders.settings import PROJECT_ROOT, Settings

PEOPLE = (*PERSONAL_NAMES, *PERSONAL_EMAILS)
# "NOM Prénom", as many exports write names: also searched for.
REVERSED_NAMES = tuple(" ".join(reversed(name.split())) for name in PERSONAL_NAMES)
MART_SCHEMAS = ("core", "ml", "quality")
TOKEN_PATTERN = f"{TOKEN_PREFIX}[0-9a-f]{{{TOKEN_HEX_CHARS}}}"
REGISTRY = PROJECT_ROOT / "scripts" / "security" / "pii_registry.py"


def test_the_sources_do_hold_clear_names(demo, demo_dir: Path) -> None:  # noqa: ANN001
    """Positive control: the scanner finds the people where they legitimately are."""
    found = {finding.needle for finding in leakscan.scan_paths([demo_dir], PEOPLE)}
    assert set(PERSONAL_EMAILS) <= found
    assert {name for name in PERSONAL_NAMES if name in found}


def test_no_table_holds_a_clear_name_or_email(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    assert leakscan.scan_database(settings, PEOPLE + REVERSED_NAMES) == []


def test_no_dump_report_or_local_file_holds_a_clear_name_or_email(demo, tmp_path) -> None:  # noqa: ANN001
    settings, _, _ = demo
    dump = leakscan.plain_dump(settings, tmp_path / "dump.sql")
    assert dump.stat().st_size > 100_000  # the demo month, not an empty file
    written = [
        dump,
        Path(settings.reports_dir),
        Path(settings.dbt_target_dir),
        Path(settings.dlt_dir),
    ]
    assert all(path.exists() for path in written)
    assert leakscan.scan_paths(written, PEOPLE + REVERSED_NAMES) == []


def test_the_same_person_gets_the_same_token_so_analyses_still_work(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    key = Pseudonymiser(settings.pseudonym_key)
    rows = query(
        settings,
        "select technician_pseudonym, technician_email_pseudonym, count(*) "
        "from raw.maintenance_log group by 1, 2",
    )
    technicians = {
        key.token(intervention.technician.name): key.token(intervention.technician.email)
        for intervention in maintenance_interventions()
    }
    # Each name token pairs with its own e-mail token only, and someone did several jobs.
    assert len(rows) >= 2 and {name for name, _, _ in rows} <= set(technicians)
    assert all(technicians[name] == email for name, email, _ in rows)
    assert max(count for *_, count in rows) > 1
    acknowledged = query(
        settings,
        "select distinct acknowledged_by_pseudonym from raw.scada_alarms "
        "where acknowledged_by_pseudonym is not null",
    )
    operators = {key.token(name) for name in PERSONAL_NAMES}
    assert acknowledged and {token for (token,) in acknowledged} <= operators


def test_every_column_holding_a_pseudonym_is_in_the_registry(demo) -> None:  # noqa: ANN001
    """Data-driven: find the columns that hold tokens in the live database, then ask the
    registry (dbt meta, via scripts/security/pii_registry.py) about each."""
    settings, _, _ = demo
    registered = {(row["relation"], row["column"]) for row in _registry(settings)}
    holding = _columns_holding_tokens(settings)
    assert ("raw.maintenance_log", "technician_pseudonym") in holding
    assert ("raw.scada_alarms", "acknowledged_by_pseudonym") in holding
    unregistered = {
        column
        for column in holding
        if column not in registered and not column[0].startswith("raw_staging.")
    }
    assert not unregistered, f"personal-data columns missing `contains_pii` meta: {unregistered}"


def test_no_mart_holds_personal_data(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    in_marts = [
        column
        for column in _columns_holding_tokens(settings)
        if column[0].split(".")[0] in MART_SCHEMAS
    ]
    assert in_marts == []
    flagged = [row for row in _registry(settings) if row["relation"].split(".")[0] in MART_SCHEMAS]
    assert flagged == []


def _registry(settings: Settings) -> list[dict[str, str]]:
    manifest = Path(settings.dbt_target_dir) / "manifest.json"
    listed = subprocess.run(
        [sys.executable, str(REGISTRY), "--manifest", str(manifest), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(listed.stdout)
    assert rows, "the registry is empty"
    return rows


@functools.cache
def _columns_holding_tokens(settings: Settings) -> frozenset[tuple[str, str]]:
    """(schema.table, column) of every table or view column holding a pseudonym token;
    one pass over each relation."""
    relations = query(
        settings,
        """
        select table_schema, table_name, array_agg(column_name::text order by column_name)
          from information_schema.columns
         where data_type in ('text', 'character varying', 'jsonb')
           and table_schema not in ('pg_catalog', 'information_schema')
         group by 1, 2
        """,
    )
    holding = set()
    for schema, table, columns in relations:
        found = ", ".join(f'bool_or("{column}"::text ~ %(token)s)' for column in columns)
        flags = query(
            settings, f'select {found} from "{schema}"."{table}"', {"token": TOKEN_PATTERN}
        )
        holding |= {
            (f"{schema}.{table}", column)
            for column, flag in zip(columns, flags[0], strict=True)
            if flag
        }
    return frozenset(holding)


def test_the_auditors_scan_covers_every_folder_the_product_writes(demo, demo_dir: Path) -> None:  # noqa: ANN001
    """`scan_for_pii.py --written`: the database, reports, logs and dlt's files are clean;
    the same scan pointed at the inbox (the sources as received) finds the people."""
    settings, _, _ = demo
    environment = {
        "WINDFARM_DATABASE": settings.database,
        "WINDFARM_REPORTS_DIR": settings.reports_dir,
        "WINDFARM_DLT_DIR": settings.dlt_dir,
        "WINDFARM_LOG_DIR": settings.log_dir,
    }
    scan = [sys.executable, str(PROJECT_ROOT / "scripts" / "security" / "scan_for_pii.py")]
    clean = subprocess.run(
        [*scan, "--demo", "--written"],
        env={**_environment(), **environment},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.startswith("OK: none of")
    found = subprocess.run(
        [*scan, "--demo", "--path", str(demo_dir / "inbox")],
        env={**_environment(), **environment},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert found.returncode == 1 and "archive" in found.stdout


def _environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("WINDFARM_")}
