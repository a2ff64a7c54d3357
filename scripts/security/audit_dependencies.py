"""Known vulnerabilities in the installed dependencies (ISO 27001 A.8.8), for `make lint`.

    .venv/bin/python scripts/security/audit_dependencies.py

Runs `pip-audit` on the virtualenv (the project itself, installed editable, skipped). It
asks PyPI's advisory service, so it needs the network: offline (no answer from the index
within a few seconds) it prints SKIPPED and why, and exits 0, so that `make lint` still
runs on a machine without internet; CI, which has it, gets the real verdict.
Exit codes: pip-audit's (0 nothing known, 1 vulnerabilities listed), 0 when skipped.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

ADVISORY_SERVICE = "https://pypi.org/pypi/pip/json"
TIMEOUT_S = 5


def online() -> str:
    """'' when the advisory service answers, else why not."""
    try:
        requests.head(ADVISORY_SERVICE, timeout=TIMEOUT_S, allow_redirects=True)
    except requests.RequestException as error:
        return f"{type(error).__name__}: {error}"
    return ""


def main() -> int:
    offline = online()
    if offline:
        print(f"SKIPPED dependency audit: {ADVISORY_SERVICE} does not answer ({offline[:200]})")
        return 0
    pip_audit = Path(sys.executable).with_name("pip-audit")
    command = [str(pip_audit), "--skip-editable", "--progress-spinner", "off"]
    return subprocess.run(command, check=False).returncode  # noqa: S603 - fixed arguments


if __name__ == "__main__":
    sys.exit(main())
