"""The demo park as the contract in docs/architecture.md ("The demo park") describes it.

Everything here is a fact about the fictional site, not a tuning knob of the simulator: the
simulator, its tests and the tests of other modules read the same constants so that a fact
is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SITE_CODE = "MTC"
SITE_NAME = "Parc éolien du Mont Crosnier"
SITE_LATITUDE = 48.45
SITE_LONGITUDE = 5.59
SITE_ELEVATION_M = 411.0
SITE_TIMEZONE = "Europe/Paris"
SITE_TZ = ZoneInfo(SITE_TIMEZONE)

MANUFACTURER = "Senvion"
MODEL = "MM82"
RATED_POWER_KW = 2050.0
HUB_HEIGHT_M = 80.0
ROTOR_DIAMETER_M = 82.0
CUT_IN_MS = 3.0
RATED_WIND_MS = 13.0
CUT_OUT_MS = 25.0
ROTOR_SPEED_MIN_RPM = 8.5
ROTOR_SPEED_MAX_RPM = 17.1

# Power-law shear from the 10 m weather height to the hub: hub = 10 m wind * (80/10)^0.14.
WEATHER_HEIGHT_M = 10.0
SHEAR_EXPONENT = 0.14
HUB_TO_10M_FACTOR = (HUB_HEIGHT_M / WEATHER_HEIGHT_M) ** SHEAR_EXPONENT

# Senvion MM82 power curve at sea-level air density (wind m/s, power kW), close to the
# manufacturer's sheet and to the medians of the La Haute Borne MM82s. Zero below cut-in
# and above cut-out is the simulator's job, not the curve's.
POWER_CURVE: tuple[tuple[float, float], ...] = (
    (3.0, 0.0),
    (3.5, 30.0),
    (4.0, 70.0),
    (4.5, 120.0),
    (5.0, 183.0),
    (5.5, 245.0),
    (6.0, 321.0),
    (6.5, 410.0),
    (7.0, 513.0),
    (7.5, 630.0),
    (8.0, 759.0),
    (8.5, 910.0),
    (9.0, 1068.0),
    (9.5, 1225.0),
    (10.0, 1386.0),
    (10.5, 1545.0),
    (11.0, 1698.0),
    (11.5, 1820.0),
    (12.0, 1919.0),
    (12.5, 2000.0),
    (13.0, 2050.0),
    (25.0, 2050.0),
)


@dataclass(frozen=True)
class Turbine:
    """One row of the sensor database's `turbine` table."""

    turbine_id: str
    turbine_name: str
    commissioned_on: date
    latitude: float
    longitude: float


TURBINES: tuple[Turbine, ...] = (
    Turbine("MTC-T01", "Mont Crosnier 1", date(2010, 3, 18), 48.4532, 5.5861),
    Turbine("MTC-T02", "Mont Crosnier 2", date(2010, 3, 25), 48.4500, 5.5900),
    Turbine("MTC-T03", "Mont Crosnier 3", date(2010, 4, 2), 48.4468, 5.5939),
)
TURBINE_IDS: tuple[str, ...] = tuple(t.turbine_id for t in TURBINES)

DEMO_START = date(2025, 10, 1)
DEMO_END = date(2025, 10, 31)

# The gearbox-bearing failure of MTC-T02 (contract: a failure on 2025-10-22 around 09:00
# UTC after days of overheating, then about two days of repair).
BEARING_TURBINE_ID = "MTC-T02"
BEARING_DRIFT_START_UTC = datetime(2025, 10, 17, 9, 0, tzinfo=UTC)
BEARING_FAILURE_UTC = datetime(2025, 10, 22, 9, 0, tzinfo=UTC)
BEARING_REPAIR_END_UTC = datetime(2025, 10, 24, 14, 0, tzinfo=UTC)

ALARM_CODES: dict[int, str] = {
    1001: "grid loss",
    2105: "pitch system fault",
    3120: "gearbox bearing over-temperature",
    4010: "yaw misalignment",
    5002: "low wind standby",
    6001: "manual stop (maintenance)",
}

MAINTENANCE_COMPONENTS: tuple[str, ...] = (
    "gearbox",
    "generator",
    "rotor",
    "pitch_system",
    "yaw_system",
    "converter",
    "main_bearing",
    "gearbox_bearing",
)

# Historian column of scada_10min -> (canonical name, unit as the historian stores it).
SCADA_SIGNALS: dict[str, tuple[str, str]] = {
    "WMET_HorWdSpd": ("wind_speed_avg", "m/s"),
    "WMET_HorWdDir": ("wind_direction_avg", "deg"),
    "WTUR_W": ("active_power_avg", "kW"),
    "WROT_RotSpd": ("rotor_speed_avg", "rpm"),
    "WROT_BlPthAngVal": ("pitch_angle_avg", "deg"),
    "WTRM_TrmTmp_GbxOil": ("gearbox_oil_temp_avg", "°C"),
    "WTRM_TrmTmp_GbxBrg": ("gearbox_bearing_temp_avg", "°C"),
    "WGEN_GnTmp_Sta": ("generator_stator_temp_avg", "°C"),
    "WNAC_Tmp": ("nacelle_temp_avg", "°C"),
    "WMET_EnvTmp": ("ambient_temp_avg", "K"),
    "WTUR_AuxW": ("auxiliary_consumption_avg", "W"),
}
CANONICAL_TO_HISTORIAN: dict[str, str] = {
    canonical: column for column, (canonical, _unit) in SCADA_SIGNALS.items()
}

# Fictional people. Operators acknowledge alarms; technicians sign the maintenance log.
OPERATORS: tuple[str, ...] = (
    "Camille Durand",
    "Nicolas Lefèvre",
    "Sophie Garnier",
    "Antoine Roussel",
)


@dataclass(frozen=True)
class Technician:
    """A maintenance technician as the log names them (personal data)."""

    name: str
    email: str


TECHNICIANS: tuple[Technician, ...] = (
    Technician("Julien Moreau", "julien.moreau@energitech.fr"),
    Technician("Léa Fontaine", "lea.fontaine@energitech.fr"),
    Technician("Mathieu Chevalier", "mathieu.chevalier@energitech.fr"),
    Technician("Élodie Marchand", "e.marchand@eolia-maintenance.fr"),
)
