"""The export spec's options for files of other shapes (docs/sources.md): a constant
(`value`), a mapping of the file's codes to the vocabulary (`values`) and an id made from
other cells (`from_columns`), with the errors a wrong spec or a wrong cell gets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from loaders.park_config import ParkConfigError
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.sources.production_csv import CsvStats, RefusedFileError, read_file
from loaders.sources.production_csv.specs import FileSpec, load_specs

FAILURE_LOG = """
exports:
  - name: failure_log
    table: maintenance_log
    columns:
      intervention_id: {from_columns: [Turbine_ID, Timestamp]}
      turbine_id: {header: Turbine_ID}
      started_at: {header: Timestamp}
      intervention_type: {value: corrective}
      component:
        header: Component
        values: {GENERATOR: generator, GENERATOR_BEARING: generator_bearing}
      description: {header: Remarks}
"""
LOG = (
    "Turbine_ID;Component;Timestamp;Remarks\n"
    "T11;GENERATOR;2016-03-03T19:00:00+00:00;Electric circuit error\n"
    "T07;GENERATOR_BEARING;2016-04-30T12:40:00+00:00;High temperature\n"
    "T06;PITCH;2016-05-01T10:00:00+00:00;Not in the mapping\n"
    ";GENERATOR;2016-05-02T10:00:00+00:00;No turbine\n"
)


def spec_of(tmp_path: Path, text: str) -> FileSpec:
    path = tmp_path / "exports.yaml"
    path.write_text(text, encoding="utf-8")
    (spec,) = load_specs(path, "Europe/Lisbon")
    return spec


def read(tmp_path: Path, spec: FileSpec, text: str) -> tuple[list[dict], list[dict]]:
    path = tmp_path / "log.csv"
    path.write_text(text, encoding="utf-8")
    good: list[dict] = []
    bad: list[dict] = []
    batches = read_file(path, "sha", "utf-8", Pseudonymiser("k" * 32), CsvStats(), (spec,))
    for _, is_rejected, batch in batches:
        (bad if is_rejected else good).extend(batch.to_pylist())
    return good, bad


def test_a_failure_log_maps_onto_the_maintenance_log(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, FAILURE_LOG)
    good, bad = read(tmp_path, spec, LOG)

    assert [row["intervention_id"] for row in good] == [
        "T11|2016-03-03T19:00:00+00:00",
        "T07|2016-04-30T12:40:00+00:00",
    ]
    assert [row["component"] for row in good] == ["generator", "generator_bearing"]
    assert {row["intervention_type"] for row in good} == {"corrective"}
    assert good[0]["started_at"] == datetime(2016, 3, 3, 19, tzinfo=UTC)
    assert good[0]["description"] == "Electric circuit error"
    # nothing lost: the code outside the mapping and the blank id cell are rejected, why said
    assert [row["_source_line"] for row in bad] == [4, 5]
    assert "'PITCH' is not a code of the export's values mapping" in bad[0]["reason"]
    assert "GENERATOR, GENERATOR_BEARING" in bad[0]["reason"]
    blank_id = "intervention_id: made from Turbine_ID, Timestamp, but Turbine_ID is blank"
    assert blank_id in bad[1]["reason"]


def test_a_reloaded_file_gives_the_same_ids(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, FAILURE_LOG)
    first, _ = read(tmp_path, spec, LOG)
    again, _ = read(tmp_path, spec, LOG.replace("\n", "\r\n"))
    assert [row["intervention_id"] for row in again] == [row["intervention_id"] for row in first]


def test_a_file_without_a_from_columns_source_is_refused_naming_it(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, FAILURE_LOG)
    with pytest.raises(RefusedFileError, match=r"missing column\(s\): Timestamp"):
        read(tmp_path, spec, "Turbine_ID;Component;Date;Remarks\nT1;GENERATOR;x;y\n")


def test_mapped_codes_and_constants_parse_like_cells(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, FAILURE_LOG)
    component = spec.column("component")
    assert component.parse(" GENERATOR ") == "generator"
    assert component.parse("") is None  # blank: the required check rejects it, not the map
    assert spec.column("intervention_type").constant == "corrective"
    assert spec.column("intervention_type").header == "intervention_type"


def with_column(column: str) -> str:
    """The failure log's spec with its intervention_type column replaced."""
    return FAILURE_LOG.replace("intervention_type: {value: corrective}", column)


@pytest.mark.parametrize(
    ("column", "error"),
    [
        (
            "intervention_type: {value: corrective, header: Type}",
            r"intervention_type: header and value together",
        ),
        (
            "intervention_type: {value: corrective, from_columns: [Turbine_ID]}",
            r"value and from_columns together",
        ),
        ("intervention_type: {required: true}", r"needs a header \(or a constant value"),
        ("intervention_type: {value: ' '}", r"a constant value cannot be blank"),
        (
            "intervention_type: {value: corrective, values: {C: corrective}}",
            r"values maps the codes of a file's column: it needs a header",
        ),
        ("intervention_type: {header: Type, values: {}}", r"at least one `code: canonical"),
        ("intervention_type: {header: Type, values: {C: ''}}", r"blank value"),
        ("intervention_type: {from_columns: []}", r"from_columns needs at least one header"),
        (
            "intervention_type: {value: corrective}\n      ended_at: {from_columns: [Timestamp]}",
            r"ended_at: values and from_columns apply to text columns only",
        ),
    ],
)
def test_a_wrong_option_is_refused_naming_the_file_and_line(
    tmp_path: Path, column: str, error: str
) -> None:
    with pytest.raises(ParkConfigError, match=r"exports\.yaml:\d+: exports\.0.*" + error):
        spec_of(tmp_path, with_column(column))


def test_an_id_made_of_personal_cells_is_refused(tmp_path: Path) -> None:
    text = with_column(
        "intervention_type: {value: corrective}\n"
        "      technician_pseudonym: {header: Technician, personal: true}"
    ).replace("[Turbine_ID, Timestamp]", "[Technician, Timestamp]")
    with pytest.raises(ParkConfigError, match=r"from_columns names personal column\(s\) Tech"):
        spec_of(tmp_path, text)
