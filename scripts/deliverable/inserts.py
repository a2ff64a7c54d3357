"""Markdown blocks generated from the live system, for the `<!-- insert: NAME -->` lines.

Figures, versions, rights and query results are read from the database, dbt's manifest,
the virtualenv and the repository when the deliverable is built, never typed into the
documents: that is how the documents stay true when the code changes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from html import escape
from importlib import metadata
from pathlib import Path

from loaders import warehouse
from loaders.settings import Settings
from scripts.deliverable import tools
from scripts.deliverable.database import Warehouse
from scripts.deliverable.manifest import Manifest

MART_SCHEMAS = ("core", "ml", "quality")
EXCERPT_ROWS = 4
EXCERPT_COLUMNS = 7
_PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*==\s*([^\s;#]+)")


class QueryError(RuntimeError):
    """An example query failed; the message names its file."""


def table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    head = list(header)

    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def number(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else ("oui" if value else "non")
    if isinstance(value, int):  # 2025 stays a year; 13336 becomes 13 336
        return f"{value:,}".replace(",", "\u202f") if abs(value) >= 10_000 else str(value)
    if isinstance(value, Decimal):  # as many decimals as the query asked for
        return f"{value:,}".replace(",", "\u202f").replace(".", ",")
    if isinstance(value, float):
        return f"{value:,.2f}".replace(",", "\u202f").replace(".", ",")
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def code_version(root: Path) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "inconnue"


def latest_run(settings: Settings) -> dict[str, object] | None:
    """The newest finished run of audit.pipeline_runs (read as the administrator)."""
    connection = warehouse.connect(settings, "admin")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select run_id, status, date_from, date_to, dbt_status, started_at, ended_at "
                "from audit.pipeline_runs where ended_at is not null "
                "order by started_at desc limit 1"
            )
            row = cursor.fetchone()
    finally:
        connection.close()
    if row is None:
        return None
    keys = ("run_id", "status", "date_from", "date_to", "dbt_status", "started_at", "ended_at")
    return dict(zip(keys, row, strict=True))


def cover(settings: Settings, root: Path, run: dict[str, object] | None) -> str:
    rows = [
        ("Client", "EnergiTech — maintenance prédictive des éoliennes"),
        ("Document généré le", f"{datetime.now(UTC):%d/%m/%Y %H:%M} UTC"),
        ("Version du code", code_version(root)),
        ("Base de démonstration", f"{settings.database} (parc simulé du Mont Crosnier)"),
    ]
    if run:
        rows.append(
            (
                "Dernière exécution",
                f"{run['run_id']} — {run['status']}, "
                f"données du {number(run['date_from'])} au {number(run['date_to'])}",
            )
        )
    cells = "".join(
        f"<tr><th>{escape(name)}</th><td>{escape(value)}</td></tr>" for name, value in rows
    )
    return f'<table class="meta">{cells}</table>\n'


def key_figures(
    settings: Settings, data: Warehouse, manifest: Manifest, run: dict[str, object] | None
) -> str:
    def rows_of(qualified: str) -> int:
        relation = data.relation(qualified)
        return (relation.row_count or 0) if relation else 0

    rejected = sum(r.row_count or 0 for r in data.in_schemas("raw") if "rejected" in r.name)
    landed = sum(
        r.row_count or 0
        for r in data.in_schemas("raw")
        if not r.name.startswith("_dlt") and "rejected" not in r.name
    )
    connection = warehouse.connect(settings, "admin")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select count(distinct turbine_id), count(distinct measured_date), "
                "count(*) filter (where is_valid), count(*) filter (where is_gap) "
                "from core.fct_turbine_measurements"
            )
            turbines, days, valid, gaps = cursor.fetchone()
    finally:
        connection.close()
    models = sum(1 for m in manifest.models.values() if m.resource_type == "model")
    facts = rows_of("core.fct_turbine_measurements")
    rows = [
        ("Éoliennes × jours chargés", f"{number(turbines)} × {number(days)}"),
        (
            "Lignes SCADA 10 min reçues (`raw.scada_measurements`)",
            number(rows_of("raw.scada_measurements")),
        ),
        ("Lignes chargées dans `raw`, toutes sources", number(landed)),
        ("Lignes rejetées avec leur motif (`raw.*__rejected`)", number(rejected)),
        ("Périodes de 10 min dans la table de faits", number(facts)),
        (
            "… dont valides (aucun drapeau qualité)",
            f"{number(valid)} ({100 * valid / facts:.1f} %)".replace(".", ",") if facts else "—",
        ),
        ("… dont trous de la grille (`is_gap`)", number(gaps)),
        ("Modèles dbt / tests dbt", f"{models} / {manifest.test_count}"),
    ]
    if run and run.get("ended_at") and run.get("started_at"):
        seconds = (run["ended_at"] - run["started_at"]).total_seconds()  # type: ignore[operator]
        rows.append(
            (
                "Durée de la dernière exécution (mois complet)",
                f"{seconds:.0f} s, statut {run['status']}",
            )
        )
    return table(("Indicateur (base de démonstration)", "Valeur"), rows)


def marts(data: Warehouse, manifest: Manifest) -> str:
    rows = []
    for relation in data.in_schemas(*MART_SCHEMAS):
        model = manifest.model(relation.qualified)
        description = model.description if model else ""
        if len(description) > 170:
            description = description[:167].rsplit(" ", 1)[0] + " …"
        rows.append((f"`{relation.qualified}`", number(relation.row_count), description))
    return table(("Table", "Lignes", "Contenu (documentation dbt)"), rows)


def rights(data: Warehouse) -> str:
    """Which role may do what on each schema, from the live grants."""
    roles = [role.name for role in data.roles if role.can_login]
    rows = []
    for schema in data.schemas:
        cells = []
        for role in roles:
            on_schema = set(schema.grants.get(role, []))
            tables = {
                privilege
                for relation in data.in_schemas(schema.name)
                for privilege in relation.grants.get(role, [])
            }
            owns = any(r.owner == role for r in data.in_schemas(schema.name))
            words = []
            if owns or "create" in on_schema:
                words.append("écrit")
            elif tables & {"insert", "update", "delete"}:
                words.append("ajoute")
            if "usage" in on_schema and (owns or "select" in tables):
                words.append("lit")
            cells.append(", ".join(words) or "—")
        rows.append((f"`{schema.name}`", *cells))
    header = ("Schéma", *[f"`{role.removeprefix('windfarm_')}`" for role in roles])
    return table(header, rows)


def dependencies(root: Path, server_version: str) -> str:
    pins: list[tuple[str, str, str]] = []
    for name in ("requirements.txt", "requirements-dev.txt"):
        path = root / name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            found = _PIN.match(line)
            if found:
                pins.append((found.group(1), found.group(3), name))
    rows = []
    for package, pinned, source in pins:
        try:
            installed = metadata.version(package)
        except metadata.PackageNotFoundError:
            installed = "non installé"
        rows.append((f"`{package}`", pinned, installed, source))
    total = sum(1 for _ in metadata.distributions())
    text = table(("Paquet Python", "Version épinglée", "Version installée", "Fichier"), rows)
    text += (
        f"\nL'environnement virtuel compte {total} paquets au total (dépendances "
        "transitives comprises) ; `pip freeze` en donne la liste exacte.\n\n"
    )
    system = [
        ("Python", sys.version.split()[0]),
        ("Serveur PostgreSQL", server_version.split()[0]),
    ]
    for program, option in (
        ("psql", "--version"),
        ("dot", "-V"),
        ("chromium", "--version"),
        ("pdfinfo", "-v"),
    ):
        try:
            completed = subprocess.run(
                [tools.find(program), option],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            output = (completed.stdout or completed.stderr).strip().splitlines()
            rows_text = output[0] if output else "?"
        except (tools.ToolError, OSError, subprocess.SubprocessError):
            rows_text = "absent"
        system.append((program, rows_text))
    return text + table(("Outil système", "Version"), system)


def queries(settings: Settings, files: list[Path]) -> str:
    """Each example query: its purpose, its SQL, and the first rows it gives as the analyst."""
    blocks = []
    connection = warehouse.connect(settings, "analyst")
    try:
        for number_, path in enumerate(files, start=1):
            text = path.read_text(encoding="utf-8").strip()
            comments = [line[2:].strip() for line in text.splitlines() if line.startswith("--")]
            title = comments[0].rstrip(".") if comments else path.stem
            purpose = " ".join(comments[1:])
            body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
            try:
                with connection.cursor() as cursor:
                    cursor.execute(body)
                    columns = [d.name for d in cursor.description]
                    rows = cursor.fetchmany(EXCERPT_ROWS)
                    total = len(rows) + len(cursor.fetchall())
                connection.rollback()
            except Exception as error:
                connection.rollback()
                raise QueryError(
                    f"{path}: the example query fails as the analyst: {error}"
                ) from error
            shown = columns[:EXCERPT_COLUMNS]
            excerpt = table(shown, [[number(v) for v in row[:EXCERPT_COLUMNS]] for row in rows])
            more = (
                f", {len(columns) - EXCERPT_COLUMNS} colonnes de plus non affichées"
                if len(columns) > EXCERPT_COLUMNS
                else ""
            )
            blocks.append(
                f"### R{number_}. {title}\n\n{purpose}\n\nFichier `requetes/{path.name}`.\n\n"
                f"```sql\n{body.strip()}\n```\n\n"
                f"Résultat sur la base de démonstration ({number(total)} lignes{more}) :\n\n"
                f"{excerpt}"
            )
    finally:
        connection.close()
    return "\n".join(blocks)


EXAMPLE_CRONTAB = """\
# m  h  dom mon dow  commande (chaque nuit à 04:30, heure du serveur)
30 4 * * * cd /opt/windfarm && flock -n var/run.lock .venv/bin/python -m loaders run >> var/log/windfarm-run.log 2>&1
"""  # noqa: E501 - a crontab entry is one line


def cron(root: Path) -> str:
    """The project's cron entry as versioned in scripts/cron/, else an example."""
    folder = root / "scripts" / "cron"
    files = sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []
    if not files:
        return (
            "Entrée crontab type (le dossier `scripts/cron/` du projet, qui versionnera la "
            f"sienne, n'existe pas dans cette version) :\n\n```\n{EXAMPLE_CRONTAB}```\n"
        )
    blocks = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace").rstrip()
        if len(text.splitlines()) > 40:
            text = "\n".join(text.splitlines()[:40]) + "\n…"
        blocks.append(f"Fichier `scripts/cron/{path.name}` :\n\n```\n{text}\n```\n")
    return "\n".join(blocks)


def configuration(root: Path) -> str:
    """The README's configuration table, as it stands (one source of truth)."""
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Configuration\s*$(.*?)(?=^## )", readme, re.MULTILINE | re.DOTALL)
    if not section:
        return "*(Le README n'a pas de section « Configuration ».)*\n"
    lines = [line for line in section.group(1).splitlines() if line.startswith("|")]
    return "\n".join(lines) + "\n"


def related_docs(root: Path, own: Iterable[str]) -> str:
    """The project's other documents (security, GDPR, operations…), by path and title."""
    rows = []
    skip = set(own)
    for path in sorted((root / "docs").glob("*.md")):
        relative = path.relative_to(root).as_posix()
        if relative in skip:
            continue
        title = next(
            (
                line[2:].strip()
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.startswith("# ")
            ),
            path.stem,
        )
        rows.append((f"`{relative}`", title))
    return table(("Document (dans 01_Scripts_automatisation/)", "Titre"), rows)
