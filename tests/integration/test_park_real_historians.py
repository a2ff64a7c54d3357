"""Real historians of other operators load through their configuration folder alone.

ENGIE's La Haute Borne sample (config/la_haute_borne: ENGIE codes, `+01:00` offsets) and
the Turkish T1 SCADA year (config/turkey_t1: no turbine column, `DD MM YYYY HH:MM` local
times, units in the column names; its Excel copy in cp1252 with CRLF too) are each put,
as published, in a SQLite table, and loaded with only `park_config` set: every row
lands (read = loaded + rejected), and every mapped signal reaches dbt staging and
fct_turbine_measurements with as many values as the source has. The files are read in
place from ../shared/data/real/ and the tests skip, saying so, where they are absent.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from warehouse_sql import query, scalar

from loaders import warehouse
from loaders.park_config import park_of
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import PROJECT_ROOT, Settings
from loaders.sources.landing import SourceOutcome
from loaders.sources.sensor_db import load as sensor_load
from loaders.sources.sensor_db.mapping import load_mapping
from loaders.transform import dbt

REAL = PROJECT_ROOT.parent / "shared/data/real"


@dataclass(frozen=True)
class Historian:
    name: str
    park: str  # the configuration folder under config/
    file: Path
    encoding: str
    timestamp: str  # the timestamp column, read as text
    first: date  # the UTC days of the data
    last: date
    # its park's configuration names the turbine model (rated power, power curve); T1's
    # publication does not, and the marts must not invent one
    model_known: bool = True


HISTORIANS = [
    Historian(
        "la_haute_borne",
        "la_haute_borne",
        REAL / "la_haute_borne/la_haute_borne_data_sample.csv",
        "utf-8",
        "Date_time",
        date(2014, 1, 1),
        date(2014, 1, 18),
    ),
    Historian(
        "turkey_t1",
        "turkey_t1",
        REAL / "turkey_t1/T1.csv",
        "utf-8",
        "Date/Time",
        date(2017, 12, 31),  # 01 01 2018 00:00 in Istanbul is 21:00 UTC the day before
        date(2018, 12, 31),
        model_known=False,
    ),
    Historian(
        "turkey_t1_excel",
        "turkey_t1",
        REAL / "turkey_t1/T1_excel_cp1252_crlf.csv",
        "cp1252",
        "Date/Time",
        date(2017, 12, 31),
        date(2018, 12, 31),
        model_known=False,
    ),
]


@dataclass
class Loaded:
    settings: Settings
    outcome: SourceOutcome
    source: pd.DataFrame
    mapped: dict[str, str]  # source column -> canonical column
    historian: Historian


@pytest.fixture(scope="module", params=HISTORIANS, ids=lambda h: h.name)
def loaded(
    request: pytest.FixtureRequest, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loaded]:
    historian: Historian = request.param
    if not historian.file.is_file():
        pytest.skip(f"the real data file is absent ({historian.file})")
    work = tmp_path_factory.mktemp(historian.name)
    text = {historian.timestamp: str}
    source = pd.read_csv(historian.file, encoding=historian.encoding, dtype=text)
    database = work / "historian.db"
    with sqlite3.connect(database) as connection:  # as published: text timestamps
        source.to_sql("scada_export", connection, index=False)
    park_settings = replace(
        settings,
        database=f"{settings.database}_{historian.name}",
        dlt_dir=str(work / "dlt"),
        dbt_target_dir=str(work / "dbt_target"),
        sensor_db_url=f"sqlite:///{database}",
        sensor_table="scada_export",
        sensor_mapping="",  # the park's own historian.csv
        park_config=f"config/{historian.park}",
        sensor_lookback_days=0,
    )
    park = park_of(park_settings)
    mapping = load_mapping(park.historian_mapping, park.timestamp_format, park.turbine_id)
    warehouse.bootstrap(park_settings)
    outcome = sensor_load.load_sensor_db(
        park_settings, historian.first, historian.last, Pseudonymiser(park_settings.pseudonym_key)
    )
    mapped = {s.source_name: s.canonical_name for s in mapping.signals}
    yield Loaded(park_settings, outcome, source, mapped, historian)
    warehouse.drop_database(park_settings)


def test_every_row_lands(loaded: Loaded) -> None:
    details = loaded.outcome.details
    rows = len(loaded.source)
    assert details["rows_read"] == rows
    assert details["rows_read"] == details["rows_loaded"] + details["rows_rejected"]
    assert details["rows_rejected"] == 0
    assert scalar(loaded.settings, "select count(*) from raw.scada_measurements") == rows
    unmapped = set(loaded.source.columns) - set(loaded.mapped)
    assert set(details["unmapped_columns"]) == unmapped - {
        "Wind_turbine_name",
        "Date_time",
        "Date/Time",
    }


def test_every_mapped_signal_reaches_staging_and_the_fact(loaded: Loaded) -> None:
    outcome = dbt.build(
        loaded.settings,
        "--select",
        "+fct_turbine_measurements",
        "--exclude-resource-type",
        "test",
    )
    assert outcome.status == "success", outcome.failures
    for source_column, canonical in loaded.mapped.items():
        values = int(loaded.source[source_column].notna().sum())
        assert values > 0
        for table in ("staging.stg_scada__measurements", "core.fct_turbine_measurements"):
            found = scalar(loaded.settings, f"select count({canonical}) from {table}")
            assert found == values, f"{canonical} in {table}: {found} values, source {values}"


def test_local_times_are_read_in_the_parks_zone(loaded: Loaded) -> None:
    first = scalar(
        loaded.settings,
        "select to_char(min(measured_at) at time zone 'UTC', 'YYYY-MM-DD HH24:MI') "
        "from raw.scada_measurements",
    )
    # La Haute Borne: 2014-01-01T01:00:00+01:00; T1: 01 01 2018 00:00 in Istanbul (UTC+3)
    assert first in ("2014-01-01 00:00", "2017-12-31 21:00")


def test_a_historian_without_registry_gets_the_parks_turbines(loaded: Loaded) -> None:
    park = park_of(loaded.settings)
    skipped = loaded.outcome.details["tables_skipped"]["turbine registry"]
    if park.turbines is None:  # T1: no registry at all, and dbt still builds (test above)
        assert "instead" not in skipped
        return
    assert "turbines.csv instead" in skipped
    raw_turbines = scalar(
        loaded.settings, "select count(distinct turbine_id) from raw.scada_turbines"
    )
    measured = scalar(
        loaded.settings, "select count(distinct turbine_id) from raw.scada_measurements"
    )
    assert raw_turbines == measured == 4
    unknown = scalar(
        loaded.settings,
        "select count(*) from raw.scada_measurements as m where not exists "
        "(select 1 from raw.scada_turbines as t where t.turbine_id = m.turbine_id)",
    )
    assert unknown == 0


def test_availability_and_lost_production_are_plausible(loaded: Loaded) -> None:
    """IEC 61400-26 on real data (docs/availability.md): every period gets one category,
    and the figures fall where onshore fleets report theirs: time-based availability of
    roughly 90-100 % (European fleets publish 95-98 % over a year; a sample of days may
    hold one outage), a capacity factor between 5 and 60 % (French onshore wind averages
    about 22-26 % over a year, and a period of days swings around that), no negative loss;
    where the park's configuration names no turbine model (T1), neither is invented."""
    outcome = dbt.build(
        loaded.settings,
        "--select",
        "+fct_turbine_availability_monthly",
        "fct_turbine_measurements",  # built here too: the test must not need another's build
        "--exclude-resource-type",
        "test",
    )
    assert outcome.status == "success", outcome.failures
    settings = loaded.settings
    periods = scalar(settings, "select count(*) from core.fct_turbine_measurements")
    categorised = scalar(
        settings,
        "select count(*) from intermediate.int_turbine_periods_categorised "
        "where availability_category is not null",
    )
    assert categorised == periods > 0
    (availability, information, capacity, lost) = query(
        settings,
        "select sum(hours_available) / nullif(sum(hours_with_information), 0), "
        "sum(hours_with_information) / sum(hours), "
        "sum(energy_produced_kwh) / nullif(sum(rated_energy_kwh), 0), "
        "min(lost_energy_kwh) from core.fct_turbine_availability_daily",
    )[0]
    assert information > 0.5, information
    assert 0.9 <= availability <= 1, availability
    assert lost >= 0  # a day of full performance loses nothing, by definition
    if loaded.historian.model_known:
        assert 0.05 <= capacity <= 0.6, capacity
    else:  # no rated power: the capacity factor stays unknown
        assert capacity is None, capacity
