"""The alarm-catalogue converter: a maker's file of any of the shapes it reads becomes an
alarm_codes.csv as the park's alarm_catalogue.yaml says, or nothing is written and every
problem is named with its code."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from loaders import cli
from loaders.onboarding import alarm_catalogue
from loaders.park_config import ParkConfigError

CONFIG = """\
table: {table}
delimiter: ";"
columns:
  alarm_code: {{header: Code}}
  description: {{header: Text}}
  component:
    from_columns: [System, Part]
    values: {{"Drive|GBX": gearbox, "Yaw|Yaw": yaw_system, "Grid|Grid": grid}}
  severity: {{value: warning}}
  is_stop: {{value: "false"}}
  is_failure: {{value: "FALSE"}}
rules:
  - when: {{Text: '(?i)stop'}}
    set: {{severity: fault, is_stop: "true"}}
  - when: {{Text: '(?i)bearing', System: '^Drive$'}}
    set: {{component: gearbox_bearing, is_failure: "true", severity: critical}}
"""
ROWS = [
    {"Code": "GB-01", "Text": "Gearbox bearing hot, stop", "System": "Drive", "Part": "GBX"},
    {"Code": 17, "Text": "Yaw misaligned", "System": "Yaw", "Part": "Yaw"},
    {"Code": 18.0, "Text": "Grid stop", "System": "Grid", "Part": "Grid"},
]
EXPECTED = [
    ["alarm_code", "description", "severity", "component", "is_stop", "is_failure"],
    ["GB-01", "Gearbox bearing hot, stop", "critical", "gearbox_bearing", "true", "true"],
    ["17", "Yaw misaligned", "warning", "yaw_system", "false", "false"],
    ["18", "Grid stop", "fault", "grid", "true", "false"],
]


def park(tmp_path: Path, table: str = '""', config: str = CONFIG) -> Path:
    folder = tmp_path / "park"
    (folder / "reference").mkdir(parents=True)
    (folder / "alarm_catalogue.yaml").write_text(config.format(table=table), encoding="utf-8")
    return folder


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("shape", ["csv", "records", "columns"])
def test_each_shape_gives_the_same_codes(tmp_path: Path, shape: str) -> None:
    if shape == "csv":
        source = tmp_path / "catalogue.csv"
        with source.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(ROWS[0]), delimiter=";")
            writer.writeheader()
            writer.writerows(
                {**row, "Code": alarm_catalogue.cell_text(row["Code"])} for row in ROWS
            )
        folder = park(tmp_path)
    else:
        source = tmp_path / "catalogue.json"
        table: object = ROWS
        if shape == "columns":
            table = {name: [row[name] for row in ROWS] for name in ROWS[0]}
        source.write_text(json.dumps({"plant": {"alarms": table}}), encoding="utf-8")
        folder = park(tmp_path, "plant.alarms")

    assert parsed(alarm_catalogue.convert(source, folder)) == EXPECTED


def test_the_command_writes_then_checks(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    source = tmp_path / "catalogue.json"
    source.write_text(json.dumps(ROWS), encoding="utf-8")
    folder = park(tmp_path)
    target = folder / "reference" / "alarm_codes.csv"

    assert cli.main(["alarm-catalogue", str(source), "--park", str(folder), "--check"]) == 1
    assert not target.exists()  # --check writes nothing
    assert cli.main(["alarm-catalogue", str(source), "--park", str(folder)]) == 0
    assert parsed(target.read_text(encoding="utf-8")) == EXPECTED
    assert cli.main(["alarm-catalogue", str(source), "--park", str(folder), "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_every_problem_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    rows = [
        *ROWS,
        {"Code": "17", "Text": "Yaw again", "System": "Yaw", "Part": "Yaw"},
        {"Code": "20", "Text": "Pitch", "System": "Rotor", "Part": "Pitch"},
        {"Code": "", "Text": "no code", "System": "Yaw", "Part": "Yaw"},
    ]
    source = tmp_path / "catalogue.json"
    source.write_text(json.dumps(rows), encoding="utf-8")
    config = CONFIG.replace('"Grid|Grid": grid', '"Grid|Grid": power_grid')
    folder = park(tmp_path, config=config)

    with pytest.raises(ParkConfigError) as error:
        alarm_catalogue.write(source, folder)

    message = str(error.value)
    assert "code '17': repeated" in message
    assert "component: 'Rotor|Pitch' is not in values (known: Drive|GBX, Grid|Grid, Yaw|Yaw)" in (
        message
    )
    assert "code '18': component 'power_grid' is not in seeds_csv/components.csv" in message
    assert "a row without a code" in message
    assert not (folder / "reference" / "alarm_codes.csv").exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("  severity: {value: warning}\n", "columns: no mapping for severity"),
        ("description: {header: Text}", "give exactly one of header, from_columns, value"),
        ("{Text: '(?i)stop'}", "not a regular expression"),
    ],
)
def test_a_wrong_configuration_names_its_line(tmp_path: Path, change: str, expected: str) -> None:
    replacement = {
        "  severity: {value: warning}\n": "",
        "description: {header: Text}": "description: {header: Text, value: x}",
        "{Text: '(?i)stop'}": "{Text: '(?i)stop('}",
    }[change]
    config = CONFIG.replace(
        change.replace("{", "{{").replace("}", "}}"),
        replacement.replace("{", "{{").replace("}", "}}"),
    )
    folder = park(tmp_path, config=config)
    source = tmp_path / "catalogue.json"
    source.write_text(json.dumps(ROWS), encoding="utf-8")

    with pytest.raises(ParkConfigError, match="alarm_catalogue.yaml:[0-9]+: .*") as error:
        alarm_catalogue.convert(source, folder)

    assert expected in str(error.value)
