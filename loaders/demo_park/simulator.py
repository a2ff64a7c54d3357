"""Generate the demo park's three sources for a date range, deterministically for a seed.

The simulation runs one day either side of the range: the production CSV counts local
(Europe/Paris) days, which start two hours before the UTC month, and the weather archive
must cover a local-time request for the whole month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from loaders.demo_park import _schedule, _writers, park
from loaders.demo_park._climate import (
    PERIODS_PER_DAY,
    PERIODS_PER_HOUR,
    SiteClimate,
    simulate_climate,
    weather_10m_wind,
)
from loaders.demo_park._faults import Edit, FaultPlan, InjectedFault, plan_faults
from loaders.demo_park._schedule import Alarm, Intervention
from loaders.demo_park._turbines import TurbineTruth, simulate_turbine

__all__ = [
    "PERSONAL_EMAILS",
    "PERSONAL_NAMES",
    "GeneratedPark",
    "InjectedFault",
    "Intervention",
    "generate",
    "injected_faults",
    "maintenance_interventions",
]

# Every clear-text personal value the simulator can write, so privacy tests can prove none
# of them reaches the database.
PERSONAL_NAMES: tuple[str, ...] = park.OPERATORS + tuple(t.name for t in park.TECHNICIANS)
PERSONAL_EMAILS: tuple[str, ...] = tuple(t.email for t in park.TECHNICIANS)

_PAD_DAYS = 1
_LOW_WIND_ALARMS = 2


@dataclass(frozen=True)
class GeneratedPark:
    """What `generate` wrote. Row counts are data rows (headers excluded) and include the
    broken ones; `faults` is the same list `injected_faults` returns."""

    out_dir: Path
    sensor_db: Path
    production_csv: Path
    maintenance_csv: Path
    weather_json: Path
    turbine_rows: int
    scada_rows: int
    alarm_rows: int
    production_rows: int
    production_broken_rows: int
    maintenance_rows: int
    maintenance_broken_rows: int
    weather_hours: int
    faults: tuple[InjectedFault, ...]


@dataclass(frozen=True)
class _Simulation:
    start: date
    end: date
    times: np.ndarray  # padded window, datetime64[m]
    scada: slice  # the periods of [start, end] in UTC
    climate: SiteClimate
    truths: list[TurbineTruth]
    alarms: list[Alarm]
    interventions: list[Intervention]
    plan: FaultPlan
    weather_rng: np.random.Generator


def generate(
    out_dir: Path,
    start: date = park.DEMO_START,
    end: date = park.DEMO_END,
    seed: int = 42,
) -> GeneratedPark:
    """Write sources/sensor.db, inbox/*.csv and weather/<site>.json under `out_dir`.

    `start` and `end` are inclusive days (UTC for the sensor database, Europe/Paris for the
    CSV exports); the CSV names carry the month of `start`.
    """
    sim = _simulate(start, end, seed)
    out_dir = Path(out_dir)
    sensor_db = out_dir / "sources" / "sensor.db"
    scada_rows = _scada_rows(sim)
    alarm_rows = _alarm_rows(sim.alarms)
    _writers.write_sensor_db(sensor_db, scada_rows, alarm_rows)

    month = f"{start:%Y-%m}"
    production_csv = out_dir / "inbox" / f"production_journaliere_{month}.csv"
    production, production_broken = _production_rows(sim)
    _writers.write_csv(production_csv, _writers.PRODUCTION_HEADER, production, "utf-8-sig")
    maintenance_csv = out_dir / "inbox" / f"journal_maintenance_{month}.csv"
    maintenance, maintenance_broken = _maintenance_rows(sim)
    _writers.write_csv(maintenance_csv, _writers.MAINTENANCE_HEADER, maintenance, "cp1252")

    weather_json = out_dir / "weather" / f"{park.SITE_CODE}.json"
    hourly = _weather_hourly(sim)
    _writers.write_weather_archive(weather_json, hourly)
    return GeneratedPark(
        out_dir=out_dir,
        sensor_db=sensor_db,
        production_csv=production_csv,
        maintenance_csv=maintenance_csv,
        weather_json=weather_json,
        turbine_rows=len(park.TURBINES),
        scada_rows=len(scada_rows),
        alarm_rows=len(alarm_rows),
        production_rows=len(production),
        production_broken_rows=production_broken,
        maintenance_rows=len(maintenance),
        maintenance_broken_rows=maintenance_broken,
        weather_hours=len(hourly["time"]),
        faults=tuple(_all_faults(sim)),
    )


def injected_faults(
    start: date = park.DEMO_START, end: date = park.DEMO_END, seed: int = 42
) -> list[InjectedFault]:
    """The faults `generate(…, start, end, seed)` puts in the sensor database, sorted by
    kind then time; the bearing overheat is the drift window up to the failure."""
    return _all_faults(_simulate(start, end, seed))


def maintenance_interventions(
    start: date = park.DEMO_START, end: date = park.DEMO_END
) -> list[Intervention]:
    """The valid maintenance-log lines of the range with their true UTC times, so that tests
    can check how the loader read local times (including the repeated DST hour)."""
    return _schedule.interventions_between(start, end)


def _simulate(start: date, end: date, seed: int) -> _Simulation:
    if end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    first = datetime.combine(start - timedelta(days=_PAD_DAYS), time(0))
    n_days = (end - start).days + 1 + 2 * _PAD_DAYS
    times = np.datetime64(first, "m") + np.arange(n_days * PERIODS_PER_DAY) * np.timedelta64(
        10, "m"
    )
    rngs = np.random.default_rng(seed).spawn(3 + len(park.TURBINES))
    # The bearing fails at full load, in a windy spell, not in a calm.
    windy = np.datetime64(park.BEARING_FAILURE_UTC.replace(tzinfo=None) - timedelta(hours=5))
    climate = simulate_climate(times, rngs[0], windy_at=(windy,))
    stops = _schedule.all_stops()
    truths = [
        simulate_turbine(
            j,
            climate,
            _schedule.stopped_mask(times, turbine_id, stops),
            _schedule.bearing_excess(times, turbine_id),
            rngs[3 + j],
        )
        for j, turbine_id in enumerate(park.TURBINE_IDS)
    ]
    scada = slice(_PAD_DAYS * PERIODS_PER_DAY, (n_days - _PAD_DAYS) * PERIODS_PER_DAY)
    alarms = _alarms(times[scada], truths, scada)
    story = [(s.turbine_id, s.start_utc, s.end_utc) for s in stops]
    story.append(
        (park.BEARING_TURBINE_ID, park.BEARING_DRIFT_START_UTC, park.BEARING_REPAIR_END_UTC)
    )
    story += [(a.turbine_id, a.start_utc, a.end_utc) for a in alarms]
    plan = plan_faults(
        times[scada],
        np.stack([t.power_kw[scada] for t in truths]),
        np.stack([t.is_stopped[scada] for t in truths]),
        story,
        rngs[1],
    )
    return _Simulation(
        start=start,
        end=end,
        times=times,
        scada=scada,
        climate=climate,
        truths=truths,
        alarms=alarms,
        interventions=_schedule.interventions_between(start, end),
        plan=plan,
        weather_rng=rngs[2],
    )


def _alarms(times: np.ndarray, truths: list[TurbineTruth], scada: slice) -> list[Alarm]:
    """Story alarms of the range, plus the longest low-wind standbys, operators taking turns
    to acknowledge; standby events clear by themselves and stay unacknowledged."""
    lo = times[0].astype(datetime).replace(tzinfo=UTC)
    hi = times[-1].astype(datetime).replace(tzinfo=UTC) + timedelta(minutes=10)
    alarms = [a for a in _schedule.story_alarms() if lo <= a.start_utc < hi]
    calm: list[Alarm] = []
    for turbine_id, truth in zip(park.TURBINE_IDS, truths, strict=True):
        calm += _schedule.low_wind_alarms(
            times, turbine_id, truth.wind_speed_ms[scada], truth.is_stopped[scada]
        )
    calm.sort(key=lambda a: (a.start_utc - a.end_utc, a.start_utc, a.turbine_id))
    alarms += calm[:_LOW_WIND_ALARMS]
    alarms.sort(key=lambda a: (a.start_utc, a.turbine_id, a.alarm_code))
    turns = 0
    result = []
    for alarm in alarms:
        operator = None
        if alarm.alarm_code != 5002:
            operator = park.OPERATORS[turns % len(park.OPERATORS)]
            turns += 1
        result.append(
            Alarm(alarm.turbine_id, alarm.alarm_code, alarm.start_utc, alarm.end_utc, operator)
        )
    return result


def _all_faults(sim: _Simulation) -> list[InjectedFault]:
    faults = list(sim.plan.faults)
    lo = datetime.combine(sim.start, time(0), UTC)
    hi = datetime.combine(sim.end + timedelta(days=1), time(0), UTC)
    start = max(park.BEARING_DRIFT_START_UTC, lo)
    end = min(park.BEARING_FAILURE_UTC, hi)
    if start < end:
        detail = (
            "WTRM_TrmTmp_GbxBrg drifts up by 10-25 °C (more under load) until the failure at "
            f"{park.BEARING_FAILURE_UTC:%Y-%m-%d %H:%M} UTC (alarm 3120); turbine down, "
            f"power 0, until {park.BEARING_REPAIR_END_UTC:%Y-%m-%d %H:%M} UTC "
            "(maintenance INT-2025-106, gearbox_bearing)"
        )
        faults.append(
            InjectedFault(
                "bearing_overheat",
                park.BEARING_TURBINE_ID,
                start,
                end,
                "gearbox_bearing_temp_avg",
                detail,
            )
        )
    order = [
        "dropout",
        "frozen_sensor",
        "spike",
        "duplicate_identical",
        "duplicate_conflicting",
        "bearing_overheat",
    ]
    return sorted(faults, key=lambda f: (order.index(f.kind), f.start_utc, f.turbine_id))


def _historian_values(truth: TurbineTruth, scada: slice) -> dict[str, np.ndarray]:
    """Truth in the historian's units and resolution."""
    return {
        "WMET_HorWdSpd": np.round(truth.wind_speed_ms[scada], 2),
        "WMET_HorWdDir": np.round(truth.wind_direction_deg[scada], 1) % 360.0,
        "WTUR_W": np.round(truth.power_kw[scada], 1),
        "WROT_RotSpd": np.round(truth.rotor_rpm[scada], 2),
        "WROT_BlPthAngVal": np.round(truth.pitch_deg[scada], 2),
        "WTRM_TrmTmp_GbxOil": np.round(truth.gearbox_oil_c[scada], 1),
        "WTRM_TrmTmp_GbxBrg": np.round(truth.gearbox_bearing_c[scada], 1),
        "WGEN_GnTmp_Sta": np.round(truth.generator_stator_c[scada], 1),
        "WNAC_Tmp": np.round(truth.nacelle_c[scada], 1),
        "WMET_EnvTmp": np.round(truth.ambient_c[scada] + 273.15, 2),
        "WTUR_AuxW": np.round(truth.auxiliary_w[scada], 0),
    }


def _scada_rows(sim: _Simulation) -> list[tuple[object, ...]]:
    """Rows in historian order (time, then turbine), faults applied; a duplicate follows
    its original, as a historian re-sending a buffered record would store it."""
    columns = _writers.SCADA_COLUMNS
    per_turbine = [_historian_values(truth, sim.scada) for truth in sim.truths]
    values = {
        column: np.stack([turbine[column] for turbine in per_turbine], axis=1) for column in columns
    }
    present = np.ones(values[columns[0]].shape, dtype=bool)
    duplicates: dict[tuple[int, int], Edit] = {}
    for edit in sim.plan.edits:
        _apply_edit(edit, values, present, duplicates)

    stamps = np.datetime_as_string(sim.times[sim.scada], unit="s")
    lists = {column: values[column].tolist() for column in columns}
    rows: list[tuple[object, ...]] = []
    for i, stamp in enumerate(stamps.tolist()):
        ts = stamp.replace("T", " ")
        for j, turbine_id in enumerate(park.TURBINE_IDS):
            if not present[i, j]:
                continue
            row = (turbine_id, ts, *(lists[column][i][j] for column in columns))
            rows.append(row)
            edit = duplicates.get((i, j))
            if edit is not None:
                rows.append(_duplicate(row, edit))
    return rows


def _apply_edit(
    edit: Edit,
    values: dict[str, np.ndarray],
    present: np.ndarray,
    duplicates: dict[tuple[int, int], Edit],
) -> None:
    if edit.kind == "dropout":
        present[edit.i0 : edit.i1, edit.turbine] = False
    elif edit.kind == "frozen_sensor" and edit.column is not None:
        column = values[edit.column]
        column[edit.i0 : edit.i1, edit.turbine] = column[edit.i0, edit.turbine]
    elif edit.kind == "spike" and edit.column is not None:
        values[edit.column][edit.i0, edit.turbine] = edit.value
    else:
        duplicates[(edit.i0, edit.turbine)] = edit


def _duplicate(row: tuple[object, ...], edit: Edit) -> tuple[object, ...]:
    if edit.column is None:
        return row
    position = 2 + _writers.SCADA_COLUMNS.index(edit.column)
    return (*row[:position], edit.value, *row[position + 1 :])


def _alarm_rows(alarms: list[Alarm]) -> list[tuple[object, ...]]:
    return [
        (
            a.turbine_id,
            a.alarm_code,
            f"{a.start_utc:%Y-%m-%d %H:%M:%S}",
            f"{a.end_utc:%Y-%m-%d %H:%M:%S}",
            a.acknowledged_by,
        )
        for a in alarms
    ]


def _local_days(times: np.ndarray) -> np.ndarray:
    local = pd.DatetimeIndex(times).tz_localize("UTC").tz_convert(park.SITE_TIMEZONE)
    return np.array(local.date)


def _production_rows(sim: _Simulation) -> tuple[list[list[str]], int]:
    """Daily meter readings per turbine and local day, plus two broken rows: one value
    the meter could not give ('n/a') and one impossible date typed by hand."""
    days = _local_days(sim.times)
    n_days = (sim.end - sim.start).days + 1
    na_day = min(14, n_days - 1)
    typo_day = min(29, n_days - 1)
    rows: list[list[str]] = []
    for k in range(n_days):
        day = sim.start + timedelta(days=k)
        in_day = days == day
        block = [
            _production_row(day, turbine_id, truth, in_day)
            for turbine_id, truth in zip(park.TURBINE_IDS, sim.truths, strict=True)
        ]
        if k == na_day:
            block[2][2] = "n/a"
        rows += block
        if k == typo_day:
            rows.append([f"31/09/{sim.start.year}", *block[1][1:]])
    return rows, 2


def _production_row(
    day: date, turbine_id: str, truth: TurbineTruth, in_day: np.ndarray
) -> list[str]:
    power = truth.power_kw[in_day]
    energy = float(power.sum()) / PERIODS_PER_HOUR
    availability = 100.0 * float((~truth.is_stopped[in_day]).mean())
    hours = float((power > 0.0).sum()) / PERIODS_PER_HOUR
    return [
        f"{day:%d/%m/%Y}",
        turbine_id,
        _writers.french_number(energy),
        _writers.french_number(availability),
        _writers.french_number(hours),
    ]


def _maintenance_rows(sim: _Simulation) -> tuple[list[list[str]], int]:
    """The log's interventions, and its broken line among them. A range without any
    intervention gets a log without rows: a log whose only line is broken is a file with
    every row rejected, which makes every run of that range `partial` (docs/sources.md)."""
    rows = [
        [
            i.intervention_id,
            i.turbine_id,
            f"{i.start_utc.astimezone(park.SITE_TZ):%d/%m/%Y %H:%M}",
            f"{i.end_utc.astimezone(park.SITE_TZ):%d/%m/%Y %H:%M}",
            i.intervention_type,
            i.component,
            i.description,
            i.technician.name,
            i.technician.email,
        ]
        for i in sim.interventions
    ]
    if not rows:
        return rows, 0
    ident, turbine_id, _start, _end, kind, component, text, tech = _schedule.BROKEN_INTERVENTION
    month = f"{sim.start:%m/%Y}"
    rows.append(
        [
            ident,
            turbine_id,
            f"32/{month} 08:00",
            f"32/{month} 11:30",
            kind,
            component,
            text,
            tech.name,
            tech.email,
        ]
    )
    return rows, 1


def _weather_hourly(sim: _Simulation) -> dict[str, list[object]]:
    """Hourly values at the top of each UTC hour, as a reanalysis would give them: the
    site's smooth wind brought down to 10 m, gusts about 1.5 times the mean wind."""
    rng = sim.weather_rng
    climate = sim.climate
    on_hour = slice(0, None, PERIODS_PER_HOUR)
    n = climate.times[on_hour].size
    wind_10m = np.clip(
        weather_10m_wind(climate.hub_wind_ms[on_hour]) + rng.normal(0, 0.15, n), 0.0, None
    )
    gusts = 1.5 * wind_10m + 1.0 + np.abs(rng.normal(0.0, 0.7, n))
    rain = climate.precipitation_mm_h.reshape(n, PERIODS_PER_HOUR).mean(axis=1)
    stamps = np.datetime_as_string(climate.times[on_hour], unit="m")
    return {
        "time": stamps.tolist(),
        "temperature_2m": _rounded(climate.ambient_c[on_hour] + 0.4 + rng.normal(0, 0.3, n), 2),
        "relative_humidity_2m": _rounded(climate.relative_humidity_pct[on_hour], 1),
        "surface_pressure": _rounded(climate.pressure_hpa[on_hour], 2),
        "precipitation": _rounded(rain, 2),
        "wind_speed_10m": _rounded(wind_10m, 2),
        "wind_direction_10m": _rounded(
            (climate.wind_direction_deg[on_hour] + rng.normal(0.0, 4.0, n)) % 360.0, 1
        ),
        "wind_gusts_10m": _rounded(gusts, 2),
    }


def _rounded(values: np.ndarray, decimals: int) -> list[object]:
    return np.round(values, decimals).tolist()
