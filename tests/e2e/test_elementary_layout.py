"""Elementary's layout, checked as far as a machine without the dbt hub allows.

The Elementary dbt package cannot be installed here (no dbt hub), and no stand-in is
written for it. What is checked instead, with the real dbt and the real edr:
- the main project parses with every Elementary monitor present but disabled, and
  `dbt ls --vars '{elementary_enabled: true}'` lists them all;
- the monitoring project's settings are derived from the main project's and, parsed,
  it yields the same nodes in the same schemas plus the monitors, enabled;
- edr runs offline and quietly with the config the pipeline writes;
- without the package, a run says so in one line, the page says so, the run succeeds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import yaml

from loaders.reports import elementary, write_report
from loaders.settings import PROJECT_ROOT, load_settings
from loaders.transform import monitoring_project
from loaders.transform.dbt import dbt_environment, dbt_executable

MAIN = PROJECT_ROOT / "dbt_project"
MONITORING = MAIN / "monitoring"
DBT_TIMEOUT_S = 300
CRITICAL_SIGNALS = (
    "wind_speed",
    "active_power",
    "rotor_speed",
    "pitch_angle",
    "gearbox_oil_temp",
    "gearbox_bearing_temp",
    "generator_stator_temp",
    "ambient_temp",
)
LANDED_SOURCES = {
    "source.windfarm.scada.scada_measurements": "measured_at",
    "source.windfarm.weather.weather_hourly": "observed_at",
    "source.windfarm.production.production_daily": "production_date",
}
FACT = "model.windfarm.fct_turbine_measurements"


def expected_monitors() -> set[tuple[str, str, str | None]]:
    """(Elementary test, node it watches, column) for every monitor the issue asks for."""
    monitors: set[tuple[str, str, str | None]] = set()
    for source in LANDED_SOURCES:
        for test in ("volume_anomalies", "freshness_anomalies", "schema_changes"):
            monitors.add((test, source, None))
    monitors.add(("dimension_anomalies", FACT, None))  # volume per turbine-day
    for signal in CRITICAL_SIGNALS:
        monitors.add(("column_anomalies", FACT, f"{signal}_avg"))
    return monitors


def read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class DbtRun:
    """One dbt invocation started in the background: its process and where it writes."""

    process: subprocess.Popen
    target: Path

    def wait(self) -> str:
        """dbt's output, once it has finished successfully."""
        self.process.wait(timeout=DBT_TIMEOUT_S)
        output = (self.target / "output.txt").read_text(encoding="utf-8")
        assert self.process.returncode == 0, output[-4000:]
        return output

    def manifest(self) -> dict:
        self.wait()
        return json.loads((self.target / "manifest.json").read_text(encoding="utf-8"))


def start_dbt(project: Path, profiles: Path, target: Path, *args: str) -> DbtRun:
    """The real dbt on `project`, in the background (the three parses of this module run
    side by side); artifacts, logs and output in `target`, never in the repository."""
    target.mkdir(parents=True, exist_ok=True)
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(profiles),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
    ]
    with (target / "output.txt").open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            command,
            env=dbt_environment(load_settings()),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return DbtRun(process, target)


def monitoring_copy(root: Path) -> Path:
    """The monitoring project as it sits beside the main one, minus packages.yml: dbt
    refuses to parse a project whose listed packages are not installed, and the Elementary
    package cannot be installed here. The main project's folders are linked in, so the
    monitoring project's relative paths resolve as in the repository."""
    (root / "dbt_project" / "monitoring").mkdir(parents=True)
    os.symlink(PROJECT_ROOT / "seeds_csv", root / "seeds_csv")
    os.symlink(PROJECT_ROOT / "config", root / "config")
    for folder in ("models", "macros", "tests", "analyses", "snapshots"):
        if (MAIN / folder).exists():
            os.symlink(MAIN / folder, root / "dbt_project" / folder)
    project = root / "dbt_project" / "monitoring"
    shutil.copyfile(MAIN / "dbt_project.yml", root / "dbt_project" / "dbt_project.yml")
    monitoring_project.write(root / "dbt_project", project)
    return project


@pytest.fixture(scope="module")
def dbt_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, DbtRun]]:
    """Main project parsed (monitors off), listed with the monitors on, and the monitoring
    project parsed: started together, each test waits for the one it reads."""
    work = tmp_path_factory.mktemp("dbt_layout")
    runs = {
        "main": start_dbt(MAIN, MAIN, work / "main", "parse"),
        "ls": start_dbt(
            MAIN,
            MAIN,
            work / "ls",
            "ls",
            "--resource-type",
            "test",
            "--select",
            "tag:elementary",
            "--output",
            "name",
            "--vars",
            "{elementary_enabled: true}",
        ),
        "monitoring": start_dbt(
            monitoring_copy(work / "layout"), MONITORING, work / "monitoring", "parse"
        ),
    }
    yield runs
    for run in runs.values():
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()


def watched(node: dict) -> str:
    """The node a test watches: its model, or its source (disabled tests have no links)."""
    if node.get("attached_node"):
        return node["attached_node"]
    sources = node.get("sources") or []
    return f"source.windfarm.{sources[0][0]}.{sources[0][1]}" if sources else ""


def monitors_in(nodes: list[dict]) -> dict[tuple[str, str, str | None], dict]:
    """Elementary tests by (test, watched node, column)."""
    found = {}
    for node in nodes:
        metadata = node.get("test_metadata") or {}
        if metadata.get("namespace") == "elementary":
            found[(metadata["name"], watched(node), node.get("column_name"))] = node
    return found


@pytest.fixture(scope="module")
def main_manifest(dbt_runs: dict[str, DbtRun]) -> dict:
    return dbt_runs["main"].manifest()


def _monitors_of(manifest: dict, where: str) -> dict[tuple[str, str, str | None], dict]:
    nodes = (
        [n for versions in manifest["disabled"].values() for n in versions]
        if where == "disabled"
        else list(manifest["nodes"].values())
    )
    return monitors_in(nodes)


def test_the_main_project_parses_with_every_monitor_disabled(main_manifest: dict) -> None:
    disabled = _monitors_of(main_manifest, "disabled")
    assert set(disabled) == expected_monitors()
    assert not _monitors_of(main_manifest, "nodes"), "a monitor is enabled in the main project"
    for (name, watched, _), node in disabled.items():
        assert node["config"]["enabled"] is False
        assert node["config"]["severity"].lower() == "warn", node["unique_id"]
        assert "elementary" in node["config"]["tags"]
        kwargs = node["test_metadata"]["kwargs"]
        if name in (
            "volume_anomalies",
            "freshness_anomalies",
            "column_anomalies",
            "dimension_anomalies",
        ):
            wanted = LANDED_SOURCES.get(watched, "measured_at")
            assert kwargs["timestamp_column"] == wanted, node["unique_id"]
        if name == "column_anomalies":
            assert kwargs["column_anomalies"] == ["null_count", "min", "max"]
        if name == "dimension_anomalies":
            assert kwargs["dimensions"] == ["turbine_id"]


def test_dbt_ls_lists_the_monitors_once_enabled(
    main_manifest: dict, dbt_runs: dict[str, DbtRun]
) -> None:
    output = dbt_runs["ls"].wait()
    names = {line.strip() for line in output.splitlines() if re.fullmatch(r"\S+", line)}
    disabled = {node["name"] for node in _monitors_of(main_manifest, "disabled").values()}
    assert disabled and names == disabled


@pytest.fixture(scope="module")
def monitoring_manifest(dbt_runs: dict[str, DbtRun]) -> dict:
    return dbt_runs["monitoring"].manifest()


def _resolved(node: dict) -> tuple:
    config = node["config"]
    return (
        node["schema"],
        node.get("alias"),
        config.get("materialized"),
        config.get("enabled"),
        config.get("severity"),
        config.get("unique_key"),
        config.get("incremental_strategy"),
    )


def test_the_monitoring_project_builds_the_same_nodes_plus_the_monitors(
    main_manifest: dict, monitoring_manifest: dict
) -> None:
    main_nodes = main_manifest["nodes"]
    monitoring_nodes = monitoring_manifest["nodes"]
    extra = set(monitoring_nodes) - set(main_nodes)
    assert not set(main_nodes) - set(monitoring_nodes), "nodes missing from the monitoring project"
    assert set(monitoring_manifest["sources"]) == set(main_manifest["sources"])
    for unique_id, node in main_nodes.items():
        assert _resolved(monitoring_nodes[unique_id]) == _resolved(node), unique_id
    enabled = _monitors_of(monitoring_manifest, "nodes")
    assert set(enabled) == expected_monitors()
    assert extra == {node["unique_id"] for node in enabled.values()}
    disabled_ids = {n["unique_id"] for n in _monitors_of(main_manifest, "disabled").values()}
    assert extra == disabled_ids  # the very tests the main project carries, switched on
    schemas = {node["schema"] for node in main_nodes.values() if node["resource_type"] == "model"}
    assert {"staging", "intermediate", "core", "quality"} <= schemas


def test_the_monitoring_project_is_the_main_project_plus_elementary(tmp_path: Path) -> None:
    main = read_yaml(MAIN / "dbt_project.yml")
    monitoring_project.write(MAIN, tmp_path)
    monitoring = read_yaml(tmp_path / "dbt_project.yml")
    assert monitoring["name"] == main["name"] and monitoring["profile"] == main["profile"]
    vars_ = dict(monitoring["vars"])
    assert vars_.pop("elementary_enabled") is True
    assert vars_ == main.get("vars", {})
    assert {k: monitoring["flags"].get(k) for k in main.get("flags", {})} == main.get("flags", {})
    flag = "require_explicit_package_overrides_for_builtin_materializations"
    assert monitoring["flags"][flag] is False  # Elementary's materializations need it
    models = dict(monitoring["models"])
    assert models.pop("elementary") == {"+schema": "elementary"}
    assert models == main["models"]
    assert monitoring.get("seeds") == main.get("seeds")
    assert "dbt_packages" not in monitoring["clean-targets"]
    for key in ("model-paths", "macro-paths", "test-paths", "seed-paths"):
        expected = [str(Path("..") / path) for path in main[key]]
        assert monitoring[key] == expected, key
    written = (tmp_path / "dbt_project.yml").stat().st_mtime_ns
    monitoring_project.write(MAIN, tmp_path)  # unchanged text: not rewritten
    assert (tmp_path / "dbt_project.yml").stat().st_mtime_ns == written
    main_profile = read_yaml(MAIN / "profiles.yml")["windfarm"]
    profiles = read_yaml(MONITORING / "profiles.yml")
    assert profiles["windfarm"] == main_profile
    edr_output = profiles["elementary"]["outputs"][profiles["elementary"]["target"]]
    assert edr_output == {**main_profile["outputs"][main_profile["target"]], "schema": "elementary"}


def test_the_package_pin_matches_the_edr_pin() -> None:
    packages = read_yaml(MONITORING / "packages.yml")["packages"]
    assert packages == [{"package": "elementary-data/elementary", "version": "0.25.1"}]
    pins = (PROJECT_ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert "elementary-data==0.25.1" in pins.split()
    assert not (MAIN / "packages.yml").exists(), "the main project must build offline"
    assert not (MAIN / "dependencies.yml").exists(), "the main project must build offline"


# --- edr, offline -----------------------------------------------------------------------


def test_edr_runs_offline_and_quietly_with_the_pipeline_s_config(tmp_path: Path) -> None:
    executable = elementary.edr_executable()
    assert executable, "edr is pinned in requirements.txt (elementary-data)"
    quiet, bare = tmp_path / "quiet", tmp_path / "bare"
    bare.mkdir()
    elementary.write_config(quiet)

    def edr(home: Path, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "HOME": str(home), "DO_NOT_TRACK": "1"}
        return subprocess.run(
            [executable, *args], env=env, cwd=home, capture_output=True, text=True, timeout=120
        )

    version = edr(quiet, "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == "Elementary version 0.25.1."  # no logo, no version check
    assert "_____" in edr(bare, "--version").stdout  # edr's logo: without our config it talks
    options = edr(quiet, "report", "--help")
    assert options.returncode == 0, options.stderr
    command = elementary.edr_command("edr", MONITORING, quiet, tmp_path / "r.html")
    for option in (arg for arg in command if arg.startswith("--")):
        assert option in options.stdout, f"edr report has no {option}"
    assert not (PROJECT_ROOT / "edr_target").exists()


# --- without the package ----------------------------------------------------------------


def test_without_the_package_the_run_says_so_once_and_carries_on(
    demo,  # noqa: ANN001
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings, _, outcome = demo
    assert outcome.status == "success"
    if not elementary.package_installed(elementary.monitoring_dir(settings)):
        page = Path(outcome.report_path).read_text(encoding="utf-8")
        assert 'data-elementary-status="absent"' in page
        assert "package not installed in" in page
        assert not (Path(outcome.report_path).parent / elementary.REPORT).exists()
    # The same step on a copy of the layout that certainly has no package installed.
    project = tmp_path / "dbt_project"
    (project / "monitoring").mkdir(parents=True)
    shutil.copyfile(MAIN / "dbt_project.yml", project / "dbt_project.yml")
    for name in ("packages.yml", "profiles.yml"):
        shutil.copyfile(MONITORING / name, project / "monitoring" / name)
    bare = replace(settings, dbt_project_dir=str(project), reports_dir=str(tmp_path / "reports"))
    capsys.readouterr()
    path = write_report(bare, outcome.run_id, tmp_path / "reports" / outcome.run_id / "index.html")
    printed = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert printed == [
        f"[elementary] package not installed in {project / 'monitoring'}/dbt_packages — run "
        f"`dbt deps --project-dir {project / 'monitoring'}` where the dbt hub is reachable; "
        "skipping the Elementary report"
    ]
    page = path.read_text(encoding="utf-8")
    assert 'data-elementary-status="absent"' in page and "skipping the Elementary report" in page
    assert 'id="run-status"' in page and 'data-status="success"' in page
    assert not (path.parent / elementary.REPORT).exists()
    assert (path.parent / "summary.json").exists()
