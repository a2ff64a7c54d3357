"""`dbt docs generate` works on the demo month, and its artifacts show the documentation
rule kept: every model and seed is described, every column of every built table is
described in YAML (and the YAML describes no column the table lacks), and the public
`core` and `ml` marts have enforced contracts."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from loaders.transform.dbt import run_dbt

PUBLIC_SCHEMAS = ("core", "ml")


@pytest.fixture(scope="module")
def artifacts(demo, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:  # noqa: ANN001
    settings, _, _ = demo
    target = Path(tmp_path_factory.mktemp("dbt_docs")) / "target"
    # The run's parse state, so that dbt parses only what changed (nothing): same project,
    # same profile, a target folder of our own (the run's artifacts stay untouched).
    parsed = Path(settings.dbt_target_dir) / "partial_parse.msgpack"
    if parsed.is_file():
        target.mkdir(parents=True)
        shutil.copyfile(parsed, target / parsed.name)
    completed = run_dbt(replace(settings, dbt_target_dir=str(target)), "docs", "generate")
    assert completed.returncode == 0, "dbt docs generate failed (see its output above)"
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    assert (target / "index.html").is_file()
    return manifest, catalog


def documented_nodes(manifest: dict) -> dict[str, dict]:
    return {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed") and node["config"].get("enabled", True)
    }


def test_every_model_seed_and_column_is_described(artifacts: tuple[dict, dict]) -> None:
    manifest, catalog = artifacts
    nodes = documented_nodes(manifest)
    assert len(nodes) > 30
    missing = []
    for unique_id, node in nodes.items():
        if not node["description"].strip():
            missing.append((unique_id, "(the model itself)"))
        built = catalog["nodes"].get(unique_id)
        assert built is not None, f"{unique_id} is not in the warehouse"
        described = {
            name.lower(): column.get("description", "").strip()
            for name, column in node["columns"].items()
        }
        for column in built["columns"]:
            if not described.get(column.lower()):
                missing.append((unique_id, column))
        for column in described:
            if column not in {name.lower() for name in built["columns"]}:
                missing.append((unique_id, f"{column} (in YAML, not in the table)"))
    assert not missing, missing


def test_public_marts_have_enforced_contracts(artifacts: tuple[dict, dict]) -> None:
    manifest, _ = artifacts
    public = [
        node
        for node in documented_nodes(manifest).values()
        if node["resource_type"] == "model" and node["schema"] in PUBLIC_SCHEMAS
    ]
    assert {node["schema"] for node in public} == set(PUBLIC_SCHEMAS)
    unenforced = [node["name"] for node in public if not node["contract"]["enforced"]]
    assert not unenforced, unenforced
    untyped = [
        (node["name"], name)
        for node in public
        for name, column in node["columns"].items()
        if not column.get("data_type")
    ]
    assert not untyped, untyped
