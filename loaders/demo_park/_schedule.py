"""The month's story: maintenance interventions, the stops they and the faults cause, and
the alarms the operators acknowledged.

Written in local time because that is how the maintenance log is kept; each time is
converted to UTC once, here, with the fold of the repeated autumn hour chosen explicitly.
The story is the same for every seed: only weather, noise and historian faults vary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from loaders.demo_park import park
from loaders.demo_park._climate import PERIOD_MINUTES

PREVENTIVE = "Préventive"
CORRECTIVE = "Corrective"


@dataclass(frozen=True)
class Intervention:
    """One maintenance-log line, with its true UTC times."""

    intervention_id: str
    turbine_id: str
    start_utc: datetime
    end_utc: datetime
    intervention_type: str
    component: str
    description: str
    technician: park.Technician


@dataclass(frozen=True)
class Stop:
    """A period during which a turbine is unavailable (stopped, power 0, rotor still)."""

    turbine_id: str
    start_utc: datetime
    end_utc: datetime
    reason: str


@dataclass(frozen=True)
class Alarm:
    """One alarm_event row before ids are given."""

    turbine_id: str
    alarm_code: int
    start_utc: datetime
    end_utc: datetime
    acknowledged_by: str | None


def local_to_utc(text: str, fold: int = 0) -> datetime:
    """'YYYY-MM-DD HH:MM' wall time in Europe/Paris to UTC; `fold=1` picks the second
    occurrence of a time in the repeated autumn hour."""
    naive = datetime.strptime(text, "%Y-%m-%d %H:%M")
    return naive.replace(tzinfo=park.SITE_TZ, fold=fold).astimezone(UTC)


def _utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


_T1, _T2, _T3 = park.TURBINE_IDS
_JULIEN, _LEA, _MATHIEU, _ELODIE = park.TECHNICIANS

# The converter reset on the night of the DST change starts at 02:30 in the *first*
# (summer-time) occurrence of the repeated hour, the reading the project's CSV parser
# applies (loaders/sources/production_csv/parsing.py): 00:30 UTC, 20 minutes after the grid
# loss of 00:10 UTC (02:10 summer time) that tripped the converter. PostgreSQL would read
# the same wall time as winter time (01:30 UTC) if it were cast there instead.
GRID_LOSS_UTC = _utc("2025-10-26 00:10")

INTERVENTIONS: tuple[Intervention, ...] = (
    Intervention(
        "INT-2025-101",
        _T1,
        local_to_utc("2025-10-03 08:30"),
        local_to_utc("2025-10-03 16:00"),
        PREVENTIVE,
        "gearbox",
        "Vidange de l'huile du multiplicateur et remplacement des filtres",
        _JULIEN,
    ),
    Intervention(
        "INT-2025-102",
        _T2,
        local_to_utc("2025-10-07 09:00"),
        local_to_utc("2025-10-07 12:30"),
        PREVENTIVE,
        "pitch_system",
        "Contrôle des accumulateurs hydrauliques du pitch",
        _LEA,
    ),
    Intervention(
        "INT-2025-103",
        _T3,
        local_to_utc("2025-10-09 13:30"),
        local_to_utc("2025-10-09 17:00"),
        PREVENTIVE,
        "yaw_system",
        "Graissage de la couronne d'orientation",
        _MATHIEU,
    ),
    Intervention(
        "INT-2025-104",
        _T3,
        local_to_utc("2025-10-12 08:00"),
        local_to_utc("2025-10-12 11:30"),
        CORRECTIVE,
        "pitch_system",
        "Remplacement du codeur de l'axe de pitch 2 (alarme 2105)",
        _JULIEN,
    ),
    Intervention(
        "INT-2025-105",
        _T2,
        local_to_utc("2025-10-14 08:30"),
        local_to_utc("2025-10-14 15:30"),
        PREVENTIVE,
        "generator",
        "Contrôle des balais et des bagues collectrices",
        _ELODIE,
    ),
    Intervention(
        "INT-2025-106",
        _T2,
        local_to_utc("2025-10-22 13:00"),
        local_to_utc("2025-10-24 16:00"),
        CORRECTIVE,
        "gearbox_bearing",
        "Remplacement du roulement de l'arbre intermédiaire du multiplicateur (alarme 3120)",
        _MATHIEU,
    ),
    Intervention(
        "INT-2025-107",
        _T1,
        local_to_utc("2025-10-26 02:30", fold=0),
        local_to_utc("2025-10-26 04:15"),
        CORRECTIVE,
        "converter",
        "Réarmement du convertisseur après perte réseau (astreinte)",
        _LEA,
    ),
    Intervention(
        "INT-2025-108",
        _T3,
        local_to_utc("2025-10-29 09:00"),
        local_to_utc("2025-10-29 13:00"),
        PREVENTIVE,
        "rotor",
        "Inspection des pales par drone",
        _ELODIE,
    ),
    Intervention(
        "INT-2025-109",
        _T1,
        local_to_utc("2025-10-30 08:00"),
        local_to_utc("2025-10-30 12:00"),
        PREVENTIVE,
        "main_bearing",
        "Graissage du roulement principal",
        _JULIEN,
    ),
)
# The broken line of the log: an impossible start date typed by hand.
BROKEN_INTERVENTION = (
    "INT-2025-110",
    _T2,
    "32/10/2025 08:00",
    "32/10/2025 11:30",
    PREVENTIVE,
    "yaw_system",
    "Contrôle des freins d'orientation",
    _LEA,
)

PITCH_FAULT_UTC = _utc("2025-10-11 14:20")
YAW_MISALIGNMENT = (_T1, _utc("2025-10-18 15:10"), _utc("2025-10-18 15:50"))


def _by_id(intervention_id: str) -> Intervention:
    return next(i for i in INTERVENTIONS if i.intervention_id == intervention_id)


def all_stops() -> list[Stop]:
    """Every stop of the story; the truth applies them wherever they fall."""
    stops = [
        Stop(i.turbine_id, i.start_utc, i.end_utc, "maintenance")
        for i in INTERVENTIONS
        if i.intervention_type == PREVENTIVE
    ]
    stops.append(Stop(_T3, PITCH_FAULT_UTC, _by_id("INT-2025-104").end_utc, "pitch fault"))
    stops.append(
        Stop(
            park.BEARING_TURBINE_ID,
            park.BEARING_FAILURE_UTC,
            park.BEARING_REPAIR_END_UTC,
            "gearbox bearing failure",
        )
    )
    converter_reset = _by_id("INT-2025-107").end_utc
    for turbine_id in park.TURBINE_IDS:
        end = converter_reset if turbine_id == _T1 else GRID_LOSS_UTC + timedelta(minutes=40)
        stops.append(Stop(turbine_id, GRID_LOSS_UTC, end, "grid loss"))
    return sorted(stops, key=lambda s: (s.start_utc, s.turbine_id))


def story_alarms() -> list[Alarm]:
    """The alarms the story implies (low-wind standby events come from the data instead)."""
    alarms = [
        Alarm(s.turbine_id, 1001, s.start_utc, s.end_utc, None)
        for s in all_stops()
        if s.reason == "grid loss"
    ]
    alarms.append(Alarm(_T3, 2105, PITCH_FAULT_UTC, _by_id("INT-2025-104").end_utc, None))
    alarms.append(
        Alarm(
            park.BEARING_TURBINE_ID,
            3120,
            park.BEARING_FAILURE_UTC,
            park.BEARING_REPAIR_END_UTC,
            None,
        )
    )
    alarms.append(Alarm(YAW_MISALIGNMENT[0], 4010, YAW_MISALIGNMENT[1], YAW_MISALIGNMENT[2], None))
    alarms.extend(
        Alarm(i.turbine_id, 6001, i.start_utc, i.end_utc, None)
        for i in INTERVENTIONS
        if i.intervention_type == PREVENTIVE
    )
    return alarms


def interventions_between(start: date, end: date) -> list[Intervention]:
    """Interventions whose local start day falls in [start, end]: the month's log."""
    return [i for i in INTERVENTIONS if start <= i.start_utc.astimezone(park.SITE_TZ).date() <= end]


def period_mask(times: np.ndarray, start_utc: datetime, end_utc: datetime) -> np.ndarray:
    """Periods whose start lies in [start_utc, end_utc)."""
    lo = np.datetime64(start_utc.replace(tzinfo=None), "m")
    hi = np.datetime64(end_utc.replace(tzinfo=None), "m")
    return (times >= lo) & (times < hi)


def stopped_mask(times: np.ndarray, turbine_id: str, stops: list[Stop]) -> np.ndarray:
    mask = np.zeros(times.size, dtype=bool)
    for stop in stops:
        if stop.turbine_id == turbine_id:
            mask |= period_mask(times, stop.start_utc, stop.end_utc)
    return mask


def bearing_excess(times: np.ndarray, turbine_id: str) -> np.ndarray:
    """Extra bearing heat (°C at full load) of the failing bearing: grows as the square of
    the time since the drift began (damage accelerates), gone once the bearing fails (the
    turbine stops, and the replacement is healthy)."""
    excess = np.zeros(times.size)
    if turbine_id != park.BEARING_TURBINE_ID:
        return excess
    drift = period_mask(times, park.BEARING_DRIFT_START_UTC, park.BEARING_FAILURE_UTC)
    start = np.datetime64(park.BEARING_DRIFT_START_UTC.replace(tzinfo=None), "m")
    span = (park.BEARING_FAILURE_UTC - park.BEARING_DRIFT_START_UTC).total_seconds() / 60.0
    progress = (times[drift] - start).astype("timedelta64[m]").astype(float) / span
    excess[drift] = 24.0 * progress**2
    return excess


def low_wind_alarms(
    times: np.ndarray, turbine_id: str, wind: np.ndarray, is_stopped: np.ndarray
) -> list[Alarm]:
    """Standby events where the wind stayed below cut-in for at least two hours."""
    calm = (wind < park.CUT_IN_MS) & ~is_stopped
    alarms = []
    for i0, i1 in _runs(calm):
        if i1 - i0 >= 12:
            alarms.append(
                Alarm(
                    turbine_id,
                    5002,
                    _to_datetime(times[i0]),
                    _to_datetime(times[i1 - 1]) + timedelta(minutes=PERIOD_MINUTES),
                    None,
                )
            )
    return alarms


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open [i0, i1) index ranges where mask is True."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _to_datetime(value: np.datetime64) -> datetime:
    return value.astype("datetime64[m]").astype(datetime).replace(tzinfo=UTC)
