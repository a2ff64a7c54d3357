"""Reading the production department's CSV exports the way they really arrive.

French conventions by default (`;`, decimal comma, `dd/mm/yyyy HH:MM` in Europe/Paris),
but also `,` separators, ISO dates, UTF-8 with or without BOM and Windows-1252.

Local time to UTC, deterministically:
- the repeated autumn hour (e.g. 26/10/2025 02:30 happens twice) is read as its first
  occurrence, summer time (02:30 CEST = 00:30 UTC); the one exception is an interval end
  that would then fall before its start (Début 02:50, Fin 02:10 on that night): the end is
  the second occurrence (02:10 CET = 01:10 UTC), see `FileSpec.interval`;
- a time in the missing spring hour (e.g. 30/03/2025 02:30 never happens) is read with
  the offset in force before the change (02:30 CET = 01:30 UTC, the instant clocks show
  03:30 CEST);
- a time written with an offset (`2025-10-26T02:30:00+01:00`, `...Z`) is that instant.

Numbers: the last `,` or `.` of a value holding both is the decimal mark; a mark repeated
(`1.234.567`, `1,234,567`) is a thousands separator; a single `,` is a decimal comma (these
are French exports); spaces, no-break spaces and apostrophes group thousands.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Europe/Paris")
# Tried in this order: UTF-8 (a BOM is skipped), Excel's Windows-1252, then Latin-1,
# which decodes any byte (cp1252 leaves five bytes undefined).
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
_BLOCK = 1 << 20

# Day first (dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy) or ISO (yyyy-mm-dd); then, for a time,
# HH:MM[:SS] after a space or a T. Regular expressions: strptime is the slow part of a
# large file.
_DATE = re.compile(
    r"(?:(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})"
    r"|(?P<Y>\d{4})-(?P<M>\d{1,2})-(?P<D>\d{1,2}))"
)
_DATETIME = re.compile(_DATE.pattern + r"[ T](?P<H>\d{1,2}):(?P<MI>\d{2})(?::(?P<S>\d{2}))?")
_SPACES = re.compile(r"[\s\u00a0\u202f'’]")
_GROUPED = re.compile(r"^[+-]?\d{1,3}([.,])\d{3}(\1\d{3})*$")
_AWARE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


class FieldError(ValueError):
    """A value that cannot be read; the message is the rejected row's reason."""


def header_key(name: str) -> str:
    """`Énergie produite (kWh)` and `energie_produite_kwh` both become `energieproduitekwh`."""
    without_accents = unicodedata.normalize("NFKD", name.replace("\ufeff", ""))
    ascii_only = without_accents.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", ascii_only.casefold())


def inspect_file(path: Path, copy_to: Path | None = None) -> tuple[str, str]:
    """(SHA-256 of the bytes, the first encoding that decodes them all), in one streamed
    pass: memory does not grow with the file. With `copy_to`, the bytes hashed are also
    written there: reading that copy afterwards reads exactly the version hashed, even if
    the file is replaced meanwhile."""
    digest = hashlib.sha256()
    decoders = {name: codecs.getincrementaldecoder(name)() for name in ENCODINGS[:-1]}
    with path.open("rb") as handle, _copy_target(copy_to) as copy:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
            if copy is not None:
                copy.write(block)
            for name, decoder in list(decoders.items()):
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    del decoders[name]
    for name, decoder in list(decoders.items()):
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            del decoders[name]
    encoding = next((name for name in ENCODINGS if name in decoders), ENCODINGS[-1])
    return digest.hexdigest(), encoding


@contextmanager
def _copy_target(path: Path | None) -> Iterator[BinaryIO | None]:
    if path is None:
        yield None
        return
    with path.open("xb") as handle:
        yield handle


def detect_encoding(path: str) -> str:
    """The first encoding that decodes the whole file, read in blocks (no size limit)."""
    return inspect_file(Path(path))[1]


def detect_separator(header_line: str) -> str:
    counts = {separator: header_line.count(separator) for separator in (";", ",", "\t")}
    return max(counts, key=lambda separator: counts[separator])


def parse_number(text: str, column: str) -> float | None:
    """`12 345,6`, `12.345,6`, `12,345.6`, `1.234.567` and `12345.6` are all read; blank is
    None; anything else is an error naming the column and the value."""
    cleaned = _SPACES.sub("", text or "")
    if not cleaned:
        return None
    commas, dots = cleaned.count(","), cleaned.count(".")
    if commas and dots:
        decimal = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        cleaned = cleaned.replace(thousands, "").replace(decimal, ".")
    elif commas > 1 or dots > 1:
        if not _GROUPED.match(cleaned):
            raise FieldError(f"{column}: not a number: {text!r}")
        cleaned = cleaned.replace(",", "").replace(".", "")
    elif commas:
        cleaned = cleaned.replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        raise FieldError(f"{column}: not a number: {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise FieldError(f"{column}: not a number: {text!r}")
    return value


def _date(match: re.Match[str]) -> date:
    if match["y"]:
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    return date(int(match["Y"]), int(match["M"]), int(match["D"]))


def parse_date(text: str, column: str) -> date:
    value = (text or "").strip()
    match = _DATE.fullmatch(value)
    try:
        if match:
            return _date(match)
    except ValueError:
        pass
    raise FieldError(f"{column}: not a date (dd/mm/yyyy or yyyy-mm-dd): {text!r}")


def parse_local_datetime(
    text: str, column: str, fold: int = 0, zone: ZoneInfo = LOCAL_ZONE
) -> datetime | None:
    """A wall-clock time of `zone` (the export spec's) as an aware UTC datetime; blank is
    None. `fold=1` picks the second occurrence of a repeated autumn time."""
    value = (text or "").strip()
    if not value:
        return None
    if _AWARE.search(value) and ("T" in value or " " in value):
        try:
            return datetime.fromisoformat(value.replace(" ", "T", 1)).astimezone(UTC)
        except ValueError:
            pass
    match = _DATETIME.fullmatch(value)
    try:
        if match:
            day = _date(match)
            naive = datetime(
                day.year,
                day.month,
                day.day,
                int(match["H"]),
                int(match["MI"]),
                int(match["S"] or 0),
            )
            return naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)
    except ValueError:
        pass
    raise FieldError(f"{column}: not a date and time (dd/mm/yyyy HH:MM): {text!r}")


def is_repeated_local_time(text: str) -> bool:
    """True for a wall-clock time of the repeated autumn hour (it happens twice)."""
    first = parse_local_datetime(text, "")
    second = parse_local_datetime(text, "", fold=1)
    # in the missing spring hour the second reading is earlier, not later
    return first is not None and second is not None and second > first


def parse_text(text: str, column: str) -> str | None:
    value = (text or "").strip()
    return value or None
