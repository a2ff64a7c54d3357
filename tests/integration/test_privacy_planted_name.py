"""One unusual person, planted through every input that can carry a name, is nowhere the
product writes in clear, and leaves no trace after an erasure or after retention.

The person, "Éloïse Quintard-Mbappé", is written as the sources would write her (accents,
upper case, mixed case; cp1252 and UTF-8 files) in:

- a maintenance export whose file name ends in `.CSV` (upper case): `Technicien` and
  `Email technicien` (the personal columns of `config/mont_crosnier/exports.yaml`), and
  an unexpected column (`Chef d'équipe`) the spec does not name;
- a maintenance export ending in `.csv`: a row rejected for a bad date while naming her,
  a row of the header's shape with her name where a date is expected, and a row with a
  field too many (her e-mail shifted into another column);
- a headless export (its first line a data row naming her): the file is refused whole;
- the sensor database's `alarm_event.acknowledged_by`: an alarm she acknowledged, and an
  alarm rejected (no code: blanks) she acknowledged too.

Then the real daily run (`python -m loaders run`, as cron calls it: loader, retention,
`dbt build`, the quality page, the JSON log) on a warehouse of its own, and the
deliverable's SQL data dump. The proofs, each by the product's own scan
(`loaders.privacy.leakscan`) and by an independent search (the whole row as text of every
relation; the bytes of every file under the run's folders, gzip and Parquet opened):

(a) after the run, the clear name is only where the design keeps it: the source system
    (the sensor database) and the inbox's `archive/` and `refused/` folders (the files as
    received, kept for their retention period so that a load can be traced and redone;
    docs/gdpr.md, "Retention"); and her tokens did reach raw (the planting worked);
(b) after `python -m loaders erase`, none of her tokens is anywhere (tables, dlt's folders,
    logs, reports, a new dump), and the only clear copies are the source files the
    erasure names for redaction;
(c) after the retention purge, with every period forced to one day by a policy file
    (`retention_policy`), on a copy of the same warehouse and folders taken before the
    erasure: neither her name nor her tokens remain anywhere the product writes.

Found by it and fixed: a name where a date was expected stayed in clear in the rejected
line and its reason (so in a quality mart, the quality page, the dump); a headless file's
first line went to the audit trail (append-only: beyond any erasure), the log and the
page; retention left tokens in dlt's `raw_staging` copies and in `_extra_columns`; every
erasure reported a pending dlt load that did not exist.

Not planted, on purpose: a name in a free-text column (`Description`) or in a file's name
is kept as the source wrote it; keeping names out of those is the source owner's part
(docs/security.md, "What stays the operator's job"), and neither can be told from other
text without a staff list.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cli import loaders_command
from psycopg2 import sql
from warehouse_sql import query

from loaders import warehouse
from loaders.privacy import leakscan, retention
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import Settings
from scripts.deliverable import database, sql_scripts

DAY = date(2025, 10, 3)
NAME = "Éloïse Quintard-Mbappé"
EMAIL = "eloise.quintard-mbappe@energitech.fr"
# How the sources write her: as HR spells it, in capitals, in a mixed case.
SPELLINGS = (NAME, "ÉLOÏSE QUINTARD-MBAPPÉ", "éloïse QUINTARD-mbappé")
PERSON = (*SPELLINGS, EMAIL, "Quintard-Mbappé Éloïse")  # and "NOM Prénom"
# The independent search: her surname without accents, lower case. Every spelling, e-mail
# and encoding (UTF-8 composed or not, cp1252) of her holds these ASCII bytes.
CLEAR_BYTES = b"quintard"
HEADER = "N° intervention;Eolienne;Début;Fin;Type;Composant;Description;Technicien;Email technicien"


@dataclass(frozen=True)
class Planted:
    settings: Settings  # the warehouse and folders the run wrote
    work: Path  # every folder of the run: park (sources, inbox), dlt, log, reports, ...
    copy: Settings  # a copy of both, taken after the run, for the retention case
    copy_work: Path
    run: subprocess.CompletedProcess


def _plant(settings: Settings) -> None:
    inbox = Path(settings.csv_inbox)
    upper = (
        f"{HEADER};Chef d'équipe\n"
        "INT-PLANT-1;MTC-T01;03/10/2025 08:00;03/10/2025 09:00;Corrective;gearbox;"
        f"Contrôle;{SPELLINGS[1]};{EMAIL.upper()};{SPELLINGS[2]}\n"
    )
    (inbox / "PLANTED_MAINTENANCE.CSV").write_bytes(upper.encode("cp1252"))
    lower = (
        f"{HEADER}\n"
        # rejected for its date; her name and e-mail in their own columns
        "INT-PLANT-2;MTC-T01;32/10/2025 08:00;;Corrective;rotor;Pale;"
        f"{SPELLINGS[0]};{EMAIL}\n"
        # the header's shape, her name where the start time should be
        f"INT-PLANT-3;MTC-T02;{SPELLINGS[2]};03/10/2025 11:00;Corrective;rotor;Pale;;\n"
        # a field too many: her e-mail shifted to the next column
        "INT-PLANT-4;MTC-T02;03/10/2025 08:00;03/10/2025 09:00;Corrective;rotor;Pale;"
        f"{SPELLINGS[0]};+33 6 12 34 56 78;{EMAIL}\n"
    )
    (inbox / "planted_maintenance.csv").write_text(lower, encoding="utf-8")
    headless = (
        "INT-PLANT-5;MTC-T03;03/10/2025 08:00;03/10/2025 09:00;Corrective;rotor;Pale;"
        f"{SPELLINGS[1]};{EMAIL}\n"
    )
    (inbox / "planted_headless.csv").write_text(headless, encoding="utf-8")
    sensor_db = settings.sensor_db_url.removeprefix("sqlite:///")
    with sqlite3.connect(sensor_db) as connection:
        connection.executemany(
            "insert into alarm_event (turbine_id, alarm_code, started_at_utc, ended_at_utc, "
            "acknowledged_by) values (?, ?, ?, ?, ?)",
            [
                ("MTC-T01", 5002, "2025-10-03 12:00:00", "2025-10-03 12:30:00", SPELLINGS[2]),
                ("MTC-T02", "   ", "2025-10-03 13:00:00", None, SPELLINGS[1]),
            ],
        )


@pytest.fixture(scope="module")
def planted(
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    park_warehouse: Callable,
    database_copy: Callable,
) -> Iterator[Planted]:
    work = tmp_path_factory.mktemp("planted")
    with park_warehouse(settings, work, "planted", DAY, DAY, sensor_lookback_days=0) as (
        park,
        _,
    ):
        _plant(park)
        run = loaders_command(park, "run", "--date", DAY.isoformat(), timeout=900)
        # what cron keeps of the run (mail or a redirect): part of what the product writes
        (work / "cron-output.txt").write_text(run.stdout + run.stderr, encoding="utf-8")
        with database_copy(park, "planted_retention") as copied:
            copy_work = tmp_path_factory.mktemp("planted_copy")
            yield Planted(park, work, _copy_folders(park, work, copied, copy_work), copy_work, run)


def _copy_folders(settings: Settings, work: Path, copied: Settings, target: Path) -> Settings:
    """The run's folders copied for the copied database (dlt's folder is per database)."""
    shutil.copytree(work, target, dirs_exist_ok=True, symlinks=True)
    old_dlt = target / "dlt" / settings.database
    if old_dlt.exists():
        old_dlt.rename(target / "dlt" / copied.database)
    moved = {
        name: str(target / Path(getattr(settings, name)).relative_to(work))
        for name in ("dlt_dir", "reports_dir", "log_dir", "csv_inbox")
    }
    return replace(
        copied,
        **moved,
        sensor_db_url=f"sqlite:///{target / 'park' / 'sources' / 'sensor.db'}",
        dbt_target_dir=str(target / "dbt_target"),
    )


def _tokens(settings: Settings) -> list[str]:
    key = Pseudonymiser(settings.pseudonym_key)
    return sorted({token for value in (*SPELLINGS, EMAIL) if (token := key.token(value))})


def _dump(settings: Settings, work: Path) -> Path:
    """The deliverable's SQL data dump as of now, made by the deliverable's own code (one
    file, replaced: a dump handed over before an erasure is out of the product's reach)."""
    schemas = sql_scripts.dump_schemas(database.bootstrap_schemas(sql_scripts.bootstrap_sql()))
    return sql_scripts.data_dump(settings, schemas, work / "deliverable" / "donnees.sql")


def _tables_holding(settings: Settings, needles: list[str]) -> dict[str, int]:
    """Independent of leakscan: every table, view and materialized view outside the
    system schemas, each whole row read as text (every column, whatever its type),
    searched case-insensitively; {relation: rows}."""
    patterns = [f"%{needle.lower()}%" for needle in needles]
    found: dict[str, int] = {}
    connection = warehouse.connect(settings, "admin")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                """
                select n.nspname, c.relname
                  from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
                 where c.relkind in ('r', 'p', 'v', 'm')
                   and n.nspname not in ('pg_catalog', 'information_schema')
                   and n.nspname not like 'pg\\_%%'
                 order by 1, 2
                """
            )
            for schema, table in cursor.fetchall():
                cursor.execute(
                    sql.SQL(
                        "select count(*) from {} as t where lower(t::text) like any(%s)"
                    ).format(sql.Identifier(schema, table)),
                    (patterns,),
                )
                rows = cursor.fetchone()[0]
                if rows:
                    found[f"{schema}.{table}"] = rows
    finally:
        connection.close()
    return found


def _file_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data[:4] == b"PAR1":
        table = pq.read_table(path)
        data += "\n".join(str(column) for column in table.to_pydict().values()).encode()
    return data


def _files_holding(root: Path, needles: list[bytes]) -> set[str]:
    """Independent of leakscan: the bytes of every file under root (gzip and Parquet
    opened), lower-cased; the paths relative to root."""
    return {
        str(path.relative_to(root))
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and not path.is_symlink()
        and any(needle in _file_bytes(path).lower() for needle in needles)
    }


def _kept_by_design(relative: str) -> bool:
    """The source system and the source files as received (docs/gdpr.md, "Retention")."""
    return relative == "park/sources/sensor.db" or relative.startswith(
        ("park/inbox/archive/", "park/inbox/refused/")
    )


def _listed(findings: list[leakscan.Finding]) -> str:
    return "\n".join(f"{finding.where}: {finding.needle}" for finding in findings)


def _written(settings: Settings, work: Path) -> list[Path]:
    """Every folder and file the product writes, for the product's own scan."""
    paths = [
        Path(settings.dlt_dir),
        Path(settings.reports_dir),
        Path(settings.log_dir),
        Path(settings.dbt_target_dir),
        work / "deliverable",
        work / "cron-output.txt",
    ]
    return [path for path in paths if path.exists()]


def _nothing_of_the_person_but_clear_files(
    settings: Settings, work: Path, tokens: list[str]
) -> set[str]:
    """After an erasure or a purge, with the deliverable's dump made again: neither the
    product's scan nor the independent search finds her tokens or her name in a table or
    a file; returns the files (relative to `work`) still holding her name in clear."""
    _dump(settings, work)
    found = leakscan.scan_database(settings, [*tokens, *PERSON])
    assert found == [], _listed(found)
    found = leakscan.scan_paths(_written(settings, work), [*tokens, *PERSON])
    assert found == [], _listed(found)
    assert _tables_holding(settings, [*tokens, CLEAR_BYTES.decode()]) == {}
    assert _files_holding(work, [token.encode() for token in tokens]) == set()
    return _files_holding(work, [CLEAR_BYTES])


def test_a_the_name_is_only_where_the_design_keeps_it(planted: Planted) -> None:
    settings, work = planted.settings, planted.work
    assert planted.run.returncode in (0, 2), planted.run.stdout + planted.run.stderr
    _dump(settings, work)
    tokens = _tokens(settings)

    # The planting reached every path: her tokens are in raw, her files were read.
    holding = _tables_holding(settings, tokens)
    for table in (
        "raw.maintenance_log",
        "raw.maintenance_log__rejected",
        "raw.scada_alarms",
        "raw.scada_alarms__rejected",
    ):
        assert holding.get(table), (table, holding)
    key = Pseudonymiser(settings.pseudonym_key)
    [(technician, email, extras)] = query(
        settings,
        "select technician_pseudonym, technician_email_pseudonym, _extra_columns "
        "from raw.maintenance_log where intervention_id = 'INT-PLANT-1'",
    )
    assert (technician, email) == (key.token(NAME), key.token(EMAIL))
    assert json.loads(extras) == {"Chef d'équipe": key.token(NAME)}
    rejected = query(
        settings,
        "select raw_line, reason from raw.maintenance_log__rejected "
        "where _source_file = 'planted_maintenance.csv' order by _source_line",
    )
    assert len(rejected) == 3 and all(key.token(NAME) in line for line, _ in rejected)
    assert "Début: not a date and time: a text, not quoted" in rejected[1][1]
    inbox = Path(settings.csv_inbox)
    assert [p.name for p in (inbox / "archive").glob("*PLANTED_MAINTENANCE.CSV")]
    [reason] = (inbox / "refused").glob("*planted_headless.csv.reason.txt")
    assert "first line as read: INT-PLANT-5" in reason.read_text(encoding="utf-8")

    # (a) the product's own scan, every table and every folder it writes
    found = leakscan.scan_database(settings, PERSON)
    assert found == [], _listed(found)
    found = leakscan.scan_paths(_written(settings, work), PERSON)
    assert found == [], _listed(found)
    # (a) the independent search: tables, then every file of the run
    assert _tables_holding(settings, [CLEAR_BYTES.decode()]) == {}
    clear = _files_holding(work, [CLEAR_BYTES])
    assert {path for path in clear if not _kept_by_design(path)} == set()
    assert any(path.startswith("park/inbox/archive/") for path in clear)  # positive control
    assert any(path.startswith("park/inbox/refused/") for path in clear)


def test_b_after_the_erasure_no_token_or_clear_name_remains(
    planted: Planted, tmp_path: Path
) -> None:
    settings, work = planted.settings, planted.work
    tokens = _tokens(settings)
    identifiers = tmp_path / "person.txt"  # outside the run's folders: the DPO's case file
    identifiers.write_text(f"{NAME}\n{EMAIL}\n", encoding="utf-8")

    erased = loaders_command(
        settings,
        "erase",
        "--reference",
        "DPO-PLANT",
        "--identifiers-file",
        str(identifiers),
        timeout=900,
    )

    # 1: done, but the source files still name her (listed for redaction)
    assert erased.returncode == 1, erased.stdout + erased.stderr
    assert "REBUILD" not in erased.stdout and "ADMINISTRATOR" not in erased.stdout
    assert "PENDING" not in erased.stdout and "CHECK" not in erased.stdout
    named = {
        line.split(": ", 1)[1].split(" (")[0]
        for line in erased.stdout.splitlines()
        if "SOURCE still holds the person in clear" in line
    }
    clear = _nothing_of_the_person_but_clear_files(settings, work, tokens)
    assert {path for path in clear if not _kept_by_design(path)} == set()
    in_inbox = {path for path in clear if path.startswith("park/inbox/")}
    assert in_inbox and {str(work / path) for path in in_inbox} <= named


def test_c_after_retention_nothing_of_the_person_remains(planted: Planted, tmp_path: Path) -> None:
    settings, work = planted.copy, planted.copy_work
    tokens = _tokens(settings)
    assert _tables_holding(settings, tokens), "the copy holds the person before the purge"
    short = tmp_path / "retention.csv"
    lines = retention.POLICY_FILE.read_text(encoding="utf-8").splitlines()
    header, rules = lines[0], [line.split(",", 2) for line in lines[1:] if line.strip()]
    short.write_text(
        "\n".join([header, *(f"{target},1,{rest}" for target, _, rest in rules)]) + "\n",
        encoding="utf-8",
    )
    forced = replace(settings, retention_policy=str(short))

    # Two days from now, everything written today is past a one-day period.
    report = retention.purge(
        forced, reference="RET-PLANT", now=datetime.now(UTC) + timedelta(days=2)
    )

    assert report.errors == {}, report.errors
    clear = _nothing_of_the_person_but_clear_files(settings, work, tokens)
    assert clear == {"park/sources/sensor.db"}  # the source system only
