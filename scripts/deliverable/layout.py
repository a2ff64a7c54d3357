"""The deliverable's folder, written once: the build writes these paths, the check reads them.

The required items are the issue's list ("the client's deliverables"), each as the paths
(glob patterns inside the folder) that prove it is there.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# NFC so that the name in the zip is the same bytes on every system.
ROOT = unicodedata.normalize("NFC", "Projet_Collecte_Données_IA")

CODE = "01_Scripts_automatisation"
SCHEMA = "02_Schema_base_de_donnees"
DATABASE = "03_Base_de_donnees_peuplee"
DASHBOARD = "04_Tableau_de_bord_qualite"
DOCUMENTATION = "05_Documentation"

README = "LISEZMOI.md"
MCD = f"{SCHEMA}/MCD_modele_conceptuel"
MLD = f"{SCHEMA}/MLD_modele_logique"
MPD = f"{SCHEMA}/MPD_modele_physique"
CREATION_SCRIPT = f"{SCHEMA}/creation_base.sql"
DUMP = f"{DATABASE}/windfarm_demo.sql"
IMPORT_GUIDE = f"{DATABASE}/guide_import"
QUALITY_PAGE = f"{DASHBOARD}/rapport_qualite"
SCREENSHOT = f"{DASHBOARD}/capture_tableau_de_bord.png"
ELEMENTARY = f"{DASHBOARD}/elementary"
REPORT = f"{DOCUMENTATION}/rapport_projet"
ANNEX = f"{DOCUMENTATION}/annexe_technique"
QUERIES = f"{DOCUMENTATION}/requetes"
FIGURES = f"{DOCUMENTATION}/figures"
DBT_DOCS = f"{DOCUMENTATION}/dbt_docs/index.html"
SOURCES = f"{DOCUMENTATION}/sources_markdown"

REPORT_PAGES = range(8, 15)  # the project report: about 10 pages, 8 to 14 accepted


@dataclass(frozen=True)
class Item:
    """One deliverable the client expects, and the files (patterns) that make it."""

    name: str
    patterns: tuple[str, ...]


REQUIRED: tuple[Item, ...] = (
    Item("index of the deliverable", (README,)),
    Item(
        "automation scripts (loaders, dbt project, scripts)",
        (
            f"{CODE}/loaders/run/pipeline.py",
            f"{CODE}/loaders/sources/*/__init__.py",
            f"{CODE}/dbt_project/dbt_project.yml",
            f"{CODE}/dbt_project/models/marts/*/*.sql",
            f"{CODE}/scripts/bootstrap/*.sql",
            f"{CODE}/seeds_csv/*.csv",
            f"{CODE}/config/*/park.yaml",
            f"{CODE}/requirements.txt",
            f"{CODE}/Makefile",
            f"{CODE}/README.md",
        ),
    ),
    Item("conceptual data model (MCD)", (f"{MCD}.md", f"{MCD}.svg", f"{MCD}.png")),
    Item("logical data model (MLD)", (f"{MLD}.md", f"{MLD}.svg", f"{MLD}.png")),
    Item("physical data model (MPD)", (f"{MPD}.md", f"{MPD}.svg", f"{MPD}.png")),
    Item("SQL creation script", (CREATION_SCRIPT,)),
    Item("populated database (plain SQL dump)", (DUMP,)),
    Item("import guide", (f"{IMPORT_GUIDE}.md", f"{IMPORT_GUIDE}.pdf")),
    Item("quality dashboard", (f"{QUALITY_PAGE}/index.html", SCREENSHOT)),
    Item("project report (PDF)", (f"{REPORT}.pdf",)),
    Item("technical annex", (f"{ANNEX}.pdf", f"{QUERIES}/*.sql")),
    Item("architecture diagram", (f"{FIGURES}/architecture.svg", f"{FIGURES}/architecture.png")),
    Item("dbt documentation site", (DBT_DOCS,)),
)

# Never in the deliverable: caches, build output, the virtualenv, secrets, local data.
FORBIDDEN_PARTS = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "__pycache__",
        ".pytest_cache",
        ".ruff_cache",
        "dbt_packages",
        ".env",
        "secrets.toml",
    }
)
FORBIDDEN_PREFIXES = tuple(
    f"{CODE}/{prefix}"
    for prefix in ("var/", "reports/", "dist/", "dbt_project/target/", "dbt_project/logs/")
)
FORBIDDEN_SUFFIXES = (".pyc", ".pyo", ".key")
