"""The alert hook: tell someone when a nightly run did not succeed, since nobody watches it.

Two ways, both optional and both fed the same JSON summary of the run: a command
(`alert_command`, e.g. a script that mails or pages; the summary on its stdin and the main
facts in WINDFARM_ALERT_* variables) and a webhook (`alert_webhook_url`, POSTed the JSON).
An alert that cannot be delivered is logged but never changes the run's exit code: the
exit code is the run's own outcome, and cron/systemd see it too.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
from typing import Any
from urllib.parse import urlsplit

import requests

from loaders import logs
from loaders.settings import SECRET_NAMES, Settings, mask_url_password

COMMAND_TIMEOUT_SECONDS = 60
WEBHOOK_TIMEOUT_SECONDS = 15


def wanted(settings: Settings, status: str) -> bool:
    outcomes = {part.strip() for part in settings.alert_on.split(",") if part.strip()}
    return status in outcomes and bool(settings.alert_command or settings.alert_webhook_url)


def headline(summary: dict[str, Any]) -> str:
    """One line for a pager or a mail subject."""
    errors = summary.get("errors") or {}
    first = "; ".join(f"{name}: {text}" for name, text in list(errors.items())[:2])
    dates = f"{summary.get('date_from')}..{summary.get('date_to')}"
    return (
        f"windfarm-elt {summary.get('status')} (exit {summary.get('exit_code')}) on "
        f"{summary.get('host')}, database {summary.get('database')}, days {dates}"
        + (f": {first}" if first else "")
    )[:500]


# Variables the alert command never receives, whatever their value: credentials by name.
_SECRET_VARIABLE = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|(^|_)(PASS|KEYS?|API_?KEY|DSN|PGPASSFILE)(_|$)",
    re.IGNORECASE,
)


def _withheld(name: str, value: str, secrets: list[str]) -> bool:
    """True for a variable that is, names or holds a secret: the project's secret settings,
    anything named like a credential, any value holding a configured secret or a URL with
    a password (e.g. WINDFARM_SENSOR_DB_URL, whose password is no setting of its own)."""
    return (
        name.startswith("WINDFARM_") and name.removeprefix("WINDFARM_").lower() in SECRET_NAMES
    ) or (
        bool(_SECRET_VARIABLE.search(name))
        or any(secret in value for secret in secrets)
        or mask_url_password(value) != value
    )


def _command_environment(settings: Settings, summary: dict[str, Any]) -> dict[str, str]:
    """The caller's environment minus anything secret (`_withheld`), plus the alert's facts."""
    secrets = logs.secret_values(settings)
    environment = {
        name: value for name, value in os.environ.items() if not _withheld(name, value, secrets)
    }
    environment.update(
        {
            "WINDFARM_ALERT_STATUS": str(summary.get("status")),
            "WINDFARM_ALERT_EXIT_CODE": str(summary.get("exit_code")),
            "WINDFARM_ALERT_RUN_ID": str(summary.get("run_id") or ""),
            "WINDFARM_ALERT_DATABASE": str(summary.get("database")),
            "WINDFARM_ALERT_HEADLINE": headline(summary),
        }
    )
    return environment


def send(settings: Settings, summary: dict[str, Any]) -> list[str]:
    """Deliver the alert if the outcome calls for one; returns the delivery problems."""
    if not wanted(settings, str(summary.get("status"))):
        return []
    summary = {"host": socket.gethostname(), "database": settings.database, **summary}
    secrets = logs.secret_values(settings)
    payload = logs.mask(json.dumps(summary, default=str, sort_keys=True), secrets)
    problems: list[str] = []
    if settings.alert_command:
        environment = _command_environment(settings, json.loads(payload))
        problems += _run_command(settings.alert_command, payload, environment)
    if settings.alert_webhook_url:
        problems += _post(settings.alert_webhook_url, payload)
    for problem in problems:
        logs.event("alert", f"could not deliver the alert: {problem}", level="error")
    if not problems:
        logs.event("alert", f"alert sent: {headline(json.loads(payload))}", level="warning")
    return problems


def _run_command(command: str, payload: str, environment: dict[str, str]) -> list[str]:
    """The command is split like a shell would, but no shell runs: nothing in the summary can
    be interpreted as shell syntax (wrap it in `sh -c '…'` to pipe)."""
    try:
        completed = subprocess.run(
            shlex.split(command),
            input=payload,
            text=True,
            capture_output=True,
            env=environment,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, ValueError, subprocess.SubprocessError) as error:
        return [f"alert command {shlex.split(command)[0]!r}: {type(error).__name__}: {error}"]
    if completed.returncode != 0:
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-1:]
        return [
            f"alert command {shlex.split(command)[0]!r} exited {completed.returncode}"
            + (f": {tail[0][:300]}" if tail else "")
        ]
    return []


def _post(url: str, payload: str) -> list[str]:
    """POST the summary; only the host is ever logged (the URL may hold a token)."""
    host = urlsplit(url).hostname or "?"
    try:
        response = requests.post(
            url,
            data=payload.encode("utf-8"),
            headers={"Content-Type": "application/json"},
            timeout=WEBHOOK_TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        return [f"webhook on {host}: {type(error).__name__}"]
    if response.status_code >= 300:
        return [f"webhook on {host}: HTTP {response.status_code}"]
    return []
