"""The client's deliverable, built from the demo month's database and checked as the client
would: the zip's contents against the list, the SQL creation script applied to an empty
database, the dump restored into another, the example queries run as the analyst, the
report's pages counted and rendered.

The deliverable is built once for the module, into a temporary folder, from the session's
demo database and quality page (no run of its own).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from loaders import warehouse
from loaders.demo_park.simulator import PERSONAL_EMAILS, PERSONAL_NAMES
from loaders.settings import Settings
from scripts.deliverable import (
    build,
    check,
    database,
    documents,
    layout,
    manifest,
    sql_scripts,
    tools,
)

QUERIES = sorted((build.QUERIES_DIR).glob("*.sql"))
REPORT_SECTIONS = (
    "Contexte et objectifs",
    "Architecture",
    "Choix des outils",
    "Modèle de données",
    "Qualité des données",
    "Sécurité et RGPD",
    "Analyse de risques",
    "Limites et prochaines étapes",
)
NEEDED_PROGRAMS = ("dot", "chromium", "pdfinfo", "pdftoppm", "pdftotext", "pg_dump", "psql")


@pytest.fixture(scope="module")
def programs() -> None:
    missing = []
    for program in NEEDED_PROGRAMS:
        try:
            tools.find(program)
        except tools.ToolError as error:
            missing.append(str(error))
    if missing:
        pytest.skip(
            "the deliverable's tools are not installed (`bash scripts/deliverable/"
            "install_tools.sh` installs them): " + "; ".join(missing)
        )


@pytest.fixture(scope="module")
def built(
    demo,
    programs,
    tmp_path_factory: pytest.TempPathFactory,  # noqa: ANN001
) -> tuple[Settings, build.Deliverable, check.Outcome]:
    settings, _, _ = demo
    output = tmp_path_factory.mktemp("dist")
    deliverable = build.build(settings, output, log=print)
    outcome = check.check(deliverable.zip_file, output / "pages")
    artifacts = os.environ.get("WINDFARM_TEST_ARTIFACTS")
    if artifacts:
        target = Path(artifacts) / "deliverable"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(deliverable.zip_file, target / deliverable.zip_file.name)
        for page in outcome.page_images:
            shutil.copyfile(page, target / page.name)
    return settings, deliverable, outcome


def psql(settings: Settings, database_name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            tools.find("psql"),
            "--no-psqlrc",
            "--no-password",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            database_name,
            *args,
        ],
        env=tools.libpq_env(settings),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.fixture
def empty_database(demo) -> Iterator[Settings]:  # noqa: ANN001
    """A database name on the same server, dropped afterwards (roles are the server's)."""
    settings, _, _ = demo
    other = replace(settings, database=f"{settings.database}_restore")
    warehouse.drop_database(other)
    yield other
    warehouse.drop_database(other)


def rows(settings: Settings, query: str, role: str = "admin") -> list[tuple]:
    connection = warehouse.connect(settings, role)
    try:
        with connection.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchall()
    finally:
        connection.close()


def structure(settings: Settings, schemas: list[str]) -> set[tuple[str, str, str, str, str]]:
    """(schema, relation, owner, column, type) of every table and view of `schemas`."""
    connection = warehouse.connect(settings, "admin")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                select n.nspname, c.relname, pg_get_userbyid(c.relowner), a.attname,
                       format_type(a.atttypid, a.atttypmod)
                  from pg_class as c
                  join pg_namespace as n on n.oid = c.relnamespace
                  join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0
                                        and not a.attisdropped
                 where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm')
                """,
                (schemas,),
            )
            return set(cursor.fetchall())
    finally:
        connection.close()


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG file"
    return struct.unpack(">II", header[16:24])


# --- the zip and its check ----------------------------------------------------------------


def test_the_zip_holds_every_item_and_a_report_of_8_to_14_pages(built) -> None:  # noqa: ANN001
    _, deliverable, outcome = built
    assert outcome.ok, "\n".join(outcome.problems)
    assert set(outcome.present) == {item.name for item in layout.REQUIRED}
    assert all(outcome.present.values())
    assert outcome.report_pages in layout.REPORT_PAGES
    report_pages = [p for p in outcome.page_images if p.name.startswith("rapport_projet-")]
    assert len(report_pages) == outcome.report_pages
    for page in report_pages:
        width, height = png_size(page)
        assert height > width > 300, f"{page}: not an A4 portrait page ({width}x{height})"
    assert outcome.measurement_rows and outcome.measurement_rows > 10_000
    with zipfile.ZipFile(deliverable.zip_file) as archive:
        names = archive.namelist()
    assert all(name.startswith(f"{layout.ROOT}/") for name in names)
    code = [n for n in names if n.startswith(f"{layout.ROOT}/{layout.CODE}/")]
    assert f"{layout.ROOT}/{layout.CODE}/loaders/run/pipeline.py" in code
    assert not [
        n for n in code if "__pycache__" in n or "/.venv/" in n or n.endswith("/secrets.toml")
    ]


def test_the_check_names_what_is_missing_forbidden_or_too_short(
    built,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    _, deliverable, _ = built
    broken = tmp_path / "broken.zip"
    dump = f"{layout.ROOT}/{layout.DUMP}"
    report = f"{layout.ROOT}/{layout.REPORT}.pdf"
    guide = f"{layout.ROOT}/{layout.IMPORT_GUIDE}.pdf"
    annex = f"{layout.ROOT}/{layout.ANNEX}.pdf"
    with zipfile.ZipFile(deliverable.zip_file) as source, zipfile.ZipFile(broken, "w") as out:
        for info in source.infolist():
            if info.filename in (dump, report, annex, guide):  # fewer pages to render
                continue
            out.writestr(info, source.read(info))
        out.writestr(report, source.read(guide))  # a PDF of a few pages only
        out.writestr(f"{layout.ROOT}/{layout.CODE}/.dlt/secrets.toml", "pseudonym_key = 'x'\n")
        out.writestr(f"{layout.ROOT}/{layout.DOCUMENTATION}/notes.md", "julien.moreau@x.fr\n")
    outcome = check.check(broken, tmp_path / "pages")
    problems = "\n".join(outcome.problems)
    assert not outcome.ok
    assert f"missing: populated database (plain SQL dump) ({layout.DUMP})" in problems
    assert f"missing: import guide ({layout.IMPORT_GUIDE}.pdf)" in problems
    assert re.search(r"rapport_projet\.pdf: \d pages, expected 8 to 14", problems), problems
    assert f"{layout.CODE}/.dlt/secrets.toml: must not be delivered" in problems
    assert "notes.md: personal data in clear: julien.moreau@x.fr" in problems


# --- database schema: the creation script -------------------------------------------------


def test_the_creation_script_recreates_the_warehouse_on_an_empty_database(
    built,
    empty_database: Settings,  # noqa: ANN001
) -> None:
    settings, deliverable, _ = built
    script = deliverable.folder / layout.CREATION_SCRIPT
    completed = psql(
        settings, "postgres", "-v", f"database={empty_database.database}", "-f", str(script)
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    schemas = database.bootstrap_schemas(sql_scripts.bootstrap_sql())
    original = structure(settings, schemas)
    assert structure(empty_database, schemas) == original
    assert {(s, t) for s, t, *_ in original} >= {
        ("core", "fct_turbine_measurements"),
        ("raw", "scada_measurements"),
    }
    # Empty, and each role has its rights: the analyst reads the marts, not raw.
    assert rows(
        empty_database, "select count(*) from core.fct_turbine_measurements", "analyst"
    ) == [(0,)]
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        rows(empty_database, "select count(*) from raw.scada_measurements", "analyst")
    assert rows(
        empty_database,
        "select has_schema_privilege('windfarm_loader', 'raw', 'create'), "
        "has_schema_privilege('windfarm_transformer', 'core', 'create'), "
        "has_database_privilege('windfarm_analyst', current_database(), 'connect')",
    ) == [(True, True, True)]


# --- populated database: the dump ---------------------------------------------------------


def test_the_dump_restores_with_its_row_counts_and_the_analysts_rights(
    built,
    empty_database: Settings,  # noqa: ANN001
) -> None:
    settings, deliverable, _ = built
    admin = warehouse.connect(settings, "admin", "postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:  # the guide's steps: roles exist, an empty database
        cursor.execute(
            sql.SQL("create database {} owner windfarm_owner").format(
                sql.Identifier(empty_database.database)
            )
        )
    admin.close()
    dump = deliverable.folder / layout.DUMP
    completed = psql(settings, empty_database.database, "--single-transaction", "-f", str(dump))
    assert completed.returncode == 0, completed.stderr[-3000:]
    schemas = sql_scripts.dump_schemas(database.bootstrap_schemas(sql_scripts.bootstrap_sql()))
    assert {"raw", "core", "quality", "audit"} <= set(schemas)
    described = database.read(settings, schemas)
    restored = database.read(empty_database, schemas)
    counts = {r.qualified: r.row_count for r in described.relations if r.kind == "table"}
    assert {r.qualified: r.row_count for r in restored.relations if r.kind == "table"} == counts
    assert counts["raw.scada_measurements"] > 10_000
    assert rows(
        empty_database, "select count(*) from core.fct_turbine_measurements", "analyst"
    ) == [(counts["core.fct_turbine_measurements"],)]
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        rows(empty_database, "select count(*) from raw.scada_measurements", "analyst")
    assert rows(  # as at the origin: PUBLIC may not connect, the project's roles may
        empty_database,
        "select exists (select from pg_database as d cross join aclexplode(d.datacl) as a "
        "               where d.datname = current_database() and a.grantee = 0), "
        "       has_database_privilege('windfarm_loader', current_database(), 'connect')",
    ) == [(False, True)]


def test_the_dump_holds_pseudonyms_and_no_personal_data_in_clear(built) -> None:  # noqa: ANN001
    _, deliverable, _ = built
    text = (deliverable.folder / layout.DUMP).read_text(encoding="utf-8")
    assert "psn_" in text, "no pseudonym in the dump: the check below would prove nothing"
    folded = text.casefold()
    for value in (*PERSONAL_NAMES, *PERSONAL_EMAILS):
        assert value.casefold() not in folded, value
    assert not check.EMAIL.search(text.encode("utf-8"))


# --- documentation ------------------------------------------------------------------------


@pytest.mark.parametrize("query_file", QUERIES, ids=[path.name for path in QUERIES])
def test_every_example_query_runs_as_the_analyst(demo, query_file: Path) -> None:  # noqa: ANN001
    settings, _, _ = demo
    result = rows(settings, query_file.read_text(encoding="utf-8"), "analyst")
    assert result, f"{query_file.name} returns no row on the demo month"


def test_there_are_example_queries_with_a_title() -> None:
    assert len(QUERIES) >= 5
    for path in QUERIES:
        assert path.read_text(encoding="utf-8").startswith("-- "), f"{path}: no title comment"


def test_the_report_has_its_sections_and_figures(built) -> None:  # noqa: ANN001
    _, deliverable, _ = built
    report = deliverable.folder / f"{layout.REPORT}.pdf"
    text = " ".join(documents.pdf_text(report).split())
    for section in REPORT_SECTIONS:
        assert section in text, f"section {section!r} missing from the report"
    images = subprocess.run(
        ["pdfimages", "-list", str(report)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert len(images) >= 4, "architecture, MCD, MLD and dashboard figures expected"
    annex = " ".join(documents.pdf_text(deliverable.folder / f"{layout.ANNEX}.pdf").split())
    for path in QUERIES:
        assert f"requetes/{path.name}" in annex
    for name in ("WINDFARM_DATABASE", "WINDFARM_PSEUDONYM_KEY", "dbt-core", "dlt"):
        assert name in annex


def test_the_data_model_follows_the_database_and_dbt(built) -> None:  # noqa: ANN001
    settings, deliverable, _ = built
    mpd = (deliverable.folder / f"{layout.MPD}.md").read_text(encoding="utf-8")
    mld = (deliverable.folder / f"{layout.MLD}.md").read_text(encoding="utf-8")
    for schema, table in rows(
        settings,
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('raw', 'core', 'quality', 'audit')",
    ):
        assert f"### `{schema}.{table}`" in mpd
    assert "PRIMARY KEY (run_id)" in mpd
    dbt = manifest.read(Path(settings.dbt_target_dir) / "manifest.json")
    for reference in dbt.references:
        if reference.source.split(".")[0] in ("core", "quality", "reference"):
            assert (
                f"| `{reference.source}` | {reference.columns[0]} | "
                f"`{reference.target}`({reference.target_columns[0]}) |"
            ) in mld
    assert "<u>turbine_key</u>" in mld


def test_an_unknown_insert_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    source = tmp_path / "doc.md"
    source.write_text("# Titre\n\n<!-- insert: nulle_part -->\n", encoding="utf-8")
    with pytest.raises(documents.DocumentError, match=r"doc\.md:3: unknown insert 'nulle_part'"):
        documents.expand(source, {"requetes": ""})
