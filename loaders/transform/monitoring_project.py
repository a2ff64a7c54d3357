"""The monitoring dbt project's `dbt_project.yml`, derived from the main project's.

The monitoring project (`dbt_project/monitoring/`, docs/quality.md) builds the main
project's models plus Elementary's. dbt reads flags and vars from the root project only,
and the main project cannot be installed into it as a `local:` package (its seeds live
outside it), so the monitoring project needs the main project's settings as its own.
Rather than a second copy to keep equal by hand, its `dbt_project.yml` is written from
the main one (`write`), before anything uses the monitoring project: `make install`, each
run, `edr report`. The file is not tracked; its packages.yml, package-lock.yml and
profiles.yml are.

What differs from the main project, and why:
- paths one folder up (the monitoring project sits inside the main one);
- `elementary_enabled: true` (the monitors written inline in the main YAML run here);
- Elementary's own models in schema `elementary`;
- the flag Elementary's materializations need;
- `clean-targets` without `dbt_packages` (`dbt clean` must not remove an Elementary
  installed by hand where the hub cannot be reached).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

PATH_KEYS = (
    "model-paths",
    "analysis-paths",
    "test-paths",
    "seed-paths",
    "macro-paths",
    "snapshot-paths",
)
ELEMENTARY_FLAG = "require_explicit_package_overrides_for_builtin_materializations"
HEADER = (
    "# Written by loaders/transform/monitoring_project.py from ../dbt_project.yml (not\n"
    "# tracked, rewritten before each use): edit the main project's, never this one.\n"
)


class _PlainDumper(yaml.SafeDumper):
    """Writes shared values out in full: the main project's YAML anchors are read as
    shared objects, and aliases in a generated file would only puzzle its reader."""

    def ignore_aliases(self, data: Any) -> bool:  # noqa: ARG002 - the dumper's hook
        return True


def derive(main: dict[str, Any]) -> dict[str, Any]:
    """The monitoring project's settings from the main project's (parsed YAML)."""
    monitoring = dict(main)
    for key in PATH_KEYS:
        if key in main:
            monitoring[key] = [f"../{path}" for path in main[key]]
    monitoring["clean-targets"] = [t for t in main.get("clean-targets", []) if t != "dbt_packages"]
    monitoring["flags"] = {**main.get("flags", {}), ELEMENTARY_FLAG: False}
    monitoring["vars"] = {**main.get("vars", {}), "elementary_enabled": True}
    monitoring["models"] = {**main.get("models", {}), "elementary": {"+schema": "elementary"}}
    return monitoring


def render(main_project_file: Path) -> str:
    """The text of the monitoring project's dbt_project.yml."""
    main = yaml.safe_load(main_project_file.read_text(encoding="utf-8"))
    body = yaml.dump(derive(main), Dumper=_PlainDumper, sort_keys=False, allow_unicode=True)
    return HEADER + body


def write(main_dir: Path, monitoring_dir: Path) -> Path:
    """`<monitoring_dir>/dbt_project.yml` from `<main_dir>/dbt_project.yml`; the file is
    rewritten only when its text changes (dbt's partial parsing keys on it), and replaced
    in one step (a dbt started at the same moment by another run reads the old file or
    the new one, never half of one). Nothing is written where there is no main project to
    derive from."""
    target = monitoring_dir / "dbt_project.yml"
    if not (main_dir / "dbt_project.yml").is_file():
        return target
    text = render(main_dir / "dbt_project.yml")
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        monitoring_dir.mkdir(parents=True, exist_ok=True)
        fresh = target.with_name(f".{target.name}.{os.getpid()}")
        fresh.write_text(text, encoding="utf-8")
        os.replace(fresh, target)
    return target
