"""The quality page written after every run (placeholder until the full page lands)."""

from __future__ import annotations

from pathlib import Path

from loaders.settings import Settings


def write_report(settings: Settings, run_id: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<html><body><h1>Run {run_id}</h1></body></html>", encoding="utf-8")
    return path
