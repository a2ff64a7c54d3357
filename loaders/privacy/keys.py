"""Where the pseudonymisation key comes from, and whether it is fit to use.

The key is the "additional information" of GDPR art. 4(5): with it a token can be tested
against a name. EDPB guidelines 01/2025 ask that it be kept apart from the pseudonymised
data and from the people who read it, so it never sits beside the database passwords:

- `WINDFARM_PSEUDONYM_KEY` in the environment (systemd credential, CI secret), or
- `pseudonym_key_command`: a command printing the key (a vault, `systemd-creds cat`), or
- `pseudonym_key_file`: a file holding only the key, readable by the service account only
  (default `.dlt/pseudonym.key`, which `make demo` creates).

A `pseudonym_key` under `[windfarm]` in `.dlt/secrets.toml` is no longer read: the error
says where to move it. A key is refused when it is a known placeholder or too weak.

Keys used before a rotation are read only by erasure and access requests
(`previous_keys`): a daily run never loads them, so a copy of the run's environment cannot
link old tokens to names.
"""

from __future__ import annotations

import math
import os
import shlex
import subprocess
from collections import Counter
from pathlib import Path

from loaders.privacy.pseudonymise import MissingKeyError, Pseudonymiser
from loaders.settings import PROJECT_ROOT, Settings

MIN_KEY_CHARS = 32
MIN_KEY_BITS = 128  # estimated from the key's own character frequencies
PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "placeholder", "example", "your-key")
PLACEHOLDERS = frozenset({"secret", "password", "key", "pseudonym_key", "test", "xxx", "todo"})
PREVIOUS_KEYS_VARIABLE = "WINDFARM_PSEUDONYM_PREVIOUS_KEYS"
COMMAND_TIMEOUT_S = 30


class WeakKeyError(MissingKeyError):
    """A key that a guess or a copied example could find: refused before any token exists."""


def estimated_bits(key: str) -> float:
    """Length times the Shannon entropy of the key's characters: a random hex key of 64
    characters gives about 240, `changeme` repeated or a run of zeros far less."""
    counts = Counter(key)
    return -len(key) * sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())


def check_strength(key: str, origin: str) -> str:
    """The key if it may be used; WeakKeyError naming its origin (never the key) if not."""
    folded = key.strip().casefold()
    if folded in PLACEHOLDERS or any(word in folded for word in PLACEHOLDER_WORDS):
        raise WeakKeyError(f"the pseudonymisation key from {origin} is a placeholder: {_HOW}")
    if len(key) < MIN_KEY_CHARS or estimated_bits(key) < MIN_KEY_BITS:
        raise WeakKeyError(
            f"the pseudonymisation key from {origin} is too weak ({len(key)} characters, "
            f"about {estimated_bits(key):.0f} bits; at least {MIN_KEY_CHARS} characters and "
            f"{MIN_KEY_BITS} bits are needed): {_HOW}"
        )
    return key


_HOW = 'generate one with python -c "import secrets; print(secrets.token_hex(32))"'


def _from_command(command: str) -> str:
    try:
        completed = subprocess.run(  # noqa: S603 - the operator's own configured command
            shlex.split(command),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise MissingKeyError(f"pseudonym_key_command could not run: {error}") from error
    if completed.returncode != 0:
        raise MissingKeyError(
            f"pseudonym_key_command exited with {completed.returncode} "
            "(its output is not shown: it may hold the key)"
        )
    return completed.stdout.strip()


def _from_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise MissingKeyError(
            f"cannot read the pseudonymisation key file {path}: {error}"
        ) from None


def _private(path: Path) -> Path:
    """A key file every user of the machine may read is no secret: refused, like ssh does."""
    if path.stat().st_mode & 0o004:
        raise WeakKeyError(
            f"the key file {path} is readable by every user of the machine: chmod 600 {path}"
        )
    return path


def _misplaced_key(root: Path) -> str:
    """Why a key found beside the passwords is not used, or ''."""
    secrets_file = root / ".dlt" / "secrets.toml"
    if secrets_file.is_file() and "pseudonym_key" in secrets_file.read_text(encoding="utf-8"):
        return (
            f"; {secrets_file} has a pseudonym_key, which is no longer read beside the "
            "database passwords: move it to its own file (pseudonym_key_file, default "
            ".dlt/pseudonym.key, mode 0600) and delete the line (docs/gdpr.md, 'Keys')"
        )
    return ""


def current_key(settings: Settings, root: Path = PROJECT_ROOT) -> str:
    """The key that makes today's tokens, from the first source configured (see module)."""
    if settings.pseudonym_key:
        return check_strength(settings.pseudonym_key, "WINDFARM_PSEUDONYM_KEY")
    if settings.pseudonym_key_command:
        key = _from_command(settings.pseudonym_key_command)
        return check_strength(key, "pseudonym_key_command")
    path = Path(settings.pseudonym_key_file) if settings.pseudonym_key_file else None
    if path is not None and path.is_file():
        return check_strength(_from_file(_private(path)), f"the key file {path}")
    raise MissingKeyError(
        "no pseudonymisation key: set WINDFARM_PSEUDONYM_KEY, pseudonym_key_command, or put "
        f"the key alone in {path or 'the file named by pseudonym_key_file'} "
        "(make demo creates one)" + _misplaced_key(root)
    )


def pseudonymiser(settings: Settings, suppressed: frozenset[str] = frozenset()) -> Pseudonymiser:
    """What the daily run uses: the current key only (and the suppression list of
    loaders/privacy/rights.py)."""
    return Pseudonymiser(current_key(settings), suppressed)


def previous_keys(settings: Settings) -> list[str]:
    """Keys used before a rotation, for erasure and access requests only: from
    WINDFARM_PSEUDONYM_PREVIOUS_KEYS (comma-separated) or `pseudonym_previous_keys_file`
    (one key a line). Not checked for strength: they made tokens that exist."""
    keys = [k.strip() for k in os.environ.get(PREVIOUS_KEYS_VARIABLE, "").split(",")]
    if settings.pseudonym_previous_keys_file:
        text = _from_file(Path(settings.pseudonym_previous_keys_file))
        keys += [line.strip() for line in text.splitlines() if not line.startswith("#")]
    return [key for key in keys if key]


def keyring(settings: Settings) -> list[Pseudonymiser]:
    """The current key first, then the previous ones: a request about a person must find
    their tokens whichever key made them."""
    keys = [current_key(settings), *previous_keys(settings)]
    return [Pseudonymiser(key) for key in dict.fromkeys(keys)]
