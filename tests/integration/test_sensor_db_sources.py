"""The sensor loader against real source databases: SQLite, MariaDB and PostgreSQL, wide and
narrow historians, units converted, local time to UTC, rejects, late rows, re-runs."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from warehouse_sql import query, scalar

from loaders import warehouse
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import Settings
from loaders.sources.sensor_db import load as sensor_load

MARIADB_URL = "mysql+pymysql://root:@127.0.0.1:3306"
MARIADB_DATABASE = "windfarm_src_test"
PARIS = ZoneInfo("Europe/Paris")
FIRST_DAY, LAST_DAY = date(2025, 10, 25), date(2025, 10, 26)  # holds the autumn DST change
TURBINES = ("T01", "T02")

WIDE_MAPPING = """source_name,canonical_name,source_unit
id,source_row_id,
wtg,turbine_id,
stamp,measured_at,{zone}
WS_KMH,wind_speed_avg,km/h
POWER_MW,active_power_avg,MW
OIL_F,gearbox_oil_temp_avg,°F
AMB_K,ambient_temp_avg,K
"""
NARROW_MAPPING = """source_name,canonical_name,source_unit
id,source_row_id,
wtg,turbine_id,
stamp,measured_at,{zone}
tag,signal_tag,
val,signal_value,
Ws,wind_speed_avg,km/h
P,active_power_avg,MW
OilT,gearbox_oil_temp_avg,degF
AmbT,ambient_temp_avg,K
"""


def expected(period: int) -> dict[str, float]:
    """Canonical values of the n-th period (SI units)."""
    return {
        "wind_speed_avg": 4.0 + period % 10,
        "active_power_avg": 100.0 * (period % 7),
        "gearbox_oil_temp_avg": 40.0 + period % 5,
        "ambient_temp_avg": 10.0 + period % 3,
    }


def in_source_units(values: dict[str, float]) -> dict[str, float]:
    return {
        "WS_KMH": values["wind_speed_avg"] * 3.6,
        "POWER_MW": values["active_power_avg"] / 1000.0,
        "OIL_F": values["gearbox_oil_temp_avg"] * 9.0 / 5.0 + 32.0,
        "AMB_K": values["ambient_temp_avg"] + 273.15,
    }


def utc_periods() -> list[datetime]:
    start = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC)
    days = (LAST_DAY - FIRST_DAY).days + 1
    return [start + timedelta(minutes=10 * n) for n in range(144 * days)]


def stamp(moment: datetime, style: str) -> object:
    """How a backend stores the period start: UTC text, local naive, or aware."""
    if style == "utc_text":
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    if style == "local_naive":
        return moment.astimezone(PARIS).replace(tzinfo=None)
    return moment


def wide_rows(style: str) -> list[dict]:
    rows = []
    for period, moment in enumerate(utc_periods()):
        for turbine in TURBINES:
            rows.append(
                {
                    "wtg": turbine,
                    "stamp": stamp(moment, style),
                    **in_source_units(expected(period)),
                    "COMMENT": "unmapped",
                }
            )
    return rows


def narrow_rows(style: str) -> list[dict]:
    tags = {"WS_KMH": "Ws", "POWER_MW": "P", "OIL_F": "OilT", "AMB_K": "AmbT"}
    rows = []
    for period, moment in enumerate(utc_periods()):
        for turbine in TURBINES:
            for column, value in in_source_units(expected(period)).items():
                rows.append(
                    {
                        "wtg": turbine,
                        "stamp": stamp(moment, style),
                        "tag": tags[column],
                        "val": value,
                    }
                )
            rows.append(
                {"wtg": turbine, "stamp": stamp(moment, style), "tag": "Unknown", "val": 1.0}
            )
    return rows


def create_source_table(
    url: str, name: str, layout: str, style: str, extra_rows: list[dict] | None = None
) -> int:
    """The historian table in the source database; returns its row count."""
    if style == "utc_text":
        time_type: sa.types.TypeEngine = sa.Text()
    else:
        time_type = sa.DateTime(timezone=style == "aware")
    if layout == "wide":
        columns = [
            sa.Column("wtg", sa.String(10)),
            sa.Column("stamp", time_type),
            *[sa.Column(c, sa.Float) for c in ("WS_KMH", "POWER_MW", "OIL_F", "AMB_K")],
            sa.Column("COMMENT", sa.String(20)),
        ]
        rows = wide_rows(style)
    else:
        columns = [
            sa.Column("wtg", sa.String(10)),
            sa.Column("stamp", time_type),
            sa.Column("tag", sa.String(20)),
            sa.Column("val", sa.Float),
        ]
        rows = narrow_rows(style)
    engine = sa.create_engine(url, hide_parameters=True)
    metadata = sa.MetaData()
    table = sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True), *columns)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), rows)
        for row in extra_rows or []:  # past SQLAlchemy's types: text where a number belongs
            names = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            connection.exec_driver_sql(
                f"insert into {name} ({names}) values ({marks})", tuple(row.values())
            )
    engine.dispose()
    return len(rows) + len(extra_rows or [])


@pytest.fixture(scope="module")
def sensor_settings(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """A warehouse of its own (measurement reloads are per day and source table)."""
    isolated = replace(
        settings,
        database=f"{settings.database}_sensor",
        dlt_dir=str(tmp_path_factory.mktemp("sensor_dlt")),
    )
    warehouse.bootstrap(isolated)
    yield isolated
    warehouse.drop_database(isolated)


@pytest.fixture(scope="module")
def postgres_source(settings: Settings) -> Iterator[str]:
    """A separate PostgreSQL database on the same server, as a source."""
    name = f"{settings.database}_src"
    admin = warehouse.connect(settings, "admin", "postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'create database "{name}"')
    password = f":{settings.admin_password}" if settings.admin_password else ""
    yield (
        f"postgresql+psycopg2://{settings.admin_user}{password}@"
        f"{settings.pghost}:{settings.pgport}/{name}"
    )
    with admin.cursor() as cursor:
        cursor.execute(f'drop database if exists "{name}" with (force)')
    admin.close()


@pytest.fixture(scope="module")
def mariadb_source() -> Iterator[str]:
    """The `windfarm_src_test` database on the local MariaDB, dropped afterwards."""
    engine = sa.create_engine(MARIADB_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f"create database if not exists {MARIADB_DATABASE}"))
    except sa.exc.OperationalError as error:
        engine.dispose()
        pytest.skip(f"MariaDB does not answer at 127.0.0.1:3306 as root: {error.orig}")
    yield f"{MARIADB_URL}/{MARIADB_DATABASE}"
    with engine.begin() as connection:
        connection.execute(sa.text(f"drop database if exists {MARIADB_DATABASE}"))
    engine.dispose()


@pytest.fixture
def source_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    backend = request.param
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'historian.db'}"
    return request.getfixturevalue(f"{backend}_source")


def mapping_file(tmp_path: Path, layout: str, zone: str) -> str:
    path = tmp_path / f"{layout}.csv"
    template = WIDE_MAPPING if layout == "wide" else NARROW_MAPPING
    path.write_text(template.format(zone=zone), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("layout", ["wide", "narrow"])
@pytest.mark.parametrize("source_url", ["sqlite", "mariadb", "postgres"], indirect=True)
def test_each_backend_and_layout_lands_canonical_rows(
    sensor_settings: Settings, source_url: str, layout: str, tmp_path: Path
) -> None:
    # sqlite: UTC as text (the demo's way); MariaDB: local wall-clock DATETIME across the
    # autumn DST change; PostgreSQL: timestamptz.
    backend = sa.make_url(source_url).get_backend_name()
    style = {"sqlite": "utc_text", "mysql": "local_naive", "postgresql": "aware"}[backend]
    table = f"hist_{backend}_{layout}_{secrets.token_hex(2)}"
    source_rows = create_source_table(source_url, table, layout, style)
    zone = "Europe/Paris" if style == "local_naive" else "UTC"
    run_settings = replace(
        sensor_settings,
        sensor_db_url=source_url,
        sensor_table=table,
        sensor_mapping=mapping_file(tmp_path, layout, zone),
        sensor_lookback_days=0,
    )

    outcome = sensor_load.load_sensor_db(
        run_settings, FIRST_DAY, LAST_DAY, Pseudonymiser(run_settings.pseudonym_key)
    )

    periods = len(utc_periods()) * len(TURBINES)
    landed = query(
        run_settings,
        "select count(*), count(distinct (turbine_id, measured_at)), min(measured_at), "
        "max(measured_at), sum(wind_speed_avg), sum(active_power_avg), "
        "sum(gearbox_oil_temp_avg), sum(ambient_temp_avg), count(rotor_speed_avg) "
        f"from raw.scada_measurements where _source_table = '{table}'",
    )[0]
    assert landed[0] == landed[1] == periods  # every period once, DST hour included
    assert landed[2] == datetime(2025, 10, 25, tzinfo=UTC)
    assert landed[3] == datetime(2025, 10, 26, 23, 50, tzinfo=UTC)
    sums = {name: 0.0 for name in expected(0)}
    for period in range(len(utc_periods())):
        for name, value in expected(period).items():
            sums[name] += value * len(TURBINES)
    assert landed[4] == pytest.approx(sums["wind_speed_avg"])
    assert landed[5] == pytest.approx(sums["active_power_avg"])
    assert landed[6] == pytest.approx(sums["gearbox_oil_temp_avg"])
    assert landed[7] == pytest.approx(sums["ambient_temp_avg"])
    assert landed[8] == 0  # a canonical signal the historian lacks is a null column
    assert outcome.details["layout"] == layout
    assert outcome.details["rows_read"] == source_rows
    if layout == "wide":
        assert outcome.details["unmapped_columns"] == ["COMMENT"]
    else:
        assert outcome.details["unmapped_tags"] == {"Unknown": periods}
        assert outcome.details["values_loaded"] + outcome.details["rows_unmapped"] == source_rows
    assert outcome.details["tables_skipped"] == {
        "turbine registry": "no table 'turbine' in the sensor database",
        "alarms": "no table 'alarm_event' in the sensor database",
    }


@pytest.mark.parametrize("layout", ["wide", "narrow"])
def test_unreadable_rows_are_rejected_with_the_reason(
    sensor_settings: Settings, layout: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'historian.db'}"
    table = f"bad_{layout}_{secrets.token_hex(2)}"
    if layout == "wide":
        extra = [
            {"wtg": "T01", "stamp": "2025-10-25 25:99", "WS_KMH": 1.0},
            {"wtg": "T02", "stamp": None, "WS_KMH": 1.0},
            {"wtg": "T01", "stamp": "2025-10-25 00:00:00", "WS_KMH": "n/a"},
            {"wtg": "", "stamp": "2025-10-25 00:10:00", "WS_KMH": 1.0},
        ]
    else:
        extra = [
            {"wtg": "T01", "stamp": "2025-10-25T99", "tag": "Ws", "val": 1.0},
            {"wtg": "T01", "stamp": "2025-10-25 00:00:00", "tag": "Ws", "val": "n/a"},
            {"wtg": "T01", "stamp": "2025-10-25 00:00:00", "tag": "Ws", "val": 99.0},
        ]
    source_rows = create_source_table(url, table, layout, "utc_text", extra)
    run_settings = replace(
        sensor_settings,
        sensor_db_url=url,
        sensor_table=table,
        sensor_mapping=mapping_file(tmp_path, layout, "UTC"),
        sensor_lookback_days=0,
    )
    pseudonymiser = Pseudonymiser(run_settings.pseudonym_key)

    first = sensor_load.load_sensor_db(run_settings, FIRST_DAY, LAST_DAY, pseudonymiser)
    again = sensor_load.load_sensor_db(run_settings, FIRST_DAY, LAST_DAY, pseudonymiser)

    reasons = [
        reason
        for (reason,) in query(
            run_settings,
            "select reason from raw.scada_measurements__rejected "
            f"where _source_table = '{table}' order by reason",
        )
    ]
    if layout == "wide":
        assert reasons == [
            "WS_KMH: not a number",
            "timestamp missing or not parseable",
            "timestamp missing or not parseable",
            "turbine id missing",
        ]
        landed = scalar(
            run_settings,
            f"select count(*) from raw.scada_measurements where _source_table = '{table}'",
        )
        assert landed + len(reasons) == source_rows  # nothing lost
    else:
        assert reasons == [
            "another value of this tag for this turbine and period came first",
            "timestamp missing or not parseable",
            "value is not a number",
        ]
        details = again.details
        assert (
            details["values_loaded"] + details["rows_unmapped"] + details["rows_rejected"]
            == source_rows
        )
    assert first.details["rows_rejected"] == again.details["rows_rejected"] == len(reasons)


def test_late_rows_within_the_lookback_land_and_reruns_do_not_duplicate(
    sensor_settings: Settings, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'historian.db'}"
    table = f"late_{secrets.token_hex(2)}"
    source_rows = create_source_table(url, table, "wide", "utc_text")
    run_settings = replace(
        sensor_settings,
        sensor_db_url=url,
        sensor_table=table,
        sensor_mapping=mapping_file(tmp_path, "wide", "UTC"),
        sensor_lookback_days=1,
    )
    pseudonymiser = Pseudonymiser(run_settings.pseudonym_key)
    count_sql = (
        "select count(*), count(distinct (turbine_id, measured_at)) "
        f"from raw.scada_measurements where _source_table = '{table}'"
    )

    sensor_load.load_sensor_db(run_settings, LAST_DAY, LAST_DAY, pseudonymiser)
    assert query(run_settings, count_sql) == [(source_rows, source_rows)]

    # a row for the first day arrives late, after that day was loaded
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                f"insert into {table} (wtg, stamp, WS_KMH) "
                "values ('T09', '2025-10-25 12:00:00', 36.0)"
            )
        )
    engine.dispose()
    next_day = LAST_DAY + timedelta(days=1)
    late = sensor_load.load_sensor_db(run_settings, next_day, next_day, pseudonymiser)
    assert late.details["rows_read"] == source_rows // 2  # the lookback day, 10-26
    assert query(run_settings, count_sql) == [(source_rows, source_rows)]  # 10-25 not in it

    wider = replace(run_settings, sensor_lookback_days=2)
    sensor_load.load_sensor_db(wider, next_day, next_day, pseudonymiser)
    sensor_load.load_sensor_db(wider, next_day, next_day, pseudonymiser)
    assert query(run_settings, count_sql) == [(source_rows + 1, source_rows + 1)]
    late_row = query(
        run_settings,
        "select wind_speed_avg, measured_date::text from raw.scada_measurements "
        f"where _source_table = '{table}' and turbine_id = 'T09'",
    )
    assert late_row == [(pytest.approx(10.0), "2025-10-25")]


def test_raw_measurements_get_their_indexes_and_statistics_after_a_load(
    sensor_settings: Settings, tmp_path: Path
) -> None:
    """The look-up indexes are built (again, if one was dropped) and the look-up columns
    analyzed after every load: without them each daily look-up scans the whole history."""
    url = f"sqlite:///{tmp_path / 'historian.db'}"
    table = f"indexed_{secrets.token_hex(2)}"
    create_source_table(url, table, "wide", "utc_text")
    run_settings = replace(
        sensor_settings,
        sensor_db_url=url,
        sensor_table=table,
        sensor_mapping=mapping_file(tmp_path, "wide", "UTC"),
    )
    pseudonymiser = Pseudonymiser(run_settings.pseudonym_key)
    sensor_load.load_sensor_db(run_settings, LAST_DAY, LAST_DAY, pseudonymiser)
    query(run_settings, f"drop index raw.{next(iter(sensor_load.RAW_MEASUREMENT_INDEXES))}")
    query(
        run_settings,
        "select pg_stat_reset_single_table_counters('raw.scada_measurements'::regclass)",
    )

    sensor_load.load_sensor_db(run_settings, LAST_DAY, LAST_DAY, pseudonymiser)

    indexes = query(
        run_settings,
        "select indexname from pg_indexes "
        "where schemaname = 'raw' and tablename = 'scada_measurements'",
    )
    assert set(sensor_load.RAW_MEASUREMENT_INDEXES) <= {name for (name,) in indexes}
    analyzed = query(
        run_settings,
        "select attname from pg_stats "
        "where schemaname = 'raw' and tablename = 'scada_measurements'",
    )
    wanted = {name.strip() for name in sensor_load.RAW_MEASUREMENT_STATISTICS.split(",")}
    assert wanted <= {name for (name,) in analyzed}
    [(analyze_count,)] = query(
        run_settings,
        "select analyze_count from pg_stat_user_tables "
        "where schemaname = 'raw' and relname = 'scada_measurements'",
    )
    assert analyze_count == 1
