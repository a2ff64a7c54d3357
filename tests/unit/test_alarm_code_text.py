"""Alarm codes are read as text whatever the source column's type (docs/sources.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loaders.sources.sensor_db import alarm_code_text


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (3120, "3120"),
        (np.int64(3120), "3120"),
        (3120.0, "3120"),  # an INTEGER column with nulls reaches pandas as floats
        ("FL-2314", "FL-2314"),
        ("  0042 ", "0042"),  # leading zeros are part of a code
        ("reset by hand, see logbook", "reset by hand, see logbook"),
        (b"E17", "E17"),
        (12.5, "12.5"),
        ("", None),
        ("   ", None),
        (None, None),
        (float("nan"), None),
        (pd.NA, None),
    ],
)
def test_alarm_code_text(value: object, code: str | None) -> None:
    assert alarm_code_text(value) == code
