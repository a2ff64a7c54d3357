"""Diagrams as Graphviz DOT text, rendered to SVG (to zoom) and PNG (for the PDF).

The architecture diagram is drawn from the live system: the sources and raw tables dbt
declares, the relations each schema holds, so a new source or mart shows up by itself.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from scripts.deliverable import tools
from scripts.deliverable.database import Warehouse
from scripts.deliverable.manifest import Manifest

FONT = "DejaVu Sans"
GRAPH_DEFAULTS = (
    f'  graph [fontname="{FONT}", fontsize=11, bgcolor="white", pad=0.2];\n'
    f'  node [fontname="{FONT}", fontsize=10];\n'
    f'  edge [fontname="{FONT}", fontsize=9, color="#555555"];\n'
)
SOURCE_LABELS = {
    "scada": "Base capteurs SCADA<br/><i>historien 10 min (SQLAlchemy)</i>",
    "production": "Exports CSV production<br/><i>production, maintenance</i>",
    "weather": "API météo Open-Meteo<br/><i>HTTP, horaire</i>",
}
LAYERS = (
    ("staging", "staging", "vues : renommage, types, UTC, unités SI"),
    ("intermediate", "intermediate", "grille 10 min, dédoublonnage, drapeaux QC"),
)
MART_SCHEMAS = ("core", "ml", "quality")


def html(text: object) -> str:
    return escape(str(text), quote=True)


def render(dot_text: str, stem: Path, *, dpi: int = 150) -> tuple[Path, Path]:
    """Write `stem`.dot, .svg and .png; returns the SVG and PNG paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    source = stem.with_suffix(".dot")
    source.write_text(dot_text, encoding="utf-8")
    dot = tools.find("dot")
    svg, png = stem.with_suffix(".svg"), stem.with_suffix(".png")
    tools.run([dot, "-Tsvg", str(source), "-o", str(svg)])
    tools.run([dot, "-Tpng", f"-Gdpi={dpi}", str(source), "-o", str(png)])
    return svg, png


def _box(title: str, lines: list[str], color: str) -> str:
    rows = "".join(
        f'<tr><td align="left"><font point-size="9">{html(line)}</font></td></tr>' for line in lines
    )
    return (
        '<<table border="0" cellborder="0" cellspacing="0" cellpadding="2">'
        f'<tr><td bgcolor="{color}"><b>{title}</b></td></tr>{rows}</table>>'
    )


def architecture(warehouse: Warehouse, manifest: Manifest) -> str:
    """Sources → dlt loaders → PostgreSQL schemas → the quality page and the analysts."""
    out = ["digraph architecture {\n", GRAPH_DEFAULTS]
    out.append("  rankdir=TB; nodesep=0.35; ranksep=0.38; newrank=true;\n")
    out.append(
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#666666"];\n'
    )
    sources: dict[str, list[str]] = {}
    for model in manifest.models.values():
        if model.resource_type == "source":
            sources.setdefault(model.group, []).append(model.qualified.split(".", 1)[1])
    out.append('  subgraph cluster_sources { label="Sources"; style="dashed"; color="#999999";\n')
    for name in sorted(sources):
        label = SOURCE_LABELS.get(name, html(name))
        out.append(f'    src_{name} [label=<{label}>, fillcolor="#fff4e0"];\n')
    out.append("  }\n")
    out.append(
        "  cron [label=<<b>cron</b> (chaque nuit)<br/>python -m loaders run>, shape=ellipse];\n"
    )
    out.append(
        "  loaders [label=<<b>loaders/</b> (Python, dlt)<br/>pseudonymisation avant écriture<br/>"
        'rejets avec motif>, fillcolor="#e8f0fe"];\n'
    )
    out.append("  { rank=same; cron; loaders; }\n")
    for name in sorted(sources):
        out.append(f"  src_{name} -> loaders;\n")
    out.append("  cron -> loaders [style=dashed, arrowhead=vee];\n")
    out.append(
        f'  subgraph cluster_pg {{ label="PostgreSQL {html(warehouse.server_version.split()[0])}'
        f' — base {html(warehouse.database)}"; style="rounded"; color="#336699";\n'
    )
    raw_tables = [r.name for r in warehouse.in_schemas("raw") if not r.name.startswith("_dlt")]
    out.append(f"    raw [label={_box('raw (dlt)', raw_tables, '#fde2c8')}];\n")
    for schema, title, subtitle in LAYERS:
        count = len(warehouse.in_schemas(schema))
        out.append(
            f"    {schema} [label=<<b>{title}</b> ({count} relations)<br/>"
            f'<font point-size="9">{html(subtitle)}</font>>, fillcolor="#eef6ee"];\n'
        )
    seeds = [r.name for r in warehouse.in_schemas("reference")]
    out.append(f"    reference [label={_box('reference (seeds)', seeds, '#f0f0f0')}];\n")
    for schema in MART_SCHEMAS:
        tables = [r.name for r in warehouse.in_schemas(schema)] or ["(à venir)"]
        out.append(f"    {schema} [label={_box(schema, tables, '#d9ead3')}];\n")
    audit_tables = [r.name for r in warehouse.in_schemas("audit")]
    out.append(f"    audit [label={_box('audit', audit_tables, '#e6e0f0')}];\n")
    out.append("    { rank=same; staging; reference; }\n")
    out.append("  }\n")
    out.append(
        "  report [label=<<b>Tableau de bord qualité</b><br/>reports/latest/index.html>, "
        'fillcolor="#fff4e0"];\n'
    )
    out.append(
        "  analysts [label=<<b>Data scientists</b><br/>rôle windfarm_analyst>, "
        'fillcolor="#fff4e0"];\n'
    )
    out.append("  loaders -> raw;\n")
    out.append('  raw -> staging [label=" dbt build"];\n')
    out.append("  staging -> intermediate;\n  reference -> intermediate;\n")
    for schema in MART_SCHEMAS:
        out.append(f"  intermediate -> {schema};\n")
    out.append('  loaders -> audit [style=dashed, label=" 1 ligne par exécution"];\n')
    out.append("  quality -> report;\n  audit -> report [style=dashed];\n")
    out.append("  core -> analysts;\n  ml -> analysts;\n  quality -> analysts;\n")
    out.append("}\n")
    return "".join(out)
