"""Historian faults: where they go (planned from the truth, so that a frozen sensor really
sits on a producing turbine) and how they change the rows.

Faults never overlap each other, stops, the failing bearing's days or the DST night, so that
each one is found for its own reason and a test can point at it without ambiguity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from loaders.demo_park import park
from loaders.demo_park._climate import PERIOD_MINUTES, PERIODS_PER_HOUR

_MARGIN = 2 * PERIODS_PER_HOUR
_FROZEN_PERIODS = 6 * PERIODS_PER_HOUR
_FROZEN = ("MTC-T03", "generator_stator_temp_avg")
_SPIKES: tuple[tuple[str, str, float, str], ...] = (
    ("MTC-T01", "wind_speed_avg", 70.0, "m/s"),
    ("MTC-T02", "gearbox_oil_temp_avg", 250.0, "°C"),
    ("MTC-T03", "ambient_temp_avg", 0.0, "K"),
    ("MTC-T01", "generator_stator_temp_avg", 650.0, "°C"),
)
_DROPOUTS = 4
_DUPLICATES = 5  # of each kind
_DST_NIGHT = (
    datetime(2025, 10, 25, 22, 0, tzinfo=UTC),
    datetime(2025, 10, 26, 6, 0, tzinfo=UTC),
)


@dataclass(frozen=True)
class InjectedFault:
    """A fault the simulator put in the data: what, on which turbine, over which half-open
    UTC interval [start_utc, end_utc), and on which canonical signal (None: whole rows)."""

    kind: str
    turbine_id: str
    start_utc: datetime
    end_utc: datetime
    signal: str | None
    detail: str


@dataclass(frozen=True)
class Edit:
    """How a fault changes the historian rows: indices into the SCADA periods of one
    turbine, [i0, i1); `value` is the spike or the conflicting duplicate's value."""

    kind: str
    turbine: int
    i0: int
    i1: int
    column: str | None
    value: float | None


@dataclass(frozen=True)
class FaultPlan:
    faults: list[InjectedFault]
    edits: list[Edit]


@dataclass
class _Planner:
    times: np.ndarray
    busy: np.ndarray  # (turbines, periods)
    rng: np.random.Generator

    def pick(
        self, turbine: int, length: int, allowed: np.ndarray, part: tuple[int, int] = (0, 1)
    ) -> int | None:
        """A random start whose window is all allowed and free, in part k of `count` equal
        parts of the range when possible (so faults spread over the month); None when there
        is no room at all."""
        k, count = part
        n = self.times.size
        in_part = np.zeros(n, dtype=bool)
        in_part[k * n // count : (k + 1) * n // count] = True
        start = self._pick(turbine, length, allowed & in_part)
        return start if start is not None else self._pick(turbine, length, allowed)

    def _pick(self, turbine: int, length: int, allowed: np.ndarray) -> int | None:
        ok = (allowed & ~self.busy[turbine]).astype(np.int32)
        if ok.size < length:
            return None
        sums = np.convolve(ok, np.ones(length, dtype=np.int32), mode="valid")
        starts = np.flatnonzero(sums == length)
        if starts.size == 0:
            return None
        i0 = int(self.rng.choice(starts))
        self.busy[turbine, max(0, i0 - _MARGIN) : i0 + length + _MARGIN] = True
        return i0

    def interval(self, i0: int, i1: int) -> tuple[datetime, datetime]:
        start = self.times[i0].astype("datetime64[m]").astype(datetime).replace(tzinfo=UTC)
        return start, start + timedelta(minutes=PERIOD_MINUTES * (i1 - i0))


def _blocked(times: np.ndarray, intervals: list[tuple[str, datetime, datetime]]) -> np.ndarray:
    """Periods (per turbine) that already carry a story, with a margin around them."""
    busy = np.zeros((len(park.TURBINE_IDS), times.size), dtype=bool)
    for turbine_id, start, end in intervals:
        lo = np.datetime64((start - timedelta(hours=2)).replace(tzinfo=None), "m")
        hi = np.datetime64((end + timedelta(hours=2)).replace(tzinfo=None), "m")
        busy[park.TURBINE_IDS.index(turbine_id)] |= (times >= lo) & (times < hi)
    return busy


def plan_faults(
    times: np.ndarray,
    power_kw: np.ndarray,
    is_stopped: np.ndarray,
    story: list[tuple[str, datetime, datetime]],
    rng: np.random.Generator,
) -> FaultPlan:
    """Place the historian faults on the SCADA periods `times`.

    `power_kw` and `is_stopped` are (turbines, periods) truth; `story` lists (turbine,
    start, end) intervals to keep clear (stops, the bearing's days).
    """
    night = [(t, *_DST_NIGHT) for t in park.TURBINE_IDS]
    planner = _Planner(times, _blocked(times, story + night) | is_stopped, rng)
    faults: list[InjectedFault] = []
    edits: list[Edit] = []
    for planned in (
        _plan_frozen(planner, power_kw),
        _plan_spikes(planner, is_stopped),
        _plan_dropouts(planner, is_stopped),
        _plan_duplicates(planner, power_kw),
    ):
        for fault, edit in planned:
            faults.append(fault)
            edits.append(edit)
    return FaultPlan(faults, edits)


_Planned = list[tuple[InjectedFault, Edit]]


def _plan_frozen(planner: _Planner, power_kw: np.ndarray) -> _Planned:
    turbine_id, signal = _FROZEN
    j = park.TURBINE_IDS.index(turbine_id)
    i0 = planner.pick(j, _FROZEN_PERIODS, power_kw[j] > 100.0)
    if i0 is None:
        return []
    i1 = i0 + _FROZEN_PERIODS
    start, end = planner.interval(i0, i1)
    column = park.CANONICAL_TO_HISTORIAN[signal]
    detail = f"{column} repeats its first value for {i1 - i0} periods while producing"
    fault = InjectedFault("frozen_sensor", turbine_id, start, end, signal, detail)
    return [(fault, Edit("frozen_sensor", j, i0, i1, column, None))]


def _plan_spikes(planner: _Planner, is_stopped: np.ndarray) -> _Planned:
    planned = []
    for k, (turbine_id, signal, value, unit) in enumerate(_SPIKES):
        j = park.TURBINE_IDS.index(turbine_id)
        i0 = planner.pick(j, 1, ~is_stopped[j], (k, len(_SPIKES)))
        if i0 is None:
            continue
        start, end = planner.interval(i0, i0 + 1)
        column = park.CANONICAL_TO_HISTORIAN[signal]
        detail = f"{column} = {value:g} {unit} for one period"
        fault = InjectedFault("spike", turbine_id, start, end, signal, detail)
        planned.append((fault, Edit("spike", j, i0, i0 + 1, column, value)))
    return planned


def _plan_dropouts(planner: _Planner, is_stopped: np.ndarray) -> _Planned:
    planned = []
    for k in range(_DROPOUTS):
        j = int(planner.rng.integers(len(park.TURBINE_IDS)))
        length = int(planner.rng.integers(1, 7)) * PERIODS_PER_HOUR
        i0 = planner.pick(j, length, ~is_stopped[j], (k, _DROPOUTS))
        if i0 is None:
            continue
        start, end = planner.interval(i0, i0 + length)
        detail = f"{length} consecutive rows absent ({length // PERIODS_PER_HOUR} h)"
        fault = InjectedFault("dropout", park.TURBINE_IDS[j], start, end, None, detail)
        planned.append((fault, Edit("dropout", j, i0, i0 + length, None, None)))
    return planned


def _plan_duplicates(planner: _Planner, power_kw: np.ndarray) -> _Planned:
    planned = []
    column = park.CANONICAL_TO_HISTORIAN["active_power_avg"]
    kinds = ["duplicate_identical", "duplicate_conflicting"] * _DUPLICATES
    for k, kind in enumerate(kinds):
        j = int(planner.rng.integers(len(park.TURBINE_IDS)))
        i0 = planner.pick(j, 1, power_kw[j] > 200.0, (k, len(kinds)))
        if i0 is None:
            continue
        start, end = planner.interval(i0, i0 + 1)
        if kind == "duplicate_identical":
            detail = "row stored twice with identical values (second copy has a new id)"
            fault = InjectedFault(kind, park.TURBINE_IDS[j], start, end, None, detail)
            planned.append((fault, Edit(kind, j, i0, i0 + 1, None, None)))
            continue
        value = round(float(power_kw[j, i0]) * float(planner.rng.uniform(0.80, 0.92)), 1)
        detail = f"row stored twice; the second copy has {column} = {value:g} kW"
        fault = InjectedFault(kind, park.TURBINE_IDS[j], start, end, "active_power_avg", detail)
        planned.append((fault, Edit(kind, j, i0, i0 + 1, column, value)))
    return planned
