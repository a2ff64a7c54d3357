"""The loaders CLI as a user runs it: `python -m loaders ...` in a process of its own,
configured by WINDFARM_* variables (as cron's environment file sets them).

One helper for every test module (they each had their own copy of the environment and the
`subprocess.run`). The variables are built from a Settings, every field; the inherited
environment keeps its PATH, HOME, ... but no WINDFARM_* of the shell running the tests.
tests/ is on pytest's pythonpath (pyproject.toml)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields

from loaders.settings import PROJECT_ROOT, Settings

NO_LOG_FILE = {"WINDFARM_LOG_DIR": ""}
"""An extra variable for a command whose log file the test does not want."""


def settings_variables(settings: Settings) -> dict[str, str]:
    """Every setting as the WINDFARM_* variable that sets it (and nothing else)."""
    return {f"WINDFARM_{f.name.upper()}": str(getattr(settings, f.name)) for f in fields(settings)}


def settings_environment(settings: Settings, **overrides: str) -> dict[str, str]:
    """A process's environment for these settings: the inherited one without its WINDFARM_*
    variables, every setting's variable, then `overrides` (variable names, as given)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("WINDFARM_")}
    return {**inherited, **settings_variables(settings), **overrides}


def loaders_command(
    settings: Settings,
    *arguments: str,
    timeout: float = 120,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m loaders *arguments` from the project root; its output captured as text,
    its exit code not checked (the tests assert it)."""
    return subprocess.run(
        [sys.executable, "-m", "loaders", *arguments],
        cwd=PROJECT_ROOT,
        env=settings_environment(settings, **(extra_env or {})),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
