"""Keyed pseudonyms for personal data, applied before anything is written.

HMAC-SHA256 under a secret key: the same person always gets the same token (analyses by
technician still work), nobody without the key can recompute a token from a name, and
rotating the key cuts every link to earlier tokens (docs/gdpr.md: key rotation, erasure).

A plain hash would not do: names and e-mails are few and guessable, so anyone could hash
a staff list and re-identify every token. With a key, only its holder can.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Callable

TOKEN_PREFIX = "psn_"  # noqa: S105 - a token's prefix, not a password
TOKEN_HEX_CHARS = 24  # 96 bits: no collision among any plausible number of people
KEY_ID_CONTEXT = b"windfarm key id"


class MissingKeyError(RuntimeError):
    """Raised instead of writing personal data in clear."""


def normalise(value: str) -> str:
    """Case, accents and spacing do not make another person: `  Léa  FONTAINE`, `LEA
    Fontaine` and `Le\u0301a fontaine` (a decomposed accent) are all `lea fontaine`.
    NFKD also folds compatibility forms (ligatures, full-width letters)."""
    decomposed = unicodedata.normalize("NFKD", " ".join(value.split()).casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def normalise_before_accent_folding(value: str) -> str:
    """How names were normalised until accents were folded: only for the migration of
    tokens made then (loaders/privacy/token_migration.py)."""
    return " ".join(value.split()).casefold()


class Pseudonymiser:
    """Turns a personal value (name, e-mail, badge) into a stable token."""

    def __init__(self, key: str, suppressed: frozenset[str] = frozenset()) -> None:
        """`suppressed`: digests (`subject_digest`) of the tokens of people whose data must
        no longer be processed (an upheld objection, a restriction): they load as blanks."""
        self._suppressed = suppressed
        if not key:
            raise MissingKeyError(
                "no pseudonymisation key: set WINDFARM_PSEUDONYM_KEY or a key file "
                "(loaders/privacy/keys.py; make demo creates one)"
            )
        self._key = key.encode("utf-8")

    def __repr__(self) -> str:
        return f"Pseudonymiser(key_id={self.key_id!r})"  # never the key itself

    @property
    def key_id(self) -> str:
        """A short public name of the key, recorded with each run: it says which key
        generation produced a token without revealing anything about the key."""
        return hmac.new(self._key, KEY_ID_CONTEXT, hashlib.sha256).hexdigest()[:12]

    def token(
        self, value: str | None, *, normaliser: Callable[[str], str] = normalise
    ) -> str | None:
        """The token of a value; blanks stay empty, case, accents and spacing do not matter."""
        if value is None or not value.strip():
            return None
        digest = hmac.new(self._key, normaliser(value).encode("utf-8"), hashlib.sha256)
        token = f"{TOKEN_PREFIX}{digest.hexdigest()[:TOKEN_HEX_CHARS]}"
        if self._suppressed and subject_digest(token) in self._suppressed:
            return None
        return token


def subject_digest(token: str) -> str:
    """How a suppression list names a token without holding it: an erasure that searches
    the warehouse for the token does not find (and empty) the list itself."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()
