"""The names a mapping proposal reads: operator codes, IEC tags, words with a unit in
brackets, a statistic suffix; and names that only resemble a signal are left alone."""

from __future__ import annotations

import pandas as pd
import pytest

from loaders.onboarding.profile import timestamp_format
from loaders.onboarding.proposal import propose_signal


@pytest.mark.parametrize(
    ("name", "canonical", "unit"),
    [
        ("Ws_avg", "wind_speed_avg", "m/s"),  # ENGIE La Haute Borne
        ("P_avg", "active_power_avg", "kW"),
        ("Va_avg", "relative_wind_direction_avg", "deg"),
        ("Wind Speed (m/s)", "wind_speed_avg", "m/s"),  # Turkish T1
        ("LV ActivePower (kW)", "active_power_avg", "kW"),
        ("Wind Direction (°)", "wind_direction_avg", "deg"),
        ("WMET_HorWdSpd", "wind_speed_avg", "m/s"),  # IEC 61400-25 tag
        ("Gen_Bear_Temp_Avg", "generator_bearing_temp_avg", "degC"),  # EDP
        ("Amb_WindSpeed_Std", "wind_speed_std", "m/s"),
        ("gearbox_oil_temp_max", "gearbox_oil_temp_max", "degC"),  # our own names
        ("Nacelle temperature [°F]", "nacelle_temp_avg", "degF"),
    ],
)
def test_a_name_reads_as_its_signal(name: str, canonical: str, unit: str) -> None:
    proposal = propose_signal(name)
    assert proposal is not None
    assert (proposal.canonical_name, proposal.source_unit) == (canonical, unit)


@pytest.mark.parametrize(
    "name", ["Theoretical_Power_Curve (KWh)", "Date_time", "Wind_turbine_name", "Remarks"]
)
def test_a_name_that_is_no_signal_is_not_proposed(name: str) -> None:
    assert propose_signal(name) is None


def test_a_range_that_does_not_fit_the_unit_is_flagged() -> None:
    """Temperatures in kelvin under a name without a unit: the range says so."""
    proposal = propose_signal("WMET_EnvTmp", 265.0, 305.0)
    assert proposal is not None
    assert any("check the unit" in note for note in proposal.notes)
    assert not any("check the unit" in n for n in propose_signal("Ot_avg", -5.0, 30.0).notes)


def test_timestamp_formats_are_recognised() -> None:
    assert timestamp_format(pd.Series(["01 01 2018 00:10", "31 12 2018 23:50"])) == (
        "%d %m %Y %H:%M",
        False,
    )
    assert timestamp_format(pd.Series(["2014-01-01T01:00:00+01:00"])) == ("", True)
    assert timestamp_format(pd.Series(["icing", "2018"])) is None
