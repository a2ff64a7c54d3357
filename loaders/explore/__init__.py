"""The warehouse explorer (a Streamlit app, app.py) and how it is started.

`launch()` runs `streamlit run` on loopback with Streamlit's usage statistics off, so the
page and its server make no request outside the machine; the app reads the warehouse the
demo or the settings point at, as the analyst role (and the quality reader for the audit
trail), never as a role that can write."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from loaders import warehouse
from loaders.settings import Settings

APP = Path(__file__).with_name("app.py")
DEFAULT_PORT = 8501


def streamlit_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip


def environment(settings: Settings) -> dict[str, str]:
    """The app's process reads its settings like every command (WINDFARM_*): pass on the
    server the demo found (its private cluster, if it started one)."""
    return {
        **os.environ,
        "WINDFARM_PGHOST": settings.pghost,
        "WINDFARM_PGPORT": str(settings.pgport),
        "WINDFARM_DATABASE": settings.database,
    }


def launch(settings: Settings, port: int = DEFAULT_PORT) -> int:
    explicit = any(f"WINDFARM_{name}" in os.environ for name in ("PGHOST", "PGPORT"))
    settings = warehouse.find_server(settings, explicit=explicit)
    print(
        f"[explore] http://127.0.0.1:{port}  (warehouse {settings.database} on "
        f"{settings.pghost}:{settings.pgport}, read as the analyst role; Ctrl-C stops it)"
    )
    try:
        return subprocess.call(streamlit_command(port), env=environment(settings))
    except KeyboardInterrupt:
        return 0
