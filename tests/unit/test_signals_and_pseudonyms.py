from pathlib import Path

import pytest

from loaders.privacy.pseudonymise import MissingKeyError, Pseudonymiser
from loaders.signals import UnknownSignalError, converter
from loaders.sources.sensor_db.mapping import load_mapping

DEMO_MAPPING = Path(__file__).parents[2] / "config/mont_crosnier/historian.csv"


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


LHB_MAPPING = DEMO_MAPPING.parents[1] / "la_haute_borne" / "historian.csv"


def test_engie_and_open_meteo_unit_spellings() -> None:
    assert converter("deg_C", "ambient_temp_avg") is None
    assert converter("mp/h", "wind_speed_avg")(10.0) == pytest.approx(4.4704)
    assert converter("kn", "wind_speed_avg")(10.0) == pytest.approx(5.1444, rel=1e-4)


def test_the_la_haute_borne_mapping_reads() -> None:
    mapping = load_mapping(LHB_MAPPING)
    assert mapping.layout == "wide"
    assert mapping.source_columns == [
        "Wind_turbine_name",
        "Date_time",
        "Ba_avg",
        "P_avg",
        "Ws_avg",
        "Va_avg",
        "Ot_avg",
        "Ya_avg",
        "Wa_avg",
    ]
    assert mapping.signal_for("Va_avg").canonical_name == "relative_wind_direction_avg"
    assert mapping.timestamp_zone == "Europe/Paris"


def test_a_narrow_mapping_names_tag_and_value_columns(tmp_path: Path) -> None:
    path = tmp_path / "narrow.csv"
    path.write_text(
        "source_name,canonical_name,source_unit\n"
        "# a comment line\n"
        "unit_name,turbine_id,\nts,measured_at,Europe/Paris\n"
        "tag_name,signal_tag,\nnum_value,signal_value,\n"
        "\n"
        "WTUR.W,active_power_avg,W\n",
        encoding="utf-8",
    )
    mapping = load_mapping(path)
    assert mapping.layout == "narrow"
    assert mapping.source_columns == ["unit_name", "ts", "tag_name", "num_value"]
    assert mapping.signal_for("WTUR.W").convert(2000.0) == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "t,turbine_id,\nts,measured_at,UTC\nA,wind_speed_avg,m/s\nB,wind_speed_avg,m/s\n",
            r"m.csv:5: wind_speed_avg is already mapped on line 4",
        ),
        (
            "t,turbine_id,\nts,measured_at,Mars/Olympus\nA,wind_speed_avg,m/s\n",
            r"m.csv:3: unknown time zone 'Mars/Olympus'",
        ),
        (
            "t,turbine_id,\nts,measured_at,UTC\ntag,signal_tag,\nA,wind_speed_avg,m/s\n",
            r"key column\(s\) signal_value",
        ),
        ("t,turbine_id,\nts,measured_at,UTC\n", r"maps no signal"),
    ],
)
def test_mapping_mistakes_are_named(tmp_path: Path, rows: str, message: str) -> None:
    path = tmp_path / "m.csv"
    path.write_text("source_name,canonical_name,source_unit\n" + rows, encoding="utf-8")
    with pytest.raises(UnknownSignalError, match=message):
        load_mapping(path)


def test_historian_timestamps_to_utc() -> None:
    import pandas as pd

    from loaders.sources.sensor_db.frames import to_utc

    values = pd.Series(
        [
            "2014-01-01T01:00:00+01:00",  # an offset: that instant
            "2025-10-26 02:30:00",  # the repeated hour, first row: summer time
            "2025-10-26 02:30:00",  # second row of the same turbine: winter time
            "2025-03-30 02:30:00",  # the missing hour: the offset before the change
            "not a time",
            None,
        ]
    )
    series = pd.DataFrame({"turbine": ["T1"] * 6})
    converted = to_utc(values, "Europe/Paris", series)
    assert [str(v) for v in converted[:4]] == [
        "2014-01-01 00:00:00+00:00",
        "2025-10-26 00:30:00+00:00",
        "2025-10-26 01:30:00+00:00",
        "2025-03-30 01:30:00+00:00",
    ]
    assert converted[4:].isna().all()
