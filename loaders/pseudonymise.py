"""Keyed pseudonyms for personal data, applied before anything is written.

HMAC-SHA256 under a secret key: the same person always gets the same token (analyses by
technician still work), nobody without the key can recompute a token from a name, and
rotating the key cuts every link to earlier tokens (see docs/security notes in README).
"""

from __future__ import annotations

import hashlib
import hmac

TOKEN_PREFIX = "psn_"


class MissingKeyError(RuntimeError):
    """Raised instead of writing personal data in clear."""


class Pseudonymiser:
    """Turns a personal value (name, e-mail, badge) into a stable token."""

    def __init__(self, key: str) -> None:
        if not key:
            raise MissingKeyError(
                "no pseudonymisation key: set WINDFARM_PSEUDONYM_KEY or `pseudonym_key` "
                "under [windfarm] in .dlt/secrets.toml (make demo creates one)"
            )
        self._key = key.encode("utf-8")

    def token(self, value: str | None) -> str | None:
        """The token of a value; blanks stay empty, case and spacing do not matter."""
        if value is None or not value.strip():
            return None
        normalised = " ".join(value.split()).casefold().encode("utf-8")
        digest = hmac.new(self._key, normalised, hashlib.sha256).hexdigest()
        return f"{TOKEN_PREFIX}{digest[:24]}"
