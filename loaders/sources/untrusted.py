"""Text from a source, made safe to write: PostgreSQL refuses NUL in text (a COPY with one
fails the whole load package), and the other control characters have no business in a
turbine id, an export cell or a log line. Shared by every source: one rule for all."""

from __future__ import annotations

import re

# C0 control characters but tab and line breaks, and DEL.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The same as a pattern pandas' `str.contains` takes.
CONTROL_PATTERN = CONTROL.pattern


def control_character(text: str) -> str | None:
    """The first control character of a text (as U+XXXX), or None."""
    found = CONTROL.search(text)
    return f"U+{ord(found[0]):04X}" if found else None


def printable(text: str) -> str:
    """The text with its control characters written as `\\xNN`: what a rejected row, a
    reason or a log line shows."""
    return CONTROL.sub(lambda found: f"\\x{ord(found[0]):02x}", text)
