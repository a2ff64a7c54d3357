"""What analysts read cannot be joined back to a person: no column tagged personal or
quasi-identifying (column `meta` in the dbt YAML) reaches `core` or `ml`, checked on the
demo month's manifest and live tables; the maintenance mart keeps hours, not minutes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from warehouse_sql import query

from loaders.privacy import leakscan, minimisation
from loaders.settings import Settings

MART = "model.windfarm.fct_maintenance_events"


def _manifest(settings: Settings) -> dict:
    return json.loads((Path(settings.dbt_target_dir) / "manifest.json").read_text("utf-8"))


def _live_columns(settings: Settings) -> dict[str, list[str]]:
    rows = query(
        settings,
        "select table_schema || '.' || table_name, array_agg(column_name::text) "
        "from information_schema.columns where table_schema in ('core', 'ml') group by 1",
    )
    return dict(rows)


def test_no_tagged_column_reaches_core_or_ml(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    manifest = _manifest(settings)
    tagged = minimisation.tagged_columns(manifest)
    staging = {item.column for item in tagged["model.windfarm.stg_production__maintenance_events"]}
    assert {"technician_pseudonym", "intervention_id", "started_at", "description"} <= staging
    assert len(minimisation.analyst_models(manifest)) >= 8
    assert minimisation.leaks(manifest, _live_columns(settings)) == []


def test_the_check_catches_a_column_passed_on_or_tagged(demo) -> None:  # noqa: ANN001
    """Negative controls on a copy of the manifest: the check is not vacuous."""
    settings, _, _ = demo
    manifest = _manifest(settings)

    passed_on = copy.deepcopy(manifest)
    passed_on["nodes"][MART]["columns"]["description"] = {"name": "description"}
    [problem] = minimisation.leaks(passed_on)
    assert problem.startswith("core.fct_maintenance_events.description passes on")

    undeclared = minimisation.leaks(manifest, {"core.fct_maintenance_events": ["source_line"]})
    assert [p.split(" ")[0] for p in undeclared] == ["core.fct_maintenance_events.source_line"]

    tagged = copy.deepcopy(manifest)
    tagged["nodes"][MART]["columns"]["turbine_id"]["config"] = {"meta": {"contains_pii": True}}
    assert minimisation.leaks(tagged) == [
        "core.fct_maintenance_events.turbine_id is tagged contains_pii"
    ]

    reviewed = copy.deepcopy(passed_on)
    reviewed["nodes"][MART]["columns"]["description"]["meta"] = {"not_personal": "a label"}
    assert minimisation.leaks(reviewed) == []


def test_the_maintenance_mart_keeps_hours_and_no_intervention_number(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    [(events, off_the_hour, off_the_quarter)] = query(
        settings,
        "select count(*), "
        "count(*) filter (where started_hour_at <> date_trunc('hour', started_hour_at, 'UTC')), "
        "count(*) filter (where duration_hours * 4 <> round((duration_hours * 4)::numeric)) "
        "from core.fct_maintenance_events",
    )
    assert events > 0
    assert (off_the_hour, off_the_quarter) == (0, 0)
    numbers = [
        row[0]
        for row in query(
            settings, "select intervention_id from staging.stg_production__maintenance_events"
        )
    ]
    assert len(numbers) == events
    found = leakscan.scan_database(settings, numbers)
    assert found  # positive control: staging and raw hold them
    assert [f.where for f in found if f.where.split(".")[0] in ("core", "ml")] == []
