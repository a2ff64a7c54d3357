"""Elementary's report (`edr report`) in the run's report folder, when Elementary is there.

Elementary is a dbt package: it can only be installed by `dbt deps` from the dbt hub,
which not every machine running this pipeline can reach. So the main dbt project does
not depend on it (it builds offline), and `dbt_project/monitoring/` is the dbt project
that does: it builds the same models plus Elementary's, and its monitors are the tests
written inline in the main project's YAML, enabled there by `elementary_enabled: true`.
See docs/quality.md for the whole layout.

`make install` installs the packages when the hub answers (`install`). Once they are
there, a run builds the monitoring project, its monitors judged at the run's own days
(`build`, `monitor_vars`). After each run this module looks for the package in the
monitoring project's `dbt_packages/`. When it is missing, it says so in one line and the
run carries on; our quality page says the same in one sentence. When it is there, it
runs `edr report` into the run's folder, quietly: no usage tracking (`DO_NOT_TRACK=1`, an
edr config with `anonymous_usage_tracking: false`), no version check against PyPI, and
no `dbt deps` (edr would otherwise try the hub and empty its package folder when it
cannot reach it).

edr reads its config from `~/.edr/config.yml` before it parses its options (the version
check runs at import time), so `--config-dir` alone is not enough: edr runs with `HOME`
set to a folder of ours holding `.edr/config.yml`, beside the run's dbt target folder.
The page it writes is then made private and tidy (`tidy_report`).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests

from loaders import logs
from loaders.settings import PROJECT_ROOT, Settings
from loaders.transform import dbt, monitoring_project
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
# Elementary's default detection period (days), and the days of history before it that
# the anomaly tests learn from (Elementary's default training period: 14 days).
DETECTION_MIN_DAYS = 2
TRAINING_DAYS = 14
# `dbt deps` asks the hub first: a machine without it is told in seconds, not minutes.
HUB_URL = "https://hub.getdbt.com/api/v1/index.json"
HUB_TIMEOUT_S = 5
DEPS_TIMEOUT_S = 300


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
    """The monitoring dbt project, as an absolute path (edr runs from another folder): the
    run's own project when it declares Elementary (WINDFARM_DBT_PROJECT_DIR pointed at it),
    else `<dbt project>/monitoring`. A relative setting is read from the current folder,
    as dbt reads it. Its dbt_project.yml is (re)written from the main project's here, so
    that every use sees the main project's current settings (monitoring_project)."""
    project = Path(settings.dbt_project_dir).absolute()
    monitoring = project if declares_elementary(project) else project / MONITORING
    monitoring_project.write(monitoring.parent, monitoring)
    return monitoring


def package_installed(monitoring: Path) -> bool:
    """`dbt deps` has put the Elementary package in the monitoring project."""
    return (monitoring / "dbt_packages" / PACKAGE / "dbt_project.yml").is_file()


def build_settings(settings: Settings) -> Settings:
    """The settings of the run's `dbt build`: the monitoring project once Elementary is
    installed in it (it builds the same models, plus Elementary's and the monitors), else
    the project of the settings unchanged."""
    monitoring = monitoring_dir(settings)
    if package_installed(monitoring):
        return replace(settings, dbt_project_dir=str(monitoring))
    return settings


def monitor_vars(date_from: date, date_to: date, now: datetime | None = None) -> dict:
    """Elementary's vars that judge the days [date_from, date_to] at their own data time.

    Elementary's anomaly tests count their windows back from the run's start
    (`custom_run_started_at` replaces it): the detection period (`backfill_days`) and the
    training period before it (`days_back`). Anchored on the end of the last day loaded
    (never later than now: a day still going is not judged half-full), the detection
    period covers every day of the run (two at least, Elementary's default), within a
    training period of DETECTION_MIN_DAYS + TRAINING_DAYS days at least. A run of many
    days is not given more days before them: they would be empty in a new warehouse, and
    Elementary counts an empty day as a day of zero rows. A month loaded today is then
    judged as it would have been the day after, not as thirteen months of silence.
    """
    now = now or datetime.now(UTC)
    end = min(datetime.combine(date_to + timedelta(days=1), datetime.min.time(), UTC), now)
    detection_days = max(DETECTION_MIN_DAYS, (end.date() - date_from).days)
    return {
        "custom_run_started_at": end.replace(microsecond=0, tzinfo=None).isoformat(),
        "backfill_days": detection_days,
        "days_back": max(detection_days, DETECTION_MIN_DAYS + TRAINING_DAYS),
    }


def build(settings: Settings, date_from: date, date_to: date, *extra: str) -> dbt.DbtOutcome:
    """The run's `dbt build` of the days [date_from, date_to]: with Elementary's monitors,
    judged at the days' own time, when Elementary is installed; the main project alone
    otherwise. The big tables' tests then check the monitors' days too: a monitor reads
    its table through the same test window (macro get_where_subquery)."""
    build_with = build_settings(settings)
    if build_with is settings:
        return dbt.build(settings, *extra)
    variables = monitor_vars(date_from, date_to)
    start = date.fromisoformat(variables["custom_run_started_at"][:10])
    first_day = start - timedelta(days=variables["days_back"])
    return dbt.build(
        build_with, *extra, variables=variables, tests_from_at_most=first_day.isoformat()
    )


def hub_answers(url: str = HUB_URL, timeout: float = HUB_TIMEOUT_S) -> str | None:
    """None when the dbt hub answers within `timeout` seconds, else why not."""
    try:
        response = requests.get(url, timeout=timeout)
    except requests.RequestException as error:
        return f"{type(error).__name__}"
    return None if response.ok else f"HTTP {response.status_code}"


def install(settings: Settings, hub_url: str = HUB_URL) -> str:
    """`dbt deps` for the monitoring project and for edr's own dbt project, when they are
    not installed and the dbt hub answers: what `make install` and `make demo` run.

    Returns `present`, `installed`, `unreachable` or `failed`, and prints one line
    (`unreachable`: the runs go on without Elementary, and say so in their own line).
    """
    monitoring = monitoring_dir(settings)
    internal = edr_internal_packages()
    projects = []
    if not package_installed(monitoring):
        projects.append(monitoring)
    if internal is not None and not (internal / PACKAGE).is_dir():
        projects.append(internal.parent)
    if not projects:
        logs.event("elementary", f"packages already installed in {shown_path(monitoring)}")
        return "present"
    why = hub_answers(hub_url)
    if why is not None:
        logs.event(
            "elementary",
            f"the dbt hub did not answer ({why} within {HUB_TIMEOUT_S} s): Elementary "
            "is not installed, so runs build without its monitors and report; run `make "
            "install` again where the hub is reachable (docs/quality.md)",
            level="warning",
        )
        return "unreachable"
    for project in projects:
        completed = subprocess.run(
            [
                dbt.dbt_executable(),
                "deps",
                "--project-dir",
                str(project),
                "--profiles-dir",
                str(monitoring),
            ],
            env=dbt_environment(settings),
            capture_output=True,
            text=True,
            timeout=DEPS_TIMEOUT_S,
            check=False,
        )
        if completed.returncode != 0:
            logs.event(
                "elementary",
                f"`dbt deps` failed in {shown_path(project)}: "
                f"{_last_line(completed.stdout + completed.stderr)}",
                level="error",
            )
            return "failed"
    logs.event("elementary", f"packages installed in {shown_path(monitoring)}/dbt_packages")
    return "installed"


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
            "edr's own dbt packages are not installed — run `make install` "
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
    tidy_report(report_path)
    return ElementaryOutcome(
        "written",
        f"report written to {shown_path(report_path)} in {seconds:.0f} s",
        report_file=REPORT,
        seconds=seconds,
    )


# The report's <link> tags that would ask something of the network (Google's web fonts
# and their preconnects) or of a file edr does not write (its favicon): the page uses the
# browser's own fonts instead, and asks nothing of anyone.
_REMOTE_LINK = re.compile(r"<link\b[^>]*?(?:https?://|favicon)[^>]*>\s*", re.DOTALL)
# The report's code asks Elementary's cloud API for the signed-in account even in the
# open-source report, at `${window.VITE_API_BASE_URL}/account/`: undefined there, so a
# request for a file `undefined/account/` that fails. An inert data: URL answers `null`
# without any request.
_NO_CLOUD_API = '<script>window.VITE_API_BASE_URL = "data:application/json,null#";</script>\n'
_REPORT_DATA = re.compile(r"JSON\.parse\(atob\('([A-Za-z0-9+/=]*)'\)\)")


def tidy_report(path: Path) -> None:
    """Make edr's page private and its asset tree read as the repository.

    - remote fonts, preconnects and the missing favicon removed (_REMOTE_LINK), and no
      call to Elementary's cloud API (_NO_CLOUD_API);
    - the paths the asset tree is drawn from normalised: the monitoring project reads the
      main project's folders through `..`, which edr shows as a folder named `..`.
    """
    html = path.read_text(encoding="utf-8")
    head, marker, body = html.partition("</head>")
    html = _REMOTE_LINK.sub("", head) + marker + body if marker else html
    html = _NO_CLOUD_API + html
    found = _REPORT_DATA.search(html)
    if found:
        data = json.loads(base64.b64decode(found.group(1)))
        _normalise_paths(data)
        encoded = base64.b64encode(json.dumps(data).encode("utf-8")).decode("ascii")
        html = html[: found.start(1)] + encoded + html[found.end(1) :]
    path.write_text(html, encoding="utf-8")


def _normalise_paths(value: object) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "normalized_full_path" and isinstance(item, str):
                value[key] = posixpath.normpath(item)
            else:
                _normalise_paths(item)
    elif isinstance(value, list):
        for item in value:
            _normalise_paths(item)
