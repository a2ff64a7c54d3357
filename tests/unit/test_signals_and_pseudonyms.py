from pathlib import Path

import pytest

from loaders.pseudonymise import MissingKeyError, Pseudonymiser
from loaders.signals import UnknownSignalError, converter
from loaders.sources.sensor_db.mapping import load_mapping

DEMO_MAPPING = Path(__file__).parents[2] / "loaders/sources/sensor_db/mappings/demo_park.csv"


@pytest.mark.parametrize(
    ("unit", "signal", "value", "expected"),
    [
        ("K", "ambient_temp_avg", 283.15, 10.0),
        ("°F", "gearbox_oil_temp_avg", 212.0, 100.0),
        ("W", "auxiliary_consumption_avg", 15_000.0, 15.0),
        ("MW", "active_power_avg", 2.05, 2050.0),
        ("km/h", "wind_speed_avg", 36.0, 10.0),
        ("K", "ambient_temp_std", 2.0, 2.0),  # a spread shifts by nothing
    ],
)
def test_unit_conversions(unit: str, signal: str, value: float, expected: float) -> None:
    convert = converter(unit, signal)
    assert convert is not None
    assert convert(value) == pytest.approx(expected)


def test_same_unit_needs_no_conversion() -> None:
    assert converter("m/s", "wind_speed_avg") is None


def test_unknown_signal_and_unit_are_errors() -> None:
    with pytest.raises(UnknownSignalError, match="not a canonical signal"):
        converter("m/s", "windspeed_avg")
    with pytest.raises(UnknownSignalError, match="unknown unit"):
        converter("furlongs", "wind_speed_avg")
    with pytest.raises(UnknownSignalError, match="no conversion"):
        converter("kW", "wind_speed_avg")


def test_demo_mapping_reads(tmp_path: Path) -> None:
    mapping = load_mapping(DEMO_MAPPING)
    assert mapping.turbine_column == "turbine_id"
    assert mapping.timestamp_column == "ts_utc"
    assert "gearbox_bearing_temp_avg" in mapping.canonical_signals


def test_a_bad_mapping_line_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "source_name,canonical_name,source_unit\nt,turbine_id,\nts,measured_at,UTC\n"
        "X,wind_sped_avg,m/s\n",
        encoding="utf-8",
    )
    with pytest.raises(UnknownSignalError, match=r"bad.csv:4"):
        load_mapping(bad)


def test_pseudonyms_are_stable_keyed_and_normalised() -> None:
    one = Pseudonymiser("key-one")
    assert one.token("Camille Durand") == one.token("  camille   DURAND ")
    assert one.token("Camille Durand") != Pseudonymiser("key-two").token("Camille Durand")
    assert one.token("Camille Durand").startswith("psn_")
    assert "camille" not in one.token("Camille Durand").lower()
    assert one.token("") is None and one.token(None) is None


def test_no_key_no_pseudonymiser() -> None:
    with pytest.raises(MissingKeyError):
        Pseudonymiser("")
