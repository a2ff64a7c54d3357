"""Data minimisation checked from the dbt project's own declarations (GDPR art. 5(1)(c), 25).

A column that holds personal data carries `meta: {contains_pii: true}` in its YAML; one
that could single a person out when combined with other data (an intervention number,
exact times, free text, a source line) carries `meta: {quasi_identifier: true}` with
`quasi_identifier_why`. dbt copies both into target/manifest.json.

What analysts read (`core`, `ml`) must hold neither: no column of theirs is tagged, and
none has the name of a tagged column of a model it is built from (a column passed through
keeps its name; a coarsened one gets a new name, e.g. `started_hour_at`). A column that
shares such a name but is something else declares `meta: {not_personal: "<why>"}`: the
decision is written where a reviewer sees it. The privacy tests run this on every build's
manifest and on the live tables.
"""

from __future__ import annotations

from dataclasses import dataclass

ANALYST_SCHEMAS = ("core", "ml")
TAGS = ("contains_pii", "quasi_identifier")


@dataclass(frozen=True)
class Tagged:
    node: str
    column: str
    tag: str


def _meta(column: dict) -> dict:
    return {**column.get("meta", {}), **column.get("config", {}).get("meta", {})}


def _nodes(manifest: dict) -> dict[str, dict]:
    return {**manifest.get("nodes", {}), **manifest.get("sources", {})}


def tagged_columns(manifest: dict) -> dict[str, list[Tagged]]:
    """node id -> its columns tagged personal or quasi-identifying."""
    found: dict[str, list[Tagged]] = {}
    for unique_id, node in _nodes(manifest).items():
        for name, column in node.get("columns", {}).items():
            meta = _meta(column)
            for tag in TAGS:
                if meta.get(tag):
                    found.setdefault(unique_id, []).append(Tagged(unique_id, name, tag))
    return found


def ancestors(manifest: dict, unique_id: str) -> set[str]:
    nodes = _nodes(manifest)
    seen: set[str] = set()
    todo = list(nodes.get(unique_id, {}).get("depends_on", {}).get("nodes", []))
    while todo:
        parent = todo.pop()
        if parent not in seen:
            seen.add(parent)
            todo += nodes.get(parent, {}).get("depends_on", {}).get("nodes", [])
    return seen


def analyst_models(manifest: dict, schemas: tuple[str, ...] = ANALYST_SCHEMAS) -> dict[str, dict]:
    return {
        unique_id: node
        for unique_id, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") == "model" and node.get("schema") in schemas
    }


def leaks(
    manifest: dict,
    live_columns: dict[str, list[str]] | None = None,
    schemas: tuple[str, ...] = ANALYST_SCHEMAS,
) -> list[str]:
    """Every tagged column that reaches an analyst model, as a sentence; [] when none.
    `live_columns` (schema.table -> columns in the database) adds the columns a model
    has without declaring them."""
    tagged = tagged_columns(manifest)
    problems = []
    for unique_id, node in sorted(analyst_models(manifest, schemas).items()):
        relation = f"{node['schema']}.{node.get('alias') or node['name']}"
        declared = node.get("columns", {})
        for item in tagged.get(unique_id, []):
            problems.append(f"{relation}.{item.column} is tagged {item.tag}")
        inherited = {
            item.column: item
            for parent in ancestors(manifest, unique_id)
            for item in tagged.get(parent, [])
        }
        columns = set(declared) | set((live_columns or {}).get(relation, []))
        for name in sorted(columns & set(inherited)):
            if _meta(declared.get(name, {})).get("not_personal"):
                continue
            origin = inherited[name]
            problems.append(
                f"{relation}.{name} passes on {origin.node}.{name} ({origin.tag}): drop or "
                "coarsen it, or declare meta not_personal with the reason"
            )
    return problems
