"""Build the deliverable folder and its zip from the live system.

Inputs: the warehouse database of `settings` (after a pipeline run: `make demo` on a demo
machine), the latest quality page, dbt's project (for `dbt docs generate`) and the
repository. Output: `<output>/Projet_Collecte_Données_IA/` and `<output>/Projet_…_IA.zip`.
"""

from __future__ import annotations

import shutil
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from loaders.settings import PROJECT_ROOT, Settings
from loaders.transform import dbt
from scripts.deliverable import (
    code_copy,
    dashboard,
    data_model,
    database,
    diagrams,
    documents,
    inserts,
    layout,
    manifest,
    sql_scripts,
)

DOCS = PROJECT_ROOT / "docs"
REPORT_SOURCE = DOCS / "rapport" / "rapport.md"
ANNEX_SOURCE = DOCS / "annexe_technique.md"
GUIDE_SOURCE = DOCS / "guide_import.md"
MCD_SOURCE = DOCS / "modele_donnees" / "mcd.md"
MCD_DIAGRAM = DOCS / "modele_donnees" / "mcd.dot"
QUERIES_DIR = DOCS / "requetes"
OWN_DOCS = ("docs/annexe_technique.md", "docs/guide_import.md")
# Schemas of the model shown with types in the MPD diagram (raw is in its text).
MPD_DIAGRAM_SCHEMAS = ("core", "ml", "quality", "reference", "audit")
# The star the data scientists query, drawn alone for the report.
STAR_SCHEMAS = ("core", "ml")


class BuildError(RuntimeError):
    """The deliverable cannot be built; the message says what is missing."""


@dataclass
class Deliverable:
    folder: Path
    zip_file: Path
    notes: list[str] = field(default_factory=list)


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def dbt_docs(settings: Settings, work: Path) -> Path:
    """`dbt docs generate --static` into a folder of our own (the run's target stays)."""
    target = work / "dbt_target"
    target.mkdir(parents=True, exist_ok=True)
    parsed = Path(settings.dbt_target_dir) / "partial_parse.msgpack"
    if parsed.is_file():  # the last run's parse: dbt re-parses only what changed since
        shutil.copyfile(parsed, target / parsed.name)
    completed = dbt.run_dbt(
        replace(settings, dbt_target_dir=str(target)), "docs", "generate", "--static"
    )
    if completed.returncode != 0 or not (target / "manifest.json").is_file():
        raise BuildError(f"`dbt docs generate` failed (exit {completed.returncode}): see above")
    return target


def build(
    settings: Settings,
    output: Path,
    *,
    root: Path = PROJECT_ROOT,
    log: Callable[[str], None] = print,
) -> Deliverable:
    started = time.monotonic()

    def step(message: str) -> None:
        log(f"[deliverable] {time.monotonic() - started:5.1f}s {message}")

    folder = output / layout.ROOT
    work = output / f".{layout.ROOT}-work"
    zip_file = output / f"{layout.ROOT}.zip"
    for path in (folder, work):
        if path.exists():
            shutil.rmtree(path)
    for name in (
        layout.CODE,
        layout.SCHEMA,
        layout.DATABASE,
        layout.DASHBOARD,
        layout.DOCUMENTATION,
    ):
        (folder / name).mkdir(parents=True)
    work.mkdir(parents=True)
    result = Deliverable(folder, zip_file)

    step("automation scripts (git ls-files)")
    copied = code_copy.copy_repository(root, folder / layout.CODE)
    step(f"  {len(copied)} files")

    step("dbt docs generate")
    target = dbt_docs(settings, work)
    dbt = manifest.read(target / "manifest.json")
    (folder / layout.DBT_DOCS).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target / "static_index.html", folder / layout.DBT_DOCS)

    step("data model (database + manifest)")
    schemas = database.bootstrap_schemas(sql_scripts.bootstrap_sql())
    live = database.read(settings, schemas)
    mcd_text = MCD_SOURCE.read_text(encoding="utf-8")
    (folder / f"{layout.MCD}.md").write_text(mcd_text, encoding="utf-8")
    _, mcd_png = diagrams.render(MCD_DIAGRAM.read_text(encoding="utf-8"), folder / layout.MCD)
    (folder / f"{layout.MLD}.md").write_text(data_model.mld_markdown(live, dbt), encoding="utf-8")
    diagrams.render(data_model.tables_dot(live, dbt, with_types=False), folder / layout.MLD)
    _, star_png = diagrams.render(
        data_model.tables_dot(live, dbt, with_types=False, schemas=STAR_SCHEMAS, other_columns=2),
        folder / layout.SCHEMA / "MLD_etoile_marts",
    )
    (folder / f"{layout.MPD}.md").write_text(data_model.mpd_markdown(live, dbt), encoding="utf-8")
    diagrams.render(
        data_model.tables_dot(live, dbt, with_types=True, schemas=MPD_DIAGRAM_SCHEMAS),
        folder / layout.MPD,
    )

    step("SQL creation script and data dump (pg_dump)")
    (folder / layout.CREATION_SCRIPT).write_text(
        sql_scripts.creation_script(settings, schemas), encoding="utf-8"
    )
    dumped = sql_scripts.dump_schemas(schemas)
    sql_scripts.data_dump(settings, dumped, folder / layout.DUMP)
    roles_file, _ = sql_scripts.bootstrap_files()
    shutil.copyfile(roles_file, folder / layout.DATABASE / "creer_roles.sql")

    step("quality dashboard")
    page_source = dashboard.copy_page(settings, folder / layout.QUALITY_PAGE)
    dashboard.screenshot(
        folder / layout.QUALITY_PAGE / "index.html", folder / layout.SCREENSHOT, work
    )
    report_shot = dashboard.screenshot(
        folder / layout.QUALITY_PAGE / "index.html",
        work / "capture_rapport.png",
        work,
        dashboard.REPORT_SCREEN,
    )
    found = dashboard.elementary_reports(settings, page_source)
    for report in found:
        if report.is_relative_to(page_source.resolve()):  # already copied with the page
            delivered = folder / layout.QUALITY_PAGE / report.relative_to(page_source.resolve())
        else:
            delivered = folder / layout.ELEMENTARY / report.name
            delivered.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(report, delivered)
        result.notes.append(f"Rapport Elementary : `{_relative(delivered, folder)}`.")
    if not found:
        result.notes.append(
            "Rapport Elementary : non construit par la dernière exécution (le paquet dbt "
            "Elementary n'est pas installé sur cette machine, voir docs/quality.md) ; la page "
            "qualité du projet le dit aussi."
        )

    step("architecture diagram")
    _, architecture_png = diagrams.render(
        diagrams.architecture(live, dbt), folder / layout.FIGURES / "architecture"
    )

    step("example queries (run as the analyst)")
    query_files = sorted(QUERIES_DIR.glob("*.sql"))
    if not query_files:
        raise BuildError(f"no example query in {QUERIES_DIR}")
    (folder / layout.QUERIES).mkdir(parents=True, exist_ok=True)
    for path in query_files:
        shutil.copyfile(path, folder / layout.QUERIES / path.name)

    run = inserts.latest_run(settings)
    blocks = {
        "couverture": inserts.cover(settings, root, run),
        "chiffres_demo": inserts.key_figures(settings, live, dbt, run),
        "marts": inserts.marts(live, dbt),
        "droits": inserts.rights(live),
        "documents_lies": inserts.related_docs(root, OWN_DOCS),
        "dependances": inserts.dependencies(root, live.server_version),
        "requetes": inserts.queries(settings, query_files),
        "configuration": inserts.configuration(root),
        "cron": inserts.cron(root),
        "controles_import": _import_checks(live, dumped),
        "dump": _dump_facts(folder / layout.DUMP, dumped),
    }
    figures = {
        "architecture.png": architecture_png,
        "mcd.png": mcd_png,
        "mld_etoile.png": star_png,
        "capture_tableau_de_bord.png": report_shot,
    }

    step("documents (Markdown → HTML → PDF)")
    sources = folder / layout.SOURCES
    jobs: list[tuple[Path, Path]] = []
    for source, stem, title in (
        (REPORT_SOURCE, layout.REPORT, "Rapport de projet"),
        (ANNEX_SOURCE, layout.ANNEX, "Annexe technique"),
        (GUIDE_SOURCE, layout.IMPORT_GUIDE, "Guide d'import"),
    ):
        pdf = folder / f"{stem}.pdf"
        text, html = documents.prepare(
            source,
            blocks,
            title=title,
            html_dir=work / "html",
            stem=pdf.stem,
            figures=figures,
        )
        jobs.append((html, pdf))
        if stem == layout.IMPORT_GUIDE:
            (folder / f"{stem}.md").write_text(text, encoding="utf-8")
        sources.mkdir(parents=True, exist_ok=True)
        (sources / f"{pdf.stem}.md").write_text(text, encoding="utf-8")
    documents.print_all(jobs)
    (sources / "figures").mkdir(exist_ok=True)
    for name, path in figures.items():
        shutil.copyfile(path, sources / "figures" / name)
    shutil.copyfile(documents.CSS, sources / "print.css")

    (folder / layout.README).write_text(readme(folder, result.notes), encoding="utf-8")
    step("zip")
    write_zip(folder, zip_file)
    shutil.rmtree(work)
    step(f"{zip_file} ({zip_file.stat().st_size / 1e6:.1f} MB)")
    return result


def _import_checks(live: database.Warehouse, schemas: list[str]) -> str:
    """The row count of every dumped table (dlt's own bookkeeping tables aside)."""
    rows = [
        (f"`{relation.qualified}`", inserts.number(relation.row_count))
        for relation in live.in_schemas(*schemas)
        if relation.kind == "table" and not relation.name.startswith("_dlt")
    ]
    return inserts.table(("Table", "Lignes attendues"), rows)


def _dump_facts(dump: Path, schemas: list[str]) -> str:
    size = dump.stat().st_size / 1e6
    return (
        f"Fichier `windfarm_demo.sql` : {size:.1f} Mo, schémas "
        + ", ".join(f"`{s}`" for s in schemas)
        + ". Les schémas `staging` et `intermediate` (étapes de transformation que dbt "
        "reconstruit à chaque exécution depuis `raw`) n'y sont pas : leur structure est dans "
        "`creation_base.sql` et `dbt build` les remplit.\n"
    )


def readme(folder: Path, notes: list[str]) -> str:
    """LISEZMOI.md: what each folder holds, listed from what was actually written."""
    sections = [
        (
            layout.CODE,
            "Scripts d'automatisation : le dépôt tel que git le connaît (chargeurs "
            "Python `loaders/`, projet dbt `dbt_project/`, scripts SQL `scripts/`, tables de "
            "référence `seeds_csv/`, tests, `Makefile`, `requirements*.txt`). Ni caches, ni "
            "environnement virtuel, ni secrets.",
        ),
        (
            layout.SCHEMA,
            "Schéma de la base : MCD (conceptuel, Merise), MLD (logique) et MPD "
            "(physique) en texte Markdown et en diagrammes SVG/PNG, et `creation_base.sql` qui "
            "recrée rôles, base, schémas, droits et tables sur un serveur vide.",
        ),
        (
            layout.DATABASE,
            "Base peuplée : vidage SQL de la base de démonstration "
            "(`windfarm_demo.sql`), script des rôles à créer d'abord (`creer_roles.sql`) et "
            "guide d'import (`guide_import.md` / `.pdf`).",
        ),
        (
            layout.DASHBOARD,
            "Tableau de bord qualité de la dernière exécution "
            "(`rapport_qualite/index.html`, s'ouvre dans un navigateur, hors ligne) et sa "
            "capture d'écran ; le rapport Elementary quand il est construit.",
        ),
        (
            layout.DOCUMENTATION,
            "Rapport de projet (`rapport_projet.pdf`), annexe technique "
            "(`annexe_technique.pdf`), requêtes d'exemple (`requetes/`), schéma d'architecture "
            "(`figures/`), documentation dbt (`dbt_docs/index.html`) et sources Markdown.",
        ),
    ]
    lines = [
        "# Projet Collecte Données IA — livrables",
        "",
        "EnergiTech — entrepôt de données éoliennes pour la maintenance prédictive. Tout ce "
        "dossier est produit par `make deliverable` depuis le système en service (base, "
        "manifest dbt, dernière exécution, dépôt) : il ne peut pas diverger du code.",
        "",
    ]
    for name, text in sections:
        files = sum(1 for path in (folder / name).rglob("*") if path.is_file())
        lines += [f"## `{name}/` ({files} fichiers)", "", text, ""]
    if notes:
        lines += ["## Remarques", "", *[f"- {note}" for note in notes], ""]
    return "\n".join(lines)


def write_zip(folder: Path, zip_file: Path) -> Path:
    """Zip `folder` (entries under its own name), files in a stable order."""
    zip_file.unlink(missing_ok=True)
    partial = zip_file.with_name(f".{zip_file.name}.part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, f"{folder.name}/{_relative(path, folder)}")
    partial.replace(zip_file)
    return zip_file
