"""What dbt's manifest says about the models: descriptions, logical keys, references.

PostgreSQL holds few constraints on dbt's tables (dbt rebuilds them), so the logical keys
and foreign keys of the data model are the ones dbt *tests*: `unique` and
`unique_combination` give the keys, `relationships` the foreign keys. A constraint declared
in a model contract (primary_key, foreign_key) counts too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

_REF = re.compile(r"""ref\(\s*['"](?:\w+['"]\s*,\s*['"])?(\w+)['"]""")
_SOURCE = re.compile(r"""source\(\s*['"](\w+)['"]\s*,\s*['"](\w+)['"]""")
KEY_TESTS = frozenset({"unique_combination", "unique_combination_of_columns"})


@dataclass
class Reference:
    """A logical foreign key: `columns` of `source` point at `target_columns` of `target`."""

    source: str
    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]
    tested: bool = True  # False: implied by the naming convention, no dbt test yet


@dataclass
class Model:
    qualified: str  # schema.name as built in the database
    resource_type: str  # model, seed, source, snapshot
    materialized: str
    description: str
    group: str  # the source system for a source (scada, ...), else the project folder
    columns: dict[str, str] = field(default_factory=dict)  # name -> description
    keys: list[tuple[str, ...]] = field(default_factory=list)  # unique column sets
    not_null: set[str] = field(default_factory=set)

    def primary_key(self) -> tuple[str, ...]:
        """The key to show as primary: a composite key first, else a `_key` column."""
        if not self.keys:
            return ()
        composite = [key for key in self.keys if len(key) > 1]
        if composite:
            return composite[0]
        surrogate = [key for key in self.keys if key[0].endswith("_key")]
        return (surrogate or self.keys)[0]


@dataclass
class Manifest:
    models: dict[str, Model]
    references: list[Reference]
    dbt_version: str
    test_count: int

    def model(self, qualified: str) -> Model | None:
        return self.models.get(qualified)


def _qualified(node: dict) -> str:
    name = node.get("identifier") or node.get("alias") or node["name"]
    return f"{node['schema']}.{name}"


def _group(node: dict) -> str:
    if node["resource_type"] == "source":
        return str(node["source_name"])
    if node["resource_type"] == "seed":
        return "seeds"
    fqn = node.get("fqn") or []
    return str(fqn[1]) if len(fqn) > 2 else ""


def read(path: Path) -> Manifest:
    """Read dbt's manifest.json (from `dbt build` or `dbt docs generate`)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    nodes = {**data.get("nodes", {}), **data.get("sources", {})}
    by_id: dict[str, Model] = {}
    by_name: dict[str, str] = {}
    for unique_id, node in nodes.items():
        if node["resource_type"] not in ("model", "seed", "snapshot", "source"):
            continue
        model = Model(
            qualified=_qualified(node),
            resource_type=node["resource_type"],
            materialized=node.get("config", {}).get("materialized", node["resource_type"]),
            description=" ".join((node.get("description") or "").split()),
            group=_group(node),
            columns={
                name: " ".join((column.get("description") or "").split())
                for name, column in node.get("columns", {}).items()
            },
        )
        for constraint in node.get("constraints", []):
            if constraint.get("type") in ("primary_key", "unique"):
                model.keys.append(tuple(constraint.get("columns") or ()))
        for name, column in node.get("columns", {}).items():
            for constraint in column.get("constraints", []):
                if constraint.get("type") in ("primary_key", "unique"):
                    model.keys.append((name,))
        by_id[unique_id] = model
        if node["resource_type"] == "source":
            by_name[f"source:{node['source_name']}.{node['name']}"] = unique_id
        else:
            by_name[node["name"]] = unique_id
    references: list[Reference] = []
    tests = 0
    for node in data.get("nodes", {}).values():
        if node["resource_type"] != "test":
            continue
        tests += 1
        metadata = node.get("test_metadata") or {}
        attached = by_id.get(node.get("attached_node") or "")
        if attached is None:
            continue
        kwargs = metadata.get("kwargs", {})
        name = metadata.get("name")
        column = node.get("column_name") or kwargs.get("column_name")
        if name == "unique" and column:
            attached.keys.append((column,))
        elif name == "not_null" and column:
            attached.not_null.add(column)
        elif name in KEY_TESTS:
            attached.keys.append(tuple(kwargs.get("combination_of_columns", ())))
        elif name == "relationships" and column:
            target = _target(str(kwargs.get("to", "")), by_name, by_id)
            if target:
                references.append(
                    Reference(attached.qualified, (column,), target, (kwargs.get("field", ""),))
                )
    for model in by_id.values():
        model.keys = list(dict.fromkeys(key for key in model.keys if key))
    return Manifest(
        models={m.qualified: m for m in by_id.values()},
        references=references,
        dbt_version=data.get("metadata", {}).get("dbt_version", ""),
        test_count=tests,
    )


def _target(to: str, by_name: dict[str, str], by_id: dict[str, Model]) -> str | None:
    found = _REF.search(to)
    if found:
        unique_id = by_name.get(found.group(1))
    else:
        source = _SOURCE.search(to)
        unique_id = by_name.get(f"source:{source.group(1)}.{source.group(2)}") if source else None
    return by_id[unique_id].qualified if unique_id else None
