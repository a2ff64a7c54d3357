"""Every setting of the pipeline, read in one place.

A setting comes from the environment first (`WINDFARM_<NAME>`), then from
`.dlt/secrets.toml` or `.dlt/config.toml` (section `[windfarm]`, key `<name>` in lower
case), then from the default below. Secrets never have a default that works outside the
demo; they are never printed (see `Settings.describe`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"
DEMO_DIR = VAR_DIR / "demo"

LOADER_ROLE = "windfarm_loader"
TRANSFORMER_ROLE = "windfarm_transformer"
ANALYST_ROLE = "windfarm_analyst"

SECRET_NAMES = frozenset(
    {
        "admin_password",
        "loader_password",
        "transformer_password",
        "analyst_password",
        "pseudonym_key",
        "weather_api_key",
    }
)


def _toml_section(path: Path) -> dict[str, object]:
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        section = tomllib.load(handle).get("windfarm", {})
    return section if isinstance(section, dict) else {}


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of one run; built by `load_settings()`."""

    pghost: str = "127.0.0.1"
    pgport: int = 5432
    database: str = "windfarm"
    pgsslmode: str = "prefer"
    admin_user: str = "postgres"
    admin_password: str = ""
    loader_user: str = LOADER_ROLE
    loader_password: str = ""
    transformer_user: str = TRANSFORMER_ROLE
    transformer_password: str = ""
    analyst_user: str = ANALYST_ROLE
    analyst_password: str = ""
    pseudonym_key: str = ""
    sensor_db_url: str = f"sqlite:///{DEMO_DIR / 'sources' / 'sensor.db'}"
    sensor_mapping: str = str(
        PROJECT_ROOT / "loaders" / "sources" / "sensor_db" / "mappings" / "demo_park.csv"
    )
    sensor_table: str = "scada_10min"
    sensor_lookback_days: int = 3
    csv_inbox: str = str(DEMO_DIR / "inbox")
    weather_base_url: str = "https://archive-api.open-meteo.com/v1"
    weather_api_key: str = ""
    reports_dir: str = str(PROJECT_ROOT / "reports")
    dlt_dir: str = str(VAR_DIR / "dlt")
    dbt_project_dir: str = str(PROJECT_ROOT / "dbt_project")
    dbt_target_dir: str = str(PROJECT_ROOT / "dbt_project" / "target")

    def dsn(self, role: str, database: str | None = None) -> str:
        """A libpq connection string for `admin`, `loader`, `transformer` or `analyst`."""
        user = getattr(self, f"{role}_user")
        password = getattr(self, f"{role}_password")
        database = database or self.database
        parts = [
            f"host={self.pghost}",
            f"port={self.pgport}",
            f"dbname={database}",
            f"user={user}",
            f"sslmode={self.pgsslmode}",
            "connect_timeout=10",
        ]
        if password:
            parts.append(f"password={password}")
        return " ".join(parts)

    def sqlalchemy_url(self, role: str) -> str:
        """The same connection as `dsn`, in the URL form dlt and SQLAlchemy take."""
        from urllib.parse import quote

        user = quote(getattr(self, f"{role}_user"), safe="")
        password = getattr(self, f"{role}_password")
        auth = f"{user}:{quote(password, safe='')}" if password else user
        return (
            f"postgresql://{auth}@{self.pghost}:{self.pgport}/{quote(self.database)}"
            f"?sslmode={self.pgsslmode}&connect_timeout=10"
        )

    def dbt_env(self) -> dict[str, str]:
        """Environment variables that `dbt_project/profiles.yml` reads."""
        return {
            "WINDFARM_PGHOST": self.pghost,
            "WINDFARM_PGPORT": str(self.pgport),
            "WINDFARM_DATABASE": self.database,
            "WINDFARM_PGSSLMODE": self.pgsslmode,
            "WINDFARM_TRANSFORMER_USER": self.transformer_user,
            "WINDFARM_TRANSFORMER_PASSWORD": self.transformer_password,
        }

    def describe(self) -> dict[str, str]:
        """The settings as text, secrets masked: what logs and reports may show."""
        shown = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name in SECRET_NAMES:
                value = "***" if value else "(not set)"
            shown[field.name] = str(value)
        return shown


def load_settings(root: Path = PROJECT_ROOT, **overrides: object) -> Settings:
    """Resolve every setting: overrides, then environment, then `.dlt/*.toml`, then default."""
    files = {
        **_toml_section(root / ".dlt" / "config.toml"),
        **_toml_section(root / ".dlt" / "secrets.toml"),
    }
    values: dict[str, object] = {}
    for field in fields(Settings):
        name = field.name
        if name in overrides:
            raw: object = overrides[name]
        elif f"WINDFARM_{name.upper()}" in os.environ:
            raw = os.environ[f"WINDFARM_{name.upper()}"]
        elif name in files:
            raw = files[name]
        else:
            continue
        values[name] = int(raw) if field.type in ("int", int) else str(raw)
    return Settings(**values)  # type: ignore[arg-type]
