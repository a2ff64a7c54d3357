"""What a source's columns hold: kind, values present, range, examples; and the format and
time zone of its timestamps. Read from a sample of rows (the kinds, the formats) and from
counts and bounds over all of them where the source can give those cheaply."""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd

from loaders.onboarding import proposal

# strptime formats tried, in this order, on timestamps that ISO 8601 does not read
TIMESTAMP_FORMATS = (
    "%d %m %Y %H:%M",
    "%d %m %Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%Y%m%d%H%M",
    "%Y%m%d %H:%M",
)
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


def numbers(values: pd.Series) -> pd.Series | None:
    """The values as numbers when every value present reads as one (a `,` decimal mark
    too), else None."""
    present = values.dropna()
    if present.empty:
        return None
    if pd.api.types.is_bool_dtype(present):
        return None
    if pd.api.types.is_numeric_dtype(present):
        return pd.to_numeric(values, errors="coerce")
    text = present.astype(str).str.strip().str.replace(",", ".", regex=False)
    parsed = pd.to_numeric(text, errors="coerce")
    if parsed.isna().any():
        return None
    return pd.to_numeric(values.astype("string").str.replace(",", ".", regex=False), "coerce")


def timestamp_format(values: pd.Series) -> tuple[str, bool] | None:
    """(strptime format, "" for ISO 8601; whether the values carry a UTC offset) when every
    value present reads as a time, else None."""
    present = values.dropna()
    if present.empty:
        return None
    if pd.api.types.is_datetime64_any_dtype(present):
        return "", isinstance(present.dtype, pd.DatetimeTZDtype)
    if not all(isinstance(v, str | datetime) for v in present):
        return None
    text = present.astype(str).str.strip()
    with_offset = bool(text.str.contains(_OFFSET).all())
    try:
        pd.to_datetime(text, format="ISO8601", utc=with_offset)
        if text.str.match(r"^\d{4}-\d{2}-\d{2}").all():
            return "", with_offset
    except (ValueError, TypeError):
        pass
    for candidate in TIMESTAMP_FORMATS:
        try:
            pd.to_datetime(text, format=candidate)
        except (ValueError, TypeError):
            continue
        return candidate, False
    return None


def kind_of(name: str, values: pd.Series) -> str:
    """integer, number, number (text), timestamp, text or empty."""
    present = values.dropna()
    if present.empty:
        return "empty"
    if pd.api.types.is_datetime64_any_dtype(present):
        return "timestamp"
    if pd.api.types.is_integer_dtype(present):
        return "integer"
    if pd.api.types.is_numeric_dtype(present) and not pd.api.types.is_bool_dtype(present):
        return "number"
    if numbers(present) is not None:
        return "number (text)"
    if proposal.is_time_column(name) and timestamp_format(present) is not None:
        return "timestamp"
    return "text"


def column_profile(name: str, values: pd.Series, total: int | None = None) -> dict[str, object]:
    """One column: its kind, values present, range (numbers) and a few distinct examples."""
    kind = kind_of(name, values)
    present = values.dropna()
    shown: dict[str, object] = {
        "name": name,
        "kind": kind,
        "rows": int(total if total is not None else len(values)),
        "values": int(len(present)),
        "empty": bool(present.empty),
        "examples": [str(v) for v in present.astype(str).drop_duplicates().head(3)],
    }
    as_numbers = numbers(present) if kind.startswith("number") or kind == "integer" else None
    if as_numbers is not None and not as_numbers.dropna().empty:
        shown["min"] = float(as_numbers.min())
        shown["max"] = float(as_numbers.max())
    if kind == "timestamp":
        detected = timestamp_format(present)
        if detected is not None:
            shown["timestamp_format"], shown["has_offset"] = detected
    return shown
