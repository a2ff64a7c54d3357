"""Secrets stay secret: a whole run with known secret values, then a search for them in
everything the run printed or wrote.

Its own database and demo park (three days, one day run). The server trusts loopback
connections, so the role passwords are accepted and ignored there; bootstrap still sets
them (as SCRAM verifiers computed client-side) and the test restores the roles' previous
verifiers afterwards, as roles are shared by every database of the server.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields, replace
from datetime import date
from pathlib import Path

import pytest
from cli import settings_variables

from loaders import warehouse
from loaders.demo_park import generate, serve_in_background
from loaders.privacy import leakscan
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import PROJECT_ROOT, SECRET_NAMES, Settings

ROLES = ("loader", "transformer", "analyst", "quality_reader")
SERVER_LOGS = Path("/var/log/postgresql")


@pytest.fixture(scope="module")
def secret_run(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, dict[str, str], str]]:
    """(settings with secrets, the secret values by name, what the run printed).

    The run is the command cron calls, `python -m loaders run`, configured the way
    production is: every setting, secrets included, from WINDFARM_* variables."""
    work = tmp_path_factory.mktemp("secrets")
    secret_fields = SECRET_NAMES & {field.name for field in fields(Settings)}
    values = {name: f"{name[:6]}-{secrets.token_hex(12)}" for name in secret_fields}
    values["pseudonym_key"] = secrets.token_hex(32)  # runs refuse a weak key
    values["admin_password"] = ""  # `run` never uses the administrator
    for name in values:  # secrets that are addresses (a webhook URL) would be called
        if not name.endswith(("_password", "_key", "_secret")):
            values[name] = ""
    own = replace(
        settings,
        database=f"windfarm_secrets_{secrets.token_hex(4)}",
        dlt_dir=str(work / "dlt"),
        csv_inbox=str(work / "demo" / "inbox"),
        sensor_db_url=f"sqlite:///{work / 'demo' / 'sources' / 'sensor.db'}",
        reports_dir=str(work / "reports"),
        dbt_target_dir=str(work / "dbt_target"),
        log_dir=str(work / "log"),
        **values,
    )
    if hasattr(own, "weather_api_key_param"):  # the riskier way: the key in the query string
        own = replace(own, weather_api_key_param="apikey")
    if hasattr(own, "dbt_build_args"):  # every model, not the data tests: they hold no secret
        own = replace(own, dbt_build_args="--exclude resource_type:test")
    generate(work / "demo", date(2025, 10, 1), date(2025, 10, 3), seed=7)
    previous = _verifiers(own)
    warehouse.bootstrap(own)
    try:
        with serve_in_background(work / "demo" / "weather") as server:
            own = replace(own, weather_base_url=server.base_url)
            environment = {
                **os.environ,
                **settings_variables(own),
            }
            completed = subprocess.run(
                [sys.executable, "-m", "loaders", "run", "--date", "2025-10-02"],
                cwd=PROJECT_ROOT,
                env=environment,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
        printed = completed.stdout + completed.stderr
        assert completed.returncode in (0, 2), printed[-3000:]
        yield own, {name: value for name, value in values.items() if value}, printed
    finally:
        _restore_verifiers(own, previous)
        warehouse.drop_database(own)


def _verifiers(settings: Settings) -> dict[str, str | None]:
    connection = warehouse.connect(settings, "admin", "postgres")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select rolname, rolpassword from pg_authid where rolname = any(%s)",
                ([getattr(settings, f"{role}_user") for role in ROLES],),
            )
            return dict(cursor.fetchall())
    finally:
        connection.close()


def _restore_verifiers(settings: Settings, previous: dict[str, str | None]) -> None:
    from psycopg2 import sql

    connection = warehouse.connect(settings, "admin", "postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for role, verifier in previous.items():
                cursor.execute(
                    sql.SQL("alter role {} password %s").format(sql.Identifier(role)), (verifier,)
                )
    finally:
        connection.close()


def test_the_search_finds_a_secret_where_there_is_one(secret_run, tmp_path: Path) -> None:  # noqa: ANN001
    """Positive control: the same search, on a file that does hold a secret."""
    _, values, _ = secret_run
    planted = tmp_path / "planted.txt"
    planted.write_text(f"key={values['pseudonym_key']}\n", encoding="utf-8")
    assert leakscan.scan_paths([planted], values.values()) == [
        leakscan.Finding(str(planted), values["pseudonym_key"])
    ]


def test_no_secret_in_what_the_run_printed(secret_run) -> None:  # noqa: ANN001
    _, values, printed = secret_run
    assert "[run]" in printed and "dbt build" in printed  # the run's output, really
    assert leakscan.scan_text(printed, values.values(), "stdout/stderr") == []


def test_no_secret_in_the_files_the_run_wrote(secret_run) -> None:  # noqa: ANN001
    settings, values, _ = secret_run
    written = [
        Path(settings.reports_dir),
        Path(settings.dbt_target_dir),
        Path(settings.dlt_dir),
        Path(settings.log_dir),
        PROJECT_ROOT / "dbt_project" / "logs",
    ]
    existing = [path for path in written if path.exists()]
    assert Path(settings.reports_dir) in existing and Path(settings.dlt_dir) in existing
    assert leakscan.scan_paths(existing, values.values()) == []


def test_no_secret_in_the_database_or_its_dump(secret_run, tmp_path: Path) -> None:  # noqa: ANN001
    settings, values, _ = secret_run
    assert leakscan.scan_database(settings, values.values()) == []
    dump = leakscan.plain_dump(settings, tmp_path / "dump.sql")
    assert leakscan.scan_paths([dump], values.values()) == []


def test_passwords_reach_the_server_only_as_scram_verifiers(secret_run) -> None:  # noqa: ANN001
    settings, values, _ = secret_run
    stored = _verifiers(settings)
    for role in ROLES:
        verifier = stored[getattr(settings, f"{role}_user")]
        assert verifier.startswith("SCRAM-SHA-256$")
        assert values[f"{role}_password"] not in verifier
    logs = [path for path in SERVER_LOGS.glob("*.log") if path.is_file()]
    readable = [path for path in logs if _readable(path)]
    assert leakscan.scan_paths(readable, values.values()) == []


def test_settings_and_pseudonymiser_never_show_a_secret(secret_run) -> None:  # noqa: ANN001
    settings, values, _ = secret_run
    shown = repr(settings) + repr(Pseudonymiser(settings.pseudonym_key))
    assert leakscan.scan_text(shown, values.values(), "describe") == []
    assert settings.describe()["pseudonym_key"] == "***"


def _readable(path: Path) -> bool:
    try:
        with path.open("rb"):
            return True
    except OSError:
        return False
