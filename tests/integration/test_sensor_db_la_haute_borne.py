"""Real data: ENGIE's La Haute Borne SCADA sample loads through a mapping file alone.

The sample (9,999 rows, ENGIE codes, `+01:00` offsets, negative idle power, float32 noise)
is read in place from ../shared/data/real/ and put, as it is, in a SQLite table; there is
no registry nor alarm table. Every row must land in raw and reach dbt staging, in UTC.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from warehouse_sql import scalar

from loaders import warehouse
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import PROJECT_ROOT, Settings
from loaders.sources.landing import SourceOutcome
from loaders.sources.sensor_db import load as sensor_load
from loaders.transform import dbt

SAMPLE = PROJECT_ROOT.parent / "shared/data/real/la_haute_borne/la_haute_borne_data_sample.csv"
MAPPING = PROJECT_ROOT / "config/la_haute_borne/historian.csv"
SAMPLE_ROWS = 9_999

pytestmark = pytest.mark.skipif(
    not SAMPLE.is_file(), reason=f"the La Haute Borne sample is absent ({SAMPLE})"
)


@pytest.fixture(scope="module")
def loaded(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, SourceOutcome]]:
    work = tmp_path_factory.mktemp("la_haute_borne")
    source = work / "historian.db"
    with sqlite3.connect(source) as connection:  # the CSV as it is: text timestamps
        pd.read_csv(SAMPLE, dtype={"Date_time": str}).to_sql(
            "la_haute_borne", connection, index=False
        )
    lhb = replace(
        settings,
        database=f"{settings.database}_lhb",
        dlt_dir=str(work / "dlt"),
        dbt_target_dir=str(work / "dbt_target"),
        sensor_db_url=f"sqlite:///{source}",
        sensor_table="la_haute_borne",
        sensor_mapping=str(MAPPING),
        sensor_lookback_days=0,
    )
    warehouse.bootstrap(lhb)
    outcome = sensor_load.load_sensor_db(
        lhb, date(2014, 1, 1), date(2014, 1, 18), Pseudonymiser(lhb.pseudonym_key)
    )
    yield lhb, outcome
    warehouse.drop_database(lhb)


def test_every_sample_row_lands_in_utc(loaded) -> None:  # noqa: ANN001
    settings, outcome = loaded
    assert outcome.details["rows_read"] == SAMPLE_ROWS
    assert outcome.details["rows_rejected"] == 0
    assert outcome.details["unmapped_columns"] == []
    assert set(outcome.details["tables_skipped"]) == {"turbine registry", "alarms"}
    assert scalar(settings, "select count(*) from raw.scada_measurements") == SAMPLE_ROWS
    # 2014-01-01T01:00:00+01:00 is midnight UTC
    first = scalar(settings, "select min(measured_at) from raw.scada_measurements")
    assert first == datetime(2014, 1, 1, tzinfo=UTC)
    assert (
        scalar(
            settings,
            "select count(distinct turbine_id) from raw.scada_measurements "
            "where turbine_id in ('R80711', 'R80721', 'R80736', 'R80790')",
        )
        == 4
    )
    # idle consumption stays negative; the vane angle has its own canonical column
    assert scalar(settings, "select min(active_power_avg) from raw.scada_measurements") < 0
    assert (
        scalar(
            settings,
            "select count(relative_wind_direction_avg) from raw.scada_measurements",
        )
        == SAMPLE_ROWS
    )
    value = scalar(
        settings,
        "select wind_speed_avg from raw.scada_measurements "
        "where turbine_id = 'R80736' and measured_at = '2014-01-01 00:00:00+00'",
    )
    assert value == pytest.approx(7.12)


def test_the_sample_reaches_staging(loaded) -> None:  # noqa: ANN001
    settings, _ = loaded
    # its own tests only: the singular tests that also read later models are not selected
    outcome = dbt.build(
        settings, "--select", "stg_scada__measurements", "--indirect-selection", "cautious"
    )
    assert outcome.status == "success", outcome.failures
    assert scalar(settings, "select count(*) from staging.stg_scada__measurements") == SAMPLE_ROWS
