"""A park's configuration folder: everything operator-specific, read and checked at start.

One folder per park or operator (`config/<park>/`, chosen by the `park_config` setting):

- `park.yaml`: the park's name and time zone, how its historian is read, its weather sites;
- `historian.csv`: the historian mapping, source column or tag -> canonical signal and unit
  (loaders/sources/sensor_db/mapping.py);
- `exports.yaml`: the production department's export layouts
  (loaders/sources/production_csv/specs.py);
- `turbines.csv` (optional): the turbine registry, for a historian that has none;
- `reference/`: the park's dbt seeds (REFERENCE_FILES), described in seeds_csv/_seeds.yml.

Nothing is loaded before the whole folder is valid: a wrong key, a wrong type, an unknown
unit or time zone is an error naming the file and its line (ParkConfigError). pydantic
checks the shapes; the YAML parser's node marks give the line of each value.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from loaders.settings import Settings

PARK_FILE = "park.yaml"
DEFAULT_HISTORIAN_MAPPING = "historian.csv"
DEFAULT_EXPORTS = "exports.yaml"
M = TypeVar("M", bound=BaseModel)
REFERENCE_DIR = "reference"
# The park's own dbt seeds and their header: a file of another shape would fail in dbt,
# late and far from the file; here it is refused before anything loads.
REFERENCE_FILES = {
    "sites.csv": ["site_code", "time_zone", "country_code", "elevation_m"],
    "turbine_models.csv": [
        "model",
        "manufacturer",
        "rated_power_kw",
        "rotor_diameter_m",
        "hub_height_m",
        "cut_in_wind_speed_ms",
        "rated_wind_speed_ms",
        "cut_out_wind_speed_ms",
    ],
    "power_curves.csv": ["model", "wind_speed_ms", "power_kw"],
    "alarm_codes.csv": [
        "alarm_code",
        "description",
        "severity",
        "component",
        "is_stop",
        "is_failure",
    ],
}


class ParkConfigError(ValueError):
    """The park's configuration is not valid; the message names the file and the line."""


def check_zone(zone: str) -> str:
    """An IANA time zone name, or ValueError (pydantic turns it into the line's error)."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"unknown time zone {zone!r} (an IANA name such as UTC or Europe/Paris)"
        raise ValueError(message) from None
    return zone


class Strict(BaseModel):
    """No key the project does not know: a typo is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class HistorianConfig(Strict):
    mapping: str = DEFAULT_HISTORIAN_MAPPING
    # strptime format of timestamps stored as text in a layout ISO 8601 does not cover
    # (e.g. "%d %m %Y %H:%M"); empty: ISO 8601, then whatever pandas recognises
    timestamp_format: str = ""
    # the turbine of a historian that holds one turbine and no turbine column
    turbine_id: str = ""


class WeatherSite(Strict):
    code: str = Field(min_length=1)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class TurbineRow(Strict):
    """A row of turbines.csv: the registry's columns (raw.scada_turbines)."""

    turbine_id: str = Field(min_length=1)
    turbine_name: str | None = None
    site_code: str = Field(min_length=1)
    site_name: str | None = None
    model: str = Field(min_length=1)
    manufacturer: str | None = None
    rated_power_kw: float | None = Field(default=None, gt=0)
    hub_height_m: float | None = Field(default=None, gt=0)
    rotor_diameter_m: float | None = Field(default=None, gt=0)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    commissioned_on: date | None = None


class ParkFile(Strict):
    name: str = Field(min_length=1)
    time_zone: str
    historian: HistorianConfig = HistorianConfig()
    exports: str = DEFAULT_EXPORTS  # "" = the park sends no production export
    turbines: str = ""  # the turbine registry as CSV, for a historian without one
    weather_sites: list[WeatherSite] = []

    _zone = field_validator("time_zone")(check_zone)


@dataclass(frozen=True)
class Park:
    """A park's configuration as the loaders use it; paths are absolute."""

    folder: Path
    name: str
    time_zone: str
    historian_mapping: Path
    timestamp_format: str
    turbine_id: str
    exports: Path | None
    turbines: Path | None
    weather_sites: tuple[WeatherSite, ...]


def _node_at(node: yaml.Node | None, location: Sequence[int | str]) -> yaml.Node | None:
    """The YAML node at pydantic's error location (keys and list indexes), as deep as it
    goes: the line of the value that is wrong, or of its parent when the value is missing."""
    for step in location:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == step), None)
            if match is None:
                # a key that should not be there: the key's own line
                key = next((k for k, _ in node.value if k.value == step), None)
                return key or node
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                return node
            node = node.value[step]
        else:
            return node
    return node


def _line(node: yaml.Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 1


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """(data, node tree) of a YAML file; a syntax error names the file and the line."""
    if not path.is_file():
        raise ParkConfigError(f"{path}: configuration file does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = mark.line + 1 if mark is not None else 1
        raise ParkConfigError(f"{path}:{line}: not valid YAML: {error.problem}") from None


def validated(model: type[M], path: Path) -> tuple[M, yaml.Node | None]:
    """The YAML file checked against `model`; every error named by file and line."""
    data, tree = read_yaml(path)
    try:
        return model.model_validate(data if data is not None else {}), tree
    except ValidationError as error:
        raise ParkConfigError(describe(error, path, tree)) from None


def describe(error: ValidationError, path: Path, tree: yaml.Node | None) -> str:
    """One line per problem: `file:line: where: what`."""
    lines = []
    for problem in error.errors():
        location = [step for step in problem["loc"] if not isinstance(step, str) or step]
        where = ".".join(str(step) for step in location) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{path}:{_line(_node_at(tree, location))}: {where}: {message}")
    return "\n".join(lines)


def load_park(folder: Path) -> Park:
    """Read and check `park.yaml` and the files it names (each must exist)."""
    path = folder / PARK_FILE
    park, _ = validated(ParkFile, path)
    mapping = folder / park.historian.mapping
    exports = folder / park.exports if park.exports else None
    return Park(
        folder=folder,
        name=park.name,
        time_zone=park.time_zone,
        historian_mapping=mapping,
        timestamp_format=park.historian.timestamp_format,
        turbine_id=park.historian.turbine_id,
        exports=exports,
        turbines=folder / park.turbines if park.turbines else None,
        weather_sites=tuple(park.weather_sites),
    )


def load_turbines(path: Path) -> list[dict[str, object]]:
    """The rows of a turbines.csv, checked (blank cells are null); errors name the line."""
    if not path.is_file():
        raise ParkConfigError(f"{path}: configuration file does not exist")
    rows, problems, seen = [], [], {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for line, raw in enumerate(reader, start=2):
            values = {k: (v.strip() or None) for k, v in raw.items() if k and v is not None}
            try:
                row = TurbineRow.model_validate(values)
            except ValidationError as error:
                for problem in error.errors():
                    where = ".".join(str(step) for step in problem["loc"])
                    message = problem["msg"].removeprefix("Value error, ")
                    if problem["type"] == "extra_forbidden":
                        message = "unknown column"
                    problems.append(f"{path}:{line}: {where}: {message}")
                continue
            if row.turbine_id in seen:
                problems.append(
                    f"{path}:{line}: turbine {row.turbine_id} is already on line "
                    f"{seen[row.turbine_id]}"
                )
            seen[row.turbine_id] = line
            rows.append(row.model_dump())
    if problems:
        raise ParkConfigError("\n".join(problems))
    return rows


def check_reference(folder: Path) -> None:
    """Every reference seed of the park is there, with the header dbt's seeds expect."""
    problems = []
    for name, expected in REFERENCE_FILES.items():
        path = folder / REFERENCE_DIR / name
        if not path.is_file():
            problems.append(f"{path}: missing (a header line alone if the park has none)")
            continue
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
        if [column.strip() for column in header] != expected:
            problems.append(f"{path}:1: header must be {','.join(expected)}")
    if problems:
        raise ParkConfigError("\n".join(problems))


def park_of(settings: Settings) -> Park:
    return load_park(settings.park_folder)


def check(settings: Settings) -> Park:
    """The whole folder read and checked as the loaders will read it, before any load:
    park.yaml, the historian mapping, the export specs. The first invalid file raises."""
    from loaders.sources.production_csv.specs import load_specs
    from loaders.sources.sensor_db.mapping import load_mapping

    park = park_of(settings)
    check_reference(park.folder)
    mapping = Path(settings.sensor_mapping) if settings.sensor_mapping else park.historian_mapping
    try:
        load_mapping(mapping, park.timestamp_format, park.turbine_id)
    except (ValueError, FileNotFoundError) as error:
        raise ParkConfigError(str(error)) from None
    if park.exports is not None:
        load_specs(park.exports, park.time_zone)
    if park.turbines is not None:
        load_turbines(park.turbines)
    return park
