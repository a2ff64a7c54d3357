"""Elementary's report (`edr report`) in the run's report folder, when Elementary is there.

Elementary is a dbt package: it can only be installed by `dbt deps` from the dbt hub,
which not every machine running this pipeline can reach. So the main dbt project does
not depend on it (it builds offline), and `dbt_project/monitoring/` is the dbt project
that does: it builds the same models plus Elementary's, and its monitors are the tests
written inline in the main project's YAML, enabled there by `elementary_enabled: true`.
See docs/quality.md for the whole layout.

After each run this module looks for the package in the monitoring project's
`dbt_packages/`. When it is missing, it says so in one line and the run carries on; our
quality page says the same in one sentence. When it is there, it runs `edr report` into
the run's folder, quietly: no usage tracking (`DO_NOT_TRACK=1`, an edr config with
`anonymous_usage_tracking: false`), no version check against PyPI, and no `dbt deps`
(edr would otherwise try the hub and empty its package folder when it cannot reach it).

edr reads its config from `~/.edr/config.yml` before it parses its options (the version
check runs at import time), so `--config-dir` alone is not enough: edr runs with `HOME`
set to a folder of ours holding `.edr/config.yml`, beside the run's dbt target folder.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from loaders import logs
from loaders.settings import PROJECT_ROOT, Settings
from loaders.transform.dbt import dbt_environment

MONITORING = "monitoring"
PACKAGE = "elementary"
PACKAGE_ID = "elementary-data/elementary"
REPORT = "elementary_report.html"
EDR_TIMEOUT_S = 900
EDR_CONFIG: dict[str, bool] = {
    "anonymous_usage_tracking": False,
    "disable_elementary_version_check": True,
    "run_dbt_deps_if_needed": False,
    "disable_elementary_logo_print": True,
}
PREFIX = "[elementary]"
_LEVELS = {"written": "info", "absent": "warning", "failed": "error"}  # by outcome status


@dataclass(frozen=True)
class ElementaryOutcome:
    """What the Elementary step did: `written`, `absent` (not installed) or `failed`."""

    status: str
    message: str  # one sentence, for the run's output and the page
    report_file: str | None = None  # the report's file name in the run folder
    seconds: float | None = None

    @property
    def line(self) -> str:
        return f"{PREFIX} {self.message}"


def shown_path(path: Path) -> str:
    """A path as people type it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def declares_elementary(project: Path) -> bool:
    """True when the dbt project's packages.yml lists the Elementary package."""
    try:
        return PACKAGE_ID in (project / "packages.yml").read_text(encoding="utf-8")
    except OSError:
        return False


def monitoring_dir(settings: Settings) -> Path:
    """The monitoring dbt project: the run's own project when it declares Elementary
    (WINDFARM_DBT_PROJECT_DIR pointed at it), else `<dbt project>/monitoring`."""
    project = Path(settings.dbt_project_dir)
    return project if declares_elementary(project) else project / MONITORING


def package_installed(monitoring: Path) -> bool:
    """`dbt deps` has put the Elementary package in the monitoring project."""
    return (monitoring / "dbt_packages" / PACKAGE / "dbt_project.yml").is_file()


def edr_executable() -> str | None:
    beside_python = Path(sys.executable).parent / "edr"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("edr")


def edr_internal_packages() -> Path | None:
    """Where edr keeps the dbt packages of its own internal dbt project, or None when the
    `elementary` Python package (elementary-data) is not importable."""
    spec = importlib.util.find_spec("elementary")
    if spec is None or not spec.submodule_search_locations:
        return None
    internal = Path(next(iter(spec.submodule_search_locations))) / "monitor" / "dbt_project"
    return internal / os.environ.get("DBT_PACKAGES_FOLDER", "dbt_packages")


def edr_home(settings: Settings) -> Path:
    """The folder edr runs in as HOME: its config, logs and target, never the user's."""
    return Path(settings.dbt_target_dir) / "edr"


def write_config(home: Path) -> Path:
    """`<home>/.edr/config.yml` with the quiet settings (plain YAML booleans)."""
    config = home / ".edr" / "config.yml"
    config.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{key}: {str(value).lower()}\n" for key, value in EDR_CONFIG.items())
    config.write_text(
        "# Written by loaders.reports.elementary: edr stays offline and quiet.\n" + text,
        encoding="utf-8",
    )
    return config


def edr_environment(settings: Settings, home: Path) -> dict[str, str]:
    """dbt's environment for the run (connection variables, no tracking), HOME = `home`."""
    return {**dbt_environment(settings), "HOME": str(home), "DO_NOT_TRACK": "1"}


def edr_command(executable: str, monitoring: Path, home: Path, report: Path) -> list[str]:
    """`edr report` on the monitoring project, written to `report`.

    Samples of failing rows are off: test samples could show pseudonymised personal data
    (raw rejected lines), and the page is meant to travel.
    """
    return [
        executable,
        "report",
        "--project-dir",
        str(monitoring),
        "--profiles-dir",
        str(monitoring),
        "--config-dir",
        str(home / ".edr"),
        "--target-path",
        str(home / "edr_target"),
        "--file-path",
        str(report),
        "--open-browser",
        "false",
        "--disable-samples",
        "true",
        "--project-name",
        "windfarm",
    ]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def _absent(message: str) -> ElementaryOutcome:
    return ElementaryOutcome("absent", message + "; skipping the Elementary report")


def check(settings: Settings) -> ElementaryOutcome | None:
    """Why the Elementary report cannot be made on this machine, or None when it can."""
    monitoring = monitoring_dir(settings)
    if not package_installed(monitoring):
        return _absent(
            f"package not installed in {shown_path(monitoring)}/dbt_packages — run "
            f"`dbt deps --project-dir {shown_path(monitoring)}` where the dbt hub is reachable"
        )
    if edr_executable() is None:
        return _absent("edr (elementary-data) is not installed — `pip install -r requirements.txt`")
    internal = edr_internal_packages()
    if internal is None or not (internal / PACKAGE).is_dir():
        return _absent(
            "edr's own dbt packages are not installed — run `edr monitor dbt-init` once "
            "where the dbt hub is reachable"
        )
    return None


def report(settings: Settings, run_dir: Path) -> ElementaryOutcome:
    """Write `<run_dir>/elementary_report.html` with `edr report`, or say why not.

    Prints one line in every case; never raises for a missing or failing Elementary.
    """
    outcome = check(settings) or _run_edr(settings, run_dir)
    logs.event("elementary", outcome.message, level=_LEVELS.get(outcome.status, "warning"))
    return outcome


def _run_edr(settings: Settings, run_dir: Path) -> ElementaryOutcome:
    monitoring = monitoring_dir(settings)
    executable = edr_executable()
    assert executable is not None  # check() made sure
    if monitoring.resolve() != Path(settings.dbt_project_dir).resolve():
        logs.event(
            "elementary",
            f"this run built {shown_path(Path(settings.dbt_project_dir))}, so "
            "Elementary's monitors did not run; set WINDFARM_DBT_PROJECT_DIR="
            f"{shown_path(monitoring)} to run them with every build",
        )
    home = edr_home(settings)
    write_config(home)
    report_path = run_dir / REPORT
    started = time.monotonic()
    try:
        completed = subprocess.run(
            edr_command(executable, monitoring, home, report_path),
            env=edr_environment(settings, home),
            cwd=home,
            capture_output=True,
            text=True,
            timeout=EDR_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return ElementaryOutcome("failed", f"edr report did not finish: {error}")
    seconds = time.monotonic() - started
    (home / "edr_report.log").write_text(completed.stdout + completed.stderr, encoding="utf-8")
    if completed.returncode != 0 or not report_path.is_file():
        return ElementaryOutcome(
            "failed",
            f"edr report failed (exit {completed.returncode}): "
            f"{_last_line(completed.stderr or completed.stdout)} — log: "
            f"{shown_path(home / 'edr_report.log')}",
            seconds=seconds,
        )
    return ElementaryOutcome(
        "written",
        f"report written to {shown_path(report_path)} in {seconds:.0f} s",
        report_file=REPORT,
        seconds=seconds,
    )
