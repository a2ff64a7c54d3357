"""The logical (MLD) and physical (MPD) data models, written from the live system.

The MLD takes its tables and columns from the database and its keys and foreign keys from
dbt's manifest (what dbt tests); the MPD is the database as PostgreSQL holds it: types,
constraints, indexes, owners, grants, schemas and roles. Both are Markdown (French
headings, English dbt descriptions, as dbt docs stay in English) and Graphviz diagrams.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from scripts.deliverable.database import Relation, Warehouse
from scripts.deliverable.diagrams import GRAPH_DEFAULTS, html
from scripts.deliverable.manifest import Manifest, Model, Reference

# The model the data scientists see: marts, the reference tables they join, the run history.
LOGICAL_SCHEMAS = ("core", "ml", "quality", "reference", "audit")
SCHEMA_COLORS = {
    "core": "#d9ead3",
    "ml": "#d0e0f0",
    "quality": "#fff2cc",
    "reference": "#f0f0f0",
    "audit": "#e6e0f0",
    "raw": "#fde2c8",
}
DIAGRAM_OTHER_COLUMNS = 5  # non-key columns drawn per table; the Markdown lists them all
CONSTRAINT_KINDS = {"p": "clé primaire", "u": "unique", "f": "clé étrangère", "c": "contrôle"}


def _stamp(warehouse: Warehouse, manifest: Manifest) -> str:
    return (
        f"Généré le {datetime.now(UTC):%Y-%m-%d %H:%M} UTC depuis la base "
        f"`{warehouse.database}` (PostgreSQL {warehouse.server_version.split()[0]}) et le "
        f"manifest dbt (dbt {manifest.dbt_version}) par `python -m scripts.deliverable build` : "
        "ne pas modifier à la main, régénérer."
    )


def logical_key(relation: Relation, model: Model | None) -> tuple[str, ...]:
    """The primary key: the database's, else the one dbt tests."""
    for constraint in relation.constraints:
        if constraint.kind == "p":
            inside = constraint.definition.split("(", 1)[1].rsplit(")", 1)[0]
            return tuple(part.strip().strip('"') for part in inside.split(","))
    key = model.primary_key() if model else ()
    if not key and relation.name.startswith("dim_"):
        # Convention of the marts: dim_<entity> is keyed by <entity>_key (not yet tested).
        key_name = f"{relation.name.removeprefix('dim_')}_key"
        if any(column.name == key_name for column in relation.columns):
            key = (key_name,)
    return key


def references_between(manifest: Manifest, relations: list[Relation]) -> list[Reference]:
    """The foreign keys dbt tests, then the ones the naming convention implies (a
    `<entity>_key` column and a `dim_<entity>` keyed by it), marked untested."""
    names = {r.qualified for r in relations}
    tested = [ref for ref in manifest.references if ref.source in names and ref.target in names]
    known = {(ref.source, ref.columns) for ref in tested}
    dimensions = {}
    for relation in relations:
        if not relation.name.startswith("dim_"):
            continue
        key_name = f"{relation.name.removeprefix('dim_')}_key"
        if logical_key(relation, manifest.model(relation.qualified)) == (key_name,):
            dimensions[key_name] = relation.qualified
    inferred = [
        Reference(
            relation.qualified,
            (column.name,),
            dimensions[column.name],
            (column.name,),
            tested=False,
        )
        for relation in relations
        for column in relation.columns
        if column.name in dimensions
        and dimensions[column.name] != relation.qualified
        and (relation.qualified, (column.name,)) not in known
    ]
    return tested + inferred


def _foreign_columns(relation: Relation, references: list[Reference]) -> dict[str, Reference]:
    return {
        column: ref
        for ref in references
        if ref.source == relation.qualified
        for column in ref.columns
    }


# --- MLD ---------------------------------------------------------------------------------


def mld_markdown(warehouse: Warehouse, manifest: Manifest) -> str:
    relations = [r for r in warehouse.in_schemas(*LOGICAL_SCHEMAS) if r.kind == "table"]
    references = references_between(manifest, relations)
    lines = [
        "# Modèle logique des données (MLD)",
        "",
        _stamp(warehouse, manifest),
        "",
        "Notation Merise : **table** (<u>clé primaire</u>, colonne, #clé étrangère). Les clés "
        "sont celles que la base impose ou, pour les tables construites par dbt, celles que "
        "dbt teste à chaque exécution (`unique`, `unique_combination`) ; les clés étrangères "
        "sont les tests `relationships` de dbt. La couche brute (`raw`) et les étapes de "
        "transformation (`staging`, `intermediate`) sont décrites dans le MPD.",
        "",
    ]
    for schema in LOGICAL_SCHEMAS:
        in_schema = [r for r in relations if r.schema == schema]
        if not in_schema:
            continue
        lines += [f"## Schéma `{schema}`", ""]
        for relation in in_schema:
            model = manifest.model(relation.qualified)
            key = logical_key(relation, model)
            foreign = _foreign_columns(relation, references)
            shown = []
            for column in relation.columns:
                text = f"<u>{column.name}</u>" if column.name in key else column.name
                if column.name in foreign:
                    text = f"#{text}"
                shown.append(text)
            lines.append(f"**{relation.name}** ({', '.join(shown)})")
            lines.append("")
            if model and model.description:
                lines.append(f"- {model.description}")
            if key:
                lines.append(f"- Clé primaire : ({', '.join(key)})")
            others = [k for k in (model.keys if model else []) if k != key]
            if others:
                lines.append(
                    "- Clés candidates : " + ", ".join(f"({', '.join(k)})" for k in others)
                )
            for column, ref in foreign.items():
                lines.append(f"- #{column} → `{ref.target}`({', '.join(ref.target_columns)})")
            lines.append("")
    lines += [
        "## Clés étrangères",
        "",
        "« testée » : un test dbt `relationships` la vérifie à chaque exécution ; « convention » "
        ": déduite du nommage (`<entité>_key` → `dim_<entité>`), sans test pour l'instant.",
        "",
        "| table | colonne | référence | cardinalité | contrôle |",
        "|---|---|---|---|---|",
    ]
    for ref in references:
        target = warehouse.relation(ref.target)
        target_model = manifest.model(ref.target)
        unique = target is not None and ref.target_columns == logical_key(target, target_model)
        cardinality = "n → 1" if unique else "n → n (référence non clé : même valeur de code)"
        lines.append(
            f"| `{ref.source}` | {', '.join(ref.columns)} | "
            f"`{ref.target}`({', '.join(ref.target_columns)}) | {cardinality} | "
            f"{'testée' if ref.tested else 'convention'} |"
        )
    lines.append("")
    return "\n".join(lines)


def _table_node(
    relation: Relation,
    model: Model | None,
    foreign: dict[str, Reference],
    *,
    with_types: bool,
    referenced: set[str],
    other_columns: int,
) -> str:
    key = logical_key(relation, model)
    color = SCHEMA_COLORS.get(relation.schema, "#ffffff")
    rows = [f'<tr><td colspan="2" bgcolor="{color}"><b>{html(relation.qualified)}</b></td></tr>']
    important = [
        c for c in relation.columns if c.name in key or c.name in foreign or c.name in referenced
    ]
    others = [c for c in relation.columns if c not in important]
    for column in important + others[:other_columns]:
        marks = ("PK " if column.name in key else "") + ("FK" if column.name in foreign else "")
        name = f"<u>{html(column.name)}</u>" if column.name in key else html(column.name)
        kind = html(column.data_type) if with_types else html(marks.strip())
        if with_types and marks:
            kind = f"{kind} <i>{html(marks.strip())}</i>"
        kind_cell = f'<font color="#555555">{kind}</font>' if kind else ""
        rows.append(
            f'<tr><td align="left" port="{html(column.name)}__l">{name}</td>'
            f'<td align="left" port="{html(column.name)}__r">{kind_cell}</td></tr>'
        )
    if len(others) > other_columns:
        rows.append(
            f'<tr><td colspan="2" align="left"><i>+ {len(others) - other_columns} '
            "autres colonnes</i></td></tr>"
        )
    table = "".join(rows)
    return (
        '<<table border="1" cellborder="0" cellspacing="0" cellpadding="3" '
        f'color="#888888">{table}</table>>'
    )


def _node_id(qualified: str) -> str:
    return qualified.replace(".", "__")


def tables_dot(
    warehouse: Warehouse,
    manifest: Manifest,
    *,
    with_types: bool,
    schemas: tuple[str, ...] = LOGICAL_SCHEMAS,
    other_columns: int = DIAGRAM_OTHER_COLUMNS,
) -> str:
    """Tables as boxes (keys, foreign keys, a few columns), foreign keys as arrows.

    Left to right: a fact points right at its dimensions. Tables without any foreign key
    are laid out in columns (invisible edges) instead of one very tall column.
    """
    relations = [r for r in warehouse.in_schemas(*schemas) if r.kind == "table"]
    references = references_between(manifest, relations)
    out = [f"digraph {'mpd' if with_types else 'mld'} {{\n", GRAPH_DEFAULTS]
    out.append("  rankdir=LR; nodesep=0.18; ranksep=0.9;\n  node [shape=plaintext];\n")
    for relation in relations:
        label = _table_node(
            relation,
            manifest.model(relation.qualified),
            _foreign_columns(relation, references),
            with_types=with_types,
            referenced={
                c
                for ref in references
                if ref.target == relation.qualified
                for c in ref.target_columns
            },
            other_columns=other_columns,
        )
        out.append(f"  {_node_id(relation.qualified)} [label={label}];\n")
    for ref in references:
        out.append(
            f"  {_node_id(ref.source)} -> {_node_id(ref.target)} "
            f'[tailport="{html(ref.columns[0])}__r:e", '
            f'headport="{html(ref.target_columns[0])}__l:w", arrowhead=normal, arrowtail=crow, '
            f"dir=both{'' if ref.tested else ', style=dashed'}];\n"
        )
    linked = {ref.source for ref in references} | {ref.target for ref in references}
    isolated = [r.qualified for r in relations if r.qualified not in linked]
    per_column = max(3, math.ceil(math.sqrt(len(isolated) * 1.5)))
    for index in range(len(isolated) - per_column):
        out.append(
            f"  {_node_id(isolated[index])} -> {_node_id(isolated[index + per_column])} "
            "[style=invis];\n"
        )
    out.append("}\n")
    return "".join(out)


# --- MPD ---------------------------------------------------------------------------------


def _privileges(grants: dict[str, list[str]]) -> str:
    return "; ".join(f"{role} : {', '.join(privs)}" for role, privs in grants.items()) or "—"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def mpd_markdown(warehouse: Warehouse, manifest: Manifest) -> str:
    lines = [
        "# Modèle physique des données (MPD)",
        "",
        _stamp(warehouse, manifest),
        "",
        "Ce que PostgreSQL contient réellement : schémas, rôles et droits, puis chaque "
        "table ou vue avec ses colonnes (types PostgreSQL), contraintes, index, propriétaire "
        "et droits. Les descriptions de colonnes viennent de la documentation dbt (en "
        "anglais). Script de création : `creation_base.sql` (même dossier).",
        "",
        "## Rôles",
        "",
        "| rôle | connexion | attributs |",
        "|---|---|---|",
    ]
    for role in warehouse.roles:
        lines.append(
            f"| `{role.name}` | {'oui' if role.can_login else 'non'} | "
            f"{', '.join(role.attributes)} |"
        )
    lines += [
        "",
        "## Schémas et droits",
        "",
        "| schéma | propriétaire | droits | droits par défaut (futures tables) |",
        "|---|---|---|---|",
    ]
    for schema in warehouse.schemas:
        lines.append(
            f"| `{schema.name}` | {schema.owner} | {_cell(_privileges(schema.grants))} | "
            f"{_cell('; '.join(schema.default_grants) or '—')} |"
        )
    lines.append("")
    for schema in warehouse.schemas:
        relations = warehouse.in_schemas(schema.name)
        lines += [f"## Schéma `{schema.name}` ({len(relations)} relations)", ""]
        if not relations:
            lines += ["Aucune relation pour l'instant.", ""]
        for relation in relations:
            lines += _relation_section(relation, manifest.model(relation.qualified))
    return "\n".join(lines)


def _relation_section(relation: Relation, model: Model | None) -> list[str]:
    rows = (
        "" if relation.row_count is None else f", {relation.row_count:,} lignes".replace(",", " ")
    )
    lines = [
        f"### `{relation.qualified}`",
        "",
        f"{relation.kind}, propriétaire `{relation.owner}`{rows}. "
        + (f"*{model.description}*" if model and model.description else ""),
        "",
        "| colonne | type | NULL | défaut | description |",
        "|---|---|---|---|---|",
    ]
    for column in relation.columns:
        description = model.columns.get(column.name, "") if model else ""
        lines.append(
            f"| `{column.name}` | {column.data_type} | {'non' if column.not_null else 'oui'} | "
            f"{_cell(column.default or '')} | {_cell(description)} |"
        )
    lines.append("")
    for constraint in relation.constraints:
        kind = CONSTRAINT_KINDS.get(constraint.kind, constraint.kind)
        lines.append(f"- Contrainte {kind} `{constraint.name}` : `{constraint.definition}`")
    for index in relation.indexes:
        lines.append(f"- Index : `{index}`")
    lines.append(f"- Droits : {_privileges(relation.grants)}")
    lines.append("")
    return lines
