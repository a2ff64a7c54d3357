"""A description of the machine a benchmark ran on: what makes its seconds comparable."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from loaders import warehouse
from loaders.settings import Settings

_PG_SETTINGS = (
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "max_wal_size",
    "synchronous_commit",
    "max_parallel_workers_per_gather",
)


def _command(*argv: str) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""


def _cpu_model() -> str:
    for line in _command("lscpu").splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in _command("free", "-b").splitlines():
        if line.startswith("Mem:"):
            return round(int(line.split()[1]) / 2**30, 1)
    return 0.0


def describe(settings: Settings) -> dict[str, Any]:
    """CPU, memory, versions and the PostgreSQL settings that move the figures."""
    connection = warehouse.connect(settings, "admin", "postgres")
    try:
        with connection.cursor() as cursor:
            cursor.execute("select version()")
            version = cursor.fetchone()[0].split(" on ")[0]
            pg = {}
            for name in _PG_SETTINGS:
                cursor.execute(f"show {name}")
                pg[name] = cursor.fetchone()[0]
    finally:
        connection.close()
    packages = {}
    for name in ("dlt", "dbt-core", "dbt-postgres", "pandas", "pyarrow", "SQLAlchemy"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "absent"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": version,
        "postgresql_settings": pg,
        "postgresql_host": f"{settings.pghost}:{settings.pgport}",
        "packages": packages,
    }
