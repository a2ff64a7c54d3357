"""Reading the production department's CSV exports the way they really arrive.

French conventions by default (`;`, decimal comma, `dd/mm/yyyy HH:MM` in Europe/Paris),
but also `,` separators, ISO dates, UTF-8 with or without BOM and Windows-1252.

Local time to UTC, deterministically:
- the repeated autumn hour (e.g. 26/10/2025 02:30 happens twice) is read as its first
  occurrence, summer time (02:30 CEST = 00:30 UTC);
- a time in the missing spring hour (e.g. 30/03/2025 02:30 never happens) is read with
  the offset in force before the change (02:30 CET = 01:30 UTC, the instant clocks show
  03:30 CEST).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Europe/Paris")
ENCODINGS = ("utf-8-sig", "cp1252")

_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")
_DATETIME_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
)
_SPACES = re.compile(r"[\s\u00a0\u202f']")


class FieldError(ValueError):
    """A value that cannot be read; the message is the rejected row's reason."""


def header_key(name: str) -> str:
    """`Énergie produite (kWh)` and `energie_produite_kwh` both become `energieproduitekwh`."""
    without_accents = unicodedata.normalize("NFKD", name.replace("\ufeff", ""))
    ascii_only = without_accents.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", ascii_only.casefold())


def detect_encoding(path: str) -> str:
    """The first encoding that decodes the whole file, read in blocks (no size limit)."""
    for encoding in ENCODINGS:
        try:
            with open(path, encoding=encoding, newline="") as handle:
                while handle.read(1 << 20):
                    pass
        except UnicodeDecodeError:
            continue
        return encoding
    raise FieldError(f"not UTF-8 nor Windows-1252: {path}")  # cp1252 decodes nearly all


def detect_separator(header_line: str) -> str:
    counts = {separator: header_line.count(separator) for separator in (";", ",", "\t")}
    return max(counts, key=lambda separator: counts[separator])


def parse_number(text: str, column: str) -> float | None:
    """`12 345,6`, `12.345,6`, `12,345.6` and `12345.6` are all 12345.6; blank is None."""
    cleaned = _SPACES.sub("", text or "")
    if not cleaned:
        return None
    if "," in cleaned and "." in cleaned:
        decimal = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        cleaned = cleaned.replace(thousands, "").replace(decimal, ".")
    elif "," in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        raise FieldError(f"{column}: not a number: {text!r}") from None


def parse_date(text: str, column: str) -> date:
    value = (text or "").strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise FieldError(f"{column}: not a date (dd/mm/yyyy or yyyy-mm-dd): {text!r}")


def parse_local_datetime(text: str, column: str) -> datetime | None:
    """A Europe/Paris wall-clock time as an aware UTC datetime; blank is None."""
    value = (text or "").strip()
    if not value:
        return None
    for pattern in _DATETIME_FORMATS:
        try:
            naive = datetime.strptime(value, pattern)
        except ValueError:
            continue
        return naive.replace(tzinfo=LOCAL_ZONE, fold=0).astimezone(UTC)
    raise FieldError(f"{column}: not a date and time (dd/mm/yyyy HH:MM): {text!r}")


def parse_text(text: str, column: str) -> str | None:
    value = (text or "").strip()
    return value or None
