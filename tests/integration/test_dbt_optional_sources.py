"""The project builds on a warehouse that never received a production CSV export: the
staging models over raw.production_daily and raw.maintenance_log (which dlt creates with
their first row) read an empty row set instead (macro optional_source), and everything
downstream builds and passes its tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from warehouse_sql import query

from loaders.settings import Settings
from loaders.transform.dbt import run_dbt

PRODUCTION_TABLES = (
    "raw.production_daily",
    "raw.maintenance_log",
    "raw.production_daily__rejected",
    "raw.maintenance_log__rejected",
)


@pytest.fixture(scope="module")
def without_csv(demo, database_copy) -> Iterator[Settings]:  # noqa: ANN001
    """A copy of the demo month's database without the production CSV loader's tables."""
    settings, _, _ = demo
    with database_copy(settings, "nocsv") as copied:
        for table in PRODUCTION_TABLES:
            query(copied, f"drop table if exists {table} cascade")
        yield copied


def test_a_warehouse_without_csv_tables_builds(without_csv: Settings) -> None:
    completed = run_dbt(without_csv, "build", "--full-refresh")
    assert completed.returncode == 0, "dbt build without the CSV tables failed (output above)"
    counts = query(
        without_csv,
        "select (select count(*) from staging.stg_production__daily_production), "
        "(select count(*) from staging.stg_production__maintenance_events), "
        "(select count(*) from core.fct_turbine_measurements)",
    )[0]
    assert counts[:2] == (0, 0)
    assert counts[2] > 0
