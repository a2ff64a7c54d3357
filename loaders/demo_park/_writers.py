"""Files in the exact formats the sources produce: the historian's SQLite tables, the two
French Excel-style CSV exports and the weather archive the demo API serves."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import closing
from pathlib import Path

from loaders.demo_park import park

_TURBINE_DDL = """
CREATE TABLE turbine (
    turbine_id TEXT PRIMARY KEY,
    turbine_name TEXT NOT NULL,
    site_code TEXT NOT NULL,
    site_name TEXT NOT NULL,
    model TEXT NOT NULL,
    manufacturer TEXT NOT NULL,
    rated_power_kw REAL NOT NULL,
    hub_height_m REAL NOT NULL,
    rotor_diameter_m REAL NOT NULL,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL,
    commissioned_on TEXT NOT NULL
);
"""

SCADA_COLUMNS: tuple[str, ...] = tuple(park.SCADA_SIGNALS)

# No unique key on (turbine_id, ts_utc): the historian does store duplicates.
_SCADA_DDL = (
    "CREATE TABLE scada_10min (\n"
    "    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "    turbine_id TEXT NOT NULL REFERENCES turbine (turbine_id),\n"
    "    ts_utc TEXT NOT NULL,\n"
    + ",\n".join(f"    {column} REAL" for column in SCADA_COLUMNS)
    + "\n);\nCREATE INDEX ix_scada_10min_ts_utc ON scada_10min (ts_utc);\n"
)

_ALARM_DDL = """
CREATE TABLE alarm_event (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    turbine_id TEXT NOT NULL REFERENCES turbine (turbine_id),
    alarm_code INTEGER NOT NULL,
    started_at_utc TEXT NOT NULL,
    ended_at_utc TEXT,
    acknowledged_by TEXT
);
CREATE INDEX ix_alarm_event_started_at_utc ON alarm_event (started_at_utc);
"""

PRODUCTION_HEADER = (
    "Date",
    "Eolienne",
    "Energie produite (kWh)",
    "Disponibilite (%)",
    "Heures de production",
)
MAINTENANCE_HEADER = (
    "N° intervention",
    "Eolienne",
    "Début",
    "Fin",
    "Type",
    "Composant",
    "Description",
    "Technicien",
    "Email technicien",
)


def write_sensor_db(
    path: Path,
    scada_rows: Sequence[tuple[object, ...]],
    alarm_rows: Sequence[tuple[object, ...]],
) -> None:
    """Create the historian database from scratch (a re-run must not append)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(_TURBINE_DDL + _SCADA_DDL + _ALARM_DDL)
        conn.executemany(
            "INSERT INTO turbine VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    t.turbine_id,
                    t.turbine_name,
                    park.SITE_CODE,
                    park.SITE_NAME,
                    park.MODEL,
                    park.MANUFACTURER,
                    park.RATED_POWER_KW,
                    park.HUB_HEIGHT_M,
                    park.ROTOR_DIAMETER_M,
                    t.latitude,
                    t.longitude,
                    t.commissioned_on.isoformat(),
                )
                for t in park.TURBINES
            ],
        )
        columns = ", ".join(("turbine_id", "ts_utc", *SCADA_COLUMNS))
        marks = ", ".join("?" * (2 + len(SCADA_COLUMNS)))
        conn.executemany(f"INSERT INTO scada_10min ({columns}) VALUES ({marks})", scada_rows)  # noqa: S608 - column names are the simulator's constants
        conn.executemany(
            "INSERT INTO alarm_event (turbine_id, alarm_code, started_at_utc, ended_at_utc,"
            " acknowledged_by) VALUES (?, ?, ?, ?, ?)",
            alarm_rows,
        )
        conn.commit()


def french_number(value: float, decimals: int = 1) -> str:
    """'12 345,6': decimal comma and a plain space between thousands (cp1252 has no
    narrow no-break space, and both exports use the same convention)."""
    text = f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",")
    return text[1:] if text.startswith("-") and not text.strip("-0, ") else text


def write_csv(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[str]], encoding: str
) -> None:
    """Semicolon CSV with CRLF line ends, the way Excel saves it in a French locale."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_weather_archive(path: Path, hourly: dict[str, list[object]]) -> None:
    """The site's hourly UTC weather, in SI units, which the demo API converts on request."""
    document = {
        "site_code": park.SITE_CODE,
        "site_name": park.SITE_NAME,
        "latitude": park.SITE_LATITUDE,
        "longitude": park.SITE_LONGITUDE,
        "elevation": park.SITE_ELEVATION_M,
        "timezone": park.SITE_TIMEZONE,
        "hourly_units": {
            "time": "iso8601",
            "temperature_2m": "°C",
            "relative_humidity_2m": "%",
            "surface_pressure": "hPa",
            "precipitation": "mm",
            "wind_speed_10m": "m/s",
            "wind_direction_10m": "°",
            "wind_gusts_10m": "m/s",
        },
        "hourly": hourly,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False) + "\n", encoding="utf-8")
