"""The pseudonymisation key kept apart: where it is read from, which keys are refused,
which commands see the previous keys, and names that differ only in accents."""

from __future__ import annotations

import secrets
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from loaders.cli import ensure_demo_key
from loaders.privacy import keys
from loaders.privacy.pseudonymise import (
    MissingKeyError,
    Pseudonymiser,
    normalise_before_accent_folding,
)
from loaders.settings import Settings, load_settings

STRONG = secrets.token_hex(32)


def no_key(tmp_path: Path) -> Settings:
    return replace(
        Settings(), pseudonym_key_file=str(tmp_path / "absent.key"), pseudonym_key_command=""
    )


@pytest.mark.parametrize(
    "key",
    [
        "changeme-changeme-changeme-changeme",
        "please-replace-this-example-key-with-a-real-one",
        "0" * 64,
        "test-key-" + "0" * 40,
        pytest.param(secrets.token_hex(8), id="random-but-short"),
    ],
)
def test_placeholder_and_weak_keys_are_refused(key: str, tmp_path: Path) -> None:
    with pytest.raises(keys.WeakKeyError) as refused:
        keys.current_key(replace(no_key(tmp_path), pseudonym_key=key))
    assert key not in str(refused.value)  # the message never shows the key
    assert "WINDFARM_PSEUDONYM_KEY" in str(refused.value)


def test_a_random_key_is_accepted_from_each_source(tmp_path: Path) -> None:
    key_file = tmp_path / "pseudonym.key"
    key_file.write_text(STRONG + "\n", encoding="utf-8")
    key_file.chmod(0o644)
    from_file = replace(no_key(tmp_path), pseudonym_key_file=str(key_file))
    with pytest.raises(keys.WeakKeyError, match="readable by every user"):
        keys.current_key(from_file)
    key_file.chmod(0o640)
    assert keys.current_key(from_file) == STRONG

    command = f"{sys.executable} -c \"print('{STRONG}')\""
    from_command = replace(from_file, pseudonym_key_command=command)
    other = secrets.token_hex(32)
    assert keys.current_key(from_command) == STRONG
    assert keys.current_key(replace(from_command, pseudonym_key=other)) == other  # env wins


def test_a_failing_key_command_does_not_print_its_output(tmp_path: Path) -> None:
    command = f"{sys.executable} -c \"print('{STRONG}'); raise SystemExit(3)\""
    with pytest.raises(MissingKeyError, match="exited with 3") as failed:
        keys.current_key(replace(no_key(tmp_path), pseudonym_key_command=command))
    assert STRONG not in str(failed.value)


def test_a_key_beside_the_passwords_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "secrets.toml").write_text(
        f'[windfarm]\nloader_password = "pw"\npseudonym_key = "{STRONG}"\n', encoding="utf-8"
    )
    monkeypatch.delenv("WINDFARM_PSEUDONYM_KEY", raising=False)
    settings = load_settings(tmp_path)
    assert settings.pseudonym_key == ""
    assert settings.loader_password == "pw"
    with pytest.raises(MissingKeyError, match="no longer read beside the database passwords"):
        keys.current_key(replace(settings, pseudonym_key_file=""), root=tmp_path)


def test_the_demo_key_gets_a_file_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created 0600 on the first demo; an earlier demo's key moves out of secrets.toml."""
    monkeypatch.delenv("WINDFARM_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("WINDFARM_PSEUDONYM_KEY_COMMAND", raising=False)
    key_file = tmp_path / "keys" / "pseudonym.key"
    monkeypatch.setenv("WINDFARM_PSEUDONYM_KEY_FILE", str(key_file))
    (tmp_path / ".dlt").mkdir()
    secrets_file = tmp_path / ".dlt" / "secrets.toml"
    secrets_file.write_text(
        f'[windfarm]\npseudonym_key = "{STRONG}"\nloader_password = ""\n', encoding="utf-8"
    )

    ensure_demo_key(tmp_path)

    assert key_file.read_text(encoding="utf-8").strip() == STRONG
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "pseudonym_key" not in secrets_file.read_text(encoding="utf-8")
    assert "loader_password" in secrets_file.read_text(encoding="utf-8")
    ensure_demo_key(tmp_path)  # a second demo keeps the key
    assert key_file.read_text(encoding="utf-8").strip() == STRONG

    fresh = tmp_path / "fresh.key"
    monkeypatch.setenv("WINDFARM_PSEUDONYM_KEY_FILE", str(fresh))
    ensure_demo_key(tmp_path)
    assert keys.current_key(load_settings(tmp_path)) != STRONG  # a new random key


def test_previous_keys_are_read_by_the_keyring_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, older = secrets.token_hex(32), "a weak old key"
    previous = tmp_path / "previous"
    previous.write_text(f"# rotated 2025-01\n{older}\n", encoding="utf-8")
    monkeypatch.setenv(keys.PREVIOUS_KEYS_VARIABLE, old)
    settings = replace(
        no_key(tmp_path), pseudonym_key=STRONG, pseudonym_previous_keys_file=str(previous)
    )
    assert keys.pseudonymiser(settings).key_id == Pseudonymiser(STRONG).key_id
    ring = [p.key_id for p in keys.keyring(settings)]
    assert ring == [Pseudonymiser(k).key_id for k in (STRONG, old, older)]
    assert not hasattr(settings, "pseudonym_previous_keys")  # a run's settings hold none


def test_accents_case_and_spaces_make_no_second_person() -> None:
    key = Pseudonymiser(STRONG)
    same = {
        key.token(v)
        for v in ("Léa Fontaine", "LEA  fontaine", "Le\u0301a Fontaine", " léa fontaine ")
    }
    assert len(same) == 1
    assert key.token("Léo Fontaine") not in same
    legacy = key.token("Léa Fontaine", normaliser=normalise_before_accent_folding)
    assert legacy not in same  # why existing tokens need the migration
