"""The security checks of `make lint`: bandit's rules in ruff, the dependency audit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from loaders.settings import PROJECT_ROOT

VENV_BIN = Path(sys.executable).parent


def test_ruff_flags_a_shell_command_and_sql_built_from_text(tmp_path: Path) -> None:
    """The project's ruff configuration (pyproject.toml) has the security rules on."""
    module = tmp_path / "loaders" / "risky.py"
    module.parent.mkdir()
    module.write_text(
        "import subprocess\n\n\n"
        "def f(name: str, cursor) -> None:\n"
        "    subprocess.run(f'ls {name}', shell=True)\n"
        "    cursor.execute(f\"select * from t where name = '{name}'\")\n",
        encoding="utf-8",
    )
    completed = subprocess.run(
        [
            str(VENV_BIN / "ruff"),
            "check",
            "--config",
            str(PROJECT_ROOT / "pyproject.toml"),
            "--output-format",
            "concise",
            str(module),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert "S602" in completed.stdout and "S608" in completed.stdout


def test_the_dependency_audit_says_it_skipped_when_offline() -> None:
    """No network: a clear SKIPPED line and exit 0, so that `make lint` still runs."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens once the socket is closed
    environment = {
        **os.environ,
        "HTTPS_PROXY": f"http://127.0.0.1:{port}",
        "https_proxy": f"http://127.0.0.1:{port}",
        "NO_PROXY": "",
        "no_proxy": "",
    }
    completed = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "security" / "audit_dependencies.py")],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("SKIPPED dependency audit: https://pypi.org")
