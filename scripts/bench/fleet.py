"""A fleet historian for the benchmark: N turbines x D days of 10-minute rows, fast.

The demo park's simulator is realistic but made for three turbines and one month; a
year of a 100-turbine fleet (15.8 M rows) needs a generator that is vectorised per day and
never holds more than a day in memory. The physics here is deliberately simple (a smooth
site wind, the MM82 power curve, temperatures that follow load and season); what matters is
the shape: the historian schema of docs/architecture.md (`turbine`, `scada_10min`,
`alarm_event`) with the column names of the mapping file, so the real loader runs unchanged,
plus a few source faults (missing periods, duplicated rows) so that dbt does its real work.
Rows are deterministic for a seed and do not depend on how many days are generated.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from loaders.demo_park import park
from loaders.settings import PROJECT_ROOT
from loaders.sources.sensor_db.mapping import HistorianMapping, load_mapping

DEFAULT_MAPPING = PROJECT_ROOT / "config" / "mont_crosnier" / "historian.csv"
SCADA_TABLE = "scada_10min"
PERIODS_PER_DAY = 144
TURBINES_PER_SITE = 20
DROPOUT_SHARE = 0.001  # rows the historian never wrote (gaps on dbt's grid)
DUPLICATE_SHARE = 0.0005  # rows the historian wrote twice (dbt de-duplicates them)
ALARMS_PER_TURBINE_DAY = 0.3
ALARM_CODES = (1001, 2105, 3120, 4010)
OPERATORS = ("Operator A", "Operator B")  # placeholder names, pseudonymised by the loader

# canonical signal -> how the fleet's historian stores it (the mapping file's units)
_SIGNALS = (
    "wind_speed_avg",
    "wind_direction_avg",
    "active_power_avg",
    "rotor_speed_avg",
    "pitch_angle_avg",
    "gearbox_oil_temp_avg",
    "gearbox_bearing_temp_avg",
    "generator_stator_temp_avg",
    "nacelle_temp_avg",
    "ambient_temp_avg",
    "auxiliary_consumption_avg",
)


@dataclass(frozen=True)
class Site:
    site_code: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Fleet:
    """What `generate_fleet` wrote."""

    sensor_db: Path
    weather_dir: Path
    turbines: int
    sites: tuple[Site, ...]
    first_day: date
    days: int
    scada_rows: int
    alarm_rows: int

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)


def fleet_sites(turbines: int) -> tuple[Site, ...]:
    """One site per 20 turbines, half a degree apart (further than the weather API's
    nearest-site radius), around the demo park's position."""
    count = max(1, -(-turbines // TURBINES_PER_SITE))
    return tuple(
        Site(
            f"F{k + 1:02d}",
            park.SITE_LATITUDE + 0.5 * (k % 5),
            park.SITE_LONGITUDE + 0.5 * (k // 5),
        )
        for k in range(count)
    )


def turbine_ids(turbines: int) -> list[str]:
    sites = fleet_sites(turbines)
    return [
        f"{sites[k // TURBINES_PER_SITE].site_code}-T{k % TURBINES_PER_SITE + 1:02d}"
        for k in range(turbines)
    ]


def _ddl(mapping: HistorianMapping) -> str:
    """The historian's tables, as docs/architecture.md describes them (SQLite types)."""
    signals = ",\n".join(f"    {signal.source_name} REAL" for signal in mapping.signals)
    return f"""
CREATE TABLE turbine (
    turbine_id TEXT PRIMARY KEY, turbine_name TEXT NOT NULL, site_code TEXT NOT NULL,
    site_name TEXT NOT NULL, model TEXT NOT NULL, manufacturer TEXT NOT NULL,
    rated_power_kw REAL NOT NULL, hub_height_m REAL NOT NULL, rotor_diameter_m REAL NOT NULL,
    latitude REAL NOT NULL, longitude REAL NOT NULL, commissioned_on TEXT NOT NULL
);
CREATE TABLE {SCADA_TABLE} (
    {mapping.row_id_column} INTEGER PRIMARY KEY AUTOINCREMENT,
    {mapping.turbine_column} TEXT NOT NULL REFERENCES turbine (turbine_id),
    {mapping.timestamp_column} TEXT NOT NULL,
{signals}
);
CREATE TABLE alarm_event (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    turbine_id TEXT NOT NULL REFERENCES turbine (turbine_id),
    alarm_code INTEGER NOT NULL, started_at_utc TEXT NOT NULL, ended_at_utc TEXT,
    acknowledged_by TEXT
);
"""


def _signals(day_index: int, turbines: int, seed: int) -> dict[str, np.ndarray]:
    """One day of every turbine's canonical signals, shape (turbines, 144), SI units."""
    rng = np.random.default_rng([seed, day_index])
    sites = len(fleet_sites(turbines))
    period = day_index * PERIODS_PER_DAY + np.arange(PERIODS_PER_DAY)
    phase = np.random.default_rng([seed, 0]).uniform(0, 2 * np.pi, (sites, 3))
    site_wind = (
        7.5
        + 3.0 * np.sin(2 * np.pi * period / (PERIODS_PER_DAY * 4.3) + phase[:, :1])
        + 1.5 * np.sin(2 * np.pi * period / PERIODS_PER_DAY + phase[:, 1:2])
        + 1.0 * np.sin(2 * np.pi * period / (PERIODS_PER_DAY * 0.37) + phase[:, 2:3])
    )
    site_of = np.arange(turbines) // TURBINES_PER_SITE
    shape = (turbines, PERIODS_PER_DAY)
    wind = np.clip(site_wind[site_of] + rng.normal(0.0, 0.6, shape), 0.0, None)
    curve_wind, curve_power = np.array(park.POWER_CURVE).T
    running = (wind >= park.CUT_IN_MS) & (wind < park.CUT_OUT_MS)
    load = np.where(running, np.interp(wind, curve_wind, curve_power), 0.0) / park.RATED_POWER_KW
    power = load * park.RATED_POWER_KW + rng.normal(0.0, 8.0, shape) * running
    rotor = np.where(
        running,
        np.interp(
            wind,
            [park.CUT_IN_MS, park.RATED_WIND_MS],
            [park.ROTOR_SPEED_MIN_RPM, park.ROTOR_SPEED_MAX_RPM],
        ),
        rng.uniform(0.0, 0.5, shape),
    )
    pitch = np.where(running, np.clip((wind - park.RATED_WIND_MS) * 1.8, -1.0, 30.0), 86.0)
    season = 10.0 - 8.0 * np.cos(2 * np.pi * (period / PERIODS_PER_DAY - 15) / 365.25)
    ambient = season + 4.0 * np.sin(2 * np.pi * (period % PERIODS_PER_DAY - 54) / PERIODS_PER_DAY)
    ambient = np.broadcast_to(ambient, shape) + rng.normal(0.0, 0.3, shape)
    return {
        "wind_speed_avg": np.round(wind, 2),
        "wind_direction_avg": np.round(
            (220.0 + 40.0 * np.sin(period / 500.0) + rng.normal(0.0, 8.0, shape)) % 360.0, 1
        ),
        "active_power_avg": np.round(power, 1),
        "rotor_speed_avg": np.round(rotor, 2),
        "pitch_angle_avg": np.round(pitch, 2),
        "gearbox_oil_temp_avg": np.round(ambient + 30.0 + 20.0 * load, 1),
        "gearbox_bearing_temp_avg": np.round(
            ambient + 35.0 + 28.0 * load + rng.normal(0.0, 0.5, shape), 1
        ),
        "generator_stator_temp_avg": np.round(
            ambient + 40.0 + 55.0 * load + rng.normal(0.0, 1.0, shape), 1
        ),
        "nacelle_temp_avg": np.round(ambient + 8.0 + 10.0 * load, 1),
        "ambient_temp_avg": np.round(ambient, 1),
        "auxiliary_consumption_avg": np.round(4.0 + 12.0 * load + rng.uniform(0, 1, shape), 2),
    }


def _to_source_units(
    canonical: dict[str, np.ndarray], mapping: HistorianMapping
) -> list[np.ndarray]:
    """Canonical values converted back to the historian's units (kelvin, watts)."""
    inverse = {"K": lambda v: v + 273.15, "W": lambda v: v * 1000.0}
    columns = []
    for signal in mapping.signals:
        values = canonical[signal.canonical_name]
        columns.append(inverse.get(signal.source_unit, lambda v: v)(values))
    return columns


def day_rows(
    day: date, day_index: int, turbines: int, mapping: HistorianMapping, seed: int
) -> list[tuple[object, ...]]:
    """One day's historian rows in write order (period, then turbine), faults applied."""
    ids = np.array(turbine_ids(turbines), dtype=object)
    start = np.datetime64(datetime.combine(day, datetime.min.time()), "m")
    stamps = np.datetime_as_string(start + np.arange(PERIODS_PER_DAY) * 10, unit="s")
    stamps = np.char.replace(stamps.astype(str), "T", " ")
    values = _to_source_units(_signals(day_index, turbines, seed), mapping)
    # period-major order, as a historian appends them
    turbine_col = np.tile(ids, PERIODS_PER_DAY)
    stamp_col = np.repeat(stamps, turbines)
    signal_cols = [column.T.reshape(-1) for column in values]
    rng = np.random.default_rng([seed, day_index, 1])
    n = turbine_col.size
    keep = rng.random(n) >= DROPOUT_SHARE
    twice = rng.random(n) < DUPLICATE_SHARE
    order = np.repeat(np.arange(n), keep.astype(int) + (keep & twice).astype(int))
    columns = [turbine_col[order], stamp_col[order]] + [c[order].tolist() for c in signal_cols]
    return list(zip(columns[0].tolist(), columns[1].tolist(), *columns[2:], strict=True))


def _alarm_rows(day: date, day_index: int, turbines: int, seed: int) -> Iterator[tuple]:
    rng = np.random.default_rng([seed, day_index, 2])
    ids = turbine_ids(turbines)
    counts = rng.poisson(ALARMS_PER_TURBINE_DAY, turbines)
    for turbine, count in zip(ids, counts, strict=True):
        for _ in range(int(count)):
            started = datetime.combine(day, datetime.min.time()) + timedelta(
                minutes=int(rng.integers(0, 1440))
            )
            ended = started + timedelta(minutes=int(rng.integers(5, 240)))
            yield (
                turbine,
                int(rng.choice(ALARM_CODES)),
                f"{started:%Y-%m-%d %H:%M:%S}",
                f"{ended:%Y-%m-%d %H:%M:%S}",
                OPERATORS[int(rng.integers(0, len(OPERATORS)))],
            )


def _write_weather(
    weather_dir: Path, sites: tuple[Site, ...], first_day: date, days: int, seed: int
) -> None:
    """One Open-Meteo-shaped archive per site, covering the fleet's days and one each side
    (the demo weather server reads these)."""
    weather_dir.mkdir(parents=True, exist_ok=True)
    hours = (days + 2) * 24
    start = np.datetime64(datetime.combine(first_day - timedelta(days=1), datetime.min.time()), "m")
    stamps = np.datetime_as_string(start + np.arange(hours) * 60, unit="m").tolist()
    for k, site in enumerate(sites):
        rng = np.random.default_rng([seed, 99, k])
        hour = np.arange(hours)
        wind = np.clip(5.0 + 2.5 * np.sin(hour / 30.0 + k) + rng.normal(0, 0.5, hours), 0, None)
        document = {
            "site_code": site.site_code,
            "site_name": f"Fleet site {site.site_code}",
            "latitude": site.latitude,
            "longitude": site.longitude,
            "elevation": 400.0,
            "timezone": park.SITE_TIMEZONE,
            "hourly": {
                "time": stamps,
                "temperature_2m": np.round(10 + 6 * np.sin(hour / 24 * 2 * np.pi), 1).tolist(),
                "relative_humidity_2m": np.round(rng.uniform(50, 95, hours), 0).tolist(),
                "surface_pressure": np.round(rng.normal(968, 6, hours), 1).tolist(),
                "precipitation": np.round(rng.exponential(0.1, hours), 1).tolist(),
                "wind_speed_10m": np.round(wind, 1).tolist(),
                "wind_direction_10m": np.round(rng.uniform(180, 260, hours), 0).tolist(),
                "wind_gusts_10m": np.round(1.5 * wind + 1.0, 1).tolist(),
            },
        }
        (weather_dir / f"{site.site_code}.json").write_text(json.dumps(document), "utf-8")


def generate_fleet(
    out_dir: Path,
    turbines: int,
    first_day: date,
    days: int,
    seed: int = 7,
    mapping_file: Path = DEFAULT_MAPPING,
) -> Fleet:
    """Write `sensor.db` and `weather/<site>.json` under `out_dir`, a day at a time."""
    mapping = load_mapping(mapping_file)
    if mapping.row_id_column is None:
        raise ValueError(f"{mapping_file}: the benchmark's historian needs a source_row_id column")
    out_dir.mkdir(parents=True, exist_ok=True)
    sensor_db = out_dir / "sensor.db"
    sensor_db.unlink(missing_ok=True)
    sites = fleet_sites(turbines)
    scada_rows = alarm_rows = 0
    with closing(sqlite3.connect(sensor_db)) as conn:
        conn.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + _ddl(mapping))
        conn.executemany(
            "INSERT INTO turbine VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    turbine_id,
                    f"Fleet turbine {turbine_id}",
                    turbine_id[:3],
                    f"Fleet site {turbine_id[:3]}",
                    park.MODEL,
                    park.MANUFACTURER,
                    park.RATED_POWER_KW,
                    park.HUB_HEIGHT_M,
                    park.ROTOR_DIAMETER_M,
                    sites[k // TURBINES_PER_SITE].latitude + 0.002 * (k % TURBINES_PER_SITE),
                    sites[k // TURBINES_PER_SITE].longitude,
                    "2015-06-01",
                )
                for k, turbine_id in enumerate(turbine_ids(turbines))
            ],
        )
        names = [mapping.turbine_column, mapping.timestamp_column] + [
            s.source_name for s in mapping.signals
        ]
        insert = (
            f"INSERT INTO {SCADA_TABLE} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"  # noqa: S608 - names from the bench's own mapping
        )
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            day_index = (day - date(2000, 1, 1)).days  # rows do not depend on first_day
            rows = day_rows(day, day_index, turbines, mapping, seed)
            conn.executemany(insert, rows)
            alarms = list(_alarm_rows(day, day_index, turbines, seed))
            conn.executemany(
                "INSERT INTO alarm_event (turbine_id, alarm_code, started_at_utc, "
                "ended_at_utc, acknowledged_by) VALUES (?, ?, ?, ?, ?)",
                alarms,
            )
            scada_rows += len(rows)
            alarm_rows += len(alarms)
        conn.executescript(
            f"CREATE INDEX ix_scada_10min_ts ON {SCADA_TABLE} ({mapping.timestamp_column});"
            "CREATE INDEX ix_alarm_event_started ON alarm_event (started_at_utc);"
        )
        conn.commit()
    _write_weather(out_dir / "weather", sites, first_day, days, seed)
    return Fleet(
        sensor_db, out_dir / "weather", turbines, sites, first_day, days, scada_rows, alarm_rows
    )


def write_inbox(inbox: Path, turbines: int, month_start: date, seed: int = 7) -> None:
    """The production department's exports for one month, in their French CSV formats
    (docs/architecture.md): daily production per turbine and a short maintenance log.

    One month is enough: the benchmark is about the SCADA volume, and the dbt project
    needs the production tables to exist.
    """
    inbox.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 77, month_start.toordinal()])
    next_month = (month_start.replace(day=28) + timedelta(days=4)).replace(day=1)
    days = [month_start + timedelta(days=k) for k in range((next_month - month_start).days)]
    ids = turbine_ids(turbines)

    def french(value: float) -> str:
        return f"{value:,.1f}".replace(",", " ").replace(".", ",")

    production = ["Date;Eolienne;Energie produite (kWh);Disponibilite (%);Heures de production"]
    for day in days:
        for turbine_id in ids:
            hours = float(rng.uniform(8, 24))
            production.append(
                f"{day:%d/%m/%Y};{turbine_id};{french(hours * rng.uniform(300, 1400))};"
                f"{french(rng.uniform(90, 100))};{french(hours)}"
            )
    (inbox / f"production_journaliere_{month_start:%Y-%m}.csv").write_text(
        "\r\n".join(production) + "\r\n", encoding="utf-8-sig"
    )
    maintenance = [
        "N° intervention;Eolienne;Début;Fin;Type;Composant;Description;Technicien;Email technicien"
    ]
    for k, turbine_id in enumerate(ids[:: max(1, len(ids) // 5)]):
        day = days[(3 * k) % len(days)]
        maintenance.append(
            f"BENCH-{month_start:%Y%m}-{k:03d};{turbine_id};{day:%d/%m/%Y} 08:00;"
            f"{day:%d/%m/%Y} 11:30;Préventive;gearbox;Contrôle annuel;Technicien {k};"
            f"technicien{k}@example.org"
        )
    (inbox / f"journal_maintenance_{month_start:%Y-%m}.csv").write_text(
        "\r\n".join(maintenance) + "\r\n", encoding="cp1252"
    )
