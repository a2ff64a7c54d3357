"""A real failure log of another shape becomes the failure events the ML labels use, by
configuration alone.

EDP's failure log of its Wind Farm 1 (`Turbine_ID;Component;Timestamp;Remarks`: no
intervention id nor type, EDP's own component codes, UTC times with an offset) is loaded
through the production CSV loader with only `park_config` pointing at
config/edp_wind_farm_1: every row lands (read = loaded + rejected, none rejected), its
components are the vocabulary's, and each row is one failure event of its component.
The file is read from ../shared/data/real/ (a copy goes to the inbox, which the loader
empties) and the test skips, saying so, where it is absent.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import pytest
from warehouse_sql import query, scalar

from loaders import warehouse
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import PROJECT_ROOT, Settings
from loaders.sources.production_csv.load import load_production_csv
from loaders.transform import dbt

FAILURE_LOG = PROJECT_ROOT.parent / "shared/data/real/edp_wind_farm_1"
FILE = "wind-farm-1-failures-training.csv"
CANONICAL = {
    "GENERATOR": "generator",
    "GENERATOR_BEARING": "generator_bearing",
    "GEARBOX": "gearbox",
    "HYDRAULIC_GROUP": "hydraulic_system",
    "TRANSFORMER": "transformer",
}


@pytest.fixture(scope="module")
def edp(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    source = FAILURE_LOG / FILE
    if not source.is_file():
        pytest.skip(f"the real data file is absent ({source})")
    work = tmp_path_factory.mktemp("edp")
    inbox = work / "inbox"
    inbox.mkdir()
    shutil.copy(source, inbox / FILE)
    edp_settings = replace(
        settings,
        database=f"{settings.database}_edp",
        dlt_dir=str(work / "dlt"),
        dbt_target_dir=str(work / "dbt_target"),
        csv_inbox=str(inbox),
        park_config="config/edp_wind_farm_1",
        sensor_mapping="",
    )
    warehouse.bootstrap(edp_settings)
    yield edp_settings
    warehouse.drop_database(edp_settings)


def published() -> list[dict[str, str]]:
    with (FAILURE_LOG / FILE).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def test_the_failure_log_becomes_failure_events(edp: Settings) -> None:
    rows = published()
    assert len(rows) == 23

    outcome = load_production_csv(edp, Pseudonymiser(edp.pseudonym_key))

    details = outcome.details
    assert details["refused_files"] == {}
    assert details["rows_read"] == {FILE: 23}
    assert details["rows_loaded"] == {FILE: 23}
    assert details["rows_rejected"] == {FILE: 0}
    loaded = query(
        edp,
        "select turbine_id, component, intervention_type, intervention_id, "
        "to_char(started_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI') "
        "from raw.maintenance_log order by _source_line",
    )
    assert [(r[0], r[1]) for r in loaded] == [
        (row["Turbine_ID"], CANONICAL[row["Component"]]) for row in rows
    ]
    assert {r[2] for r in loaded} == {"corrective"}
    assert [r[3] for r in loaded] == [f"{row['Turbine_ID']}|{row['Timestamp']}" for row in rows]
    assert [r[4] for r in loaded] == [row["Timestamp"][:16] for row in rows]

    build = dbt.build(
        edp,
        "--select",
        "+int_failure_events_unioned",
        "components",  # the vocabulary, checked against below
        "--exclude-resource-type",
        "test",
    )
    assert build.status == "success", build.failures
    unknown = scalar(
        edp,
        "select count(*) from staging.stg_production__maintenance_events as m "
        "where not exists (select 1 from reference.components as c "
        "where c.component = m.component)",
    )
    assert unknown == 0  # every component is the vocabulary's
    events = query(
        edp,
        "select turbine_id, component, failure_source from intermediate.int_failure_events_unioned",
    )
    assert len(events) == 23
    assert {event[2] for event in events} == {"maintenance"}
    assert Counter((e[0], e[1]) for e in events) == Counter(
        (row["Turbine_ID"], CANONICAL[row["Component"]]) for row in rows
    )
