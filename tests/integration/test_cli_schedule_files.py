"""The scheduling files in scripts/ are checked by the tools that will read them: the cron
wrapper runs a real command with an environment file, systemd-analyze verifies the units,
logrotate rotates real files with the snippet."""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import shutil
import subprocess
from dataclasses import fields
from pathlib import Path

import pytest

from loaders.settings import PROJECT_ROOT, Settings

CRON = PROJECT_ROOT / "scripts" / "cron"
SYSTEMD = PROJECT_ROOT / "scripts" / "systemd"
INSTALLED = "/opt/windfarm-elt"  # where the files expect the project


def test_the_cron_entries_call_the_wrapper_with_five_time_fields_and_a_user() -> None:
    entries = [
        line
        for line in (CRON / "windfarm-elt.cron").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#") and not re.match(r"^[A-Z_]+=", line)
    ]
    assert len(entries) == 2
    for entry in entries:
        minute, hour, day, month, weekday, user, command = entry.split(maxsplit=6)
        assert re.fullmatch(r"\d+", minute) and re.fullmatch(r"\d+", hour)
        assert (day, month, weekday, user) == ("*", "*", "*", "windfarm")
        assert f"{INSTALLED}/scripts/cron/windfarm-elt-run " in command
        assert "%" not in command  # cron would cut the command there
    assert " run >> /var/log/windfarm-elt/run.log 2>&1" in entries[0]


def test_the_cron_wrapper_reads_the_environment_file_and_keeps_the_exit_code(
    settings: Settings, tmp_path: Path
) -> None:
    env_file = tmp_path / "env"
    env_file.write_text(
        "".join(
            f"WINDFARM_{f.name.upper()}='{getattr(settings, f.name)}'\n"
            for f in fields(settings)
            if f.name not in ("log_dir",)
        )
        + f"WINDFARM_LOG_DIR={tmp_path / 'log'}\n",
        encoding="utf-8",
    )
    env_file.chmod(0o600)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WINDFARM_")}
    wrapper = str(CRON / "windfarm-elt-run")

    checked = subprocess.run(  # a day never loaded: --check says so with its exit code
        [wrapper, "status", "--json", "--days", "1", "--to", "1999-01-01", "--check"],
        env={**clean, "WINDFARM_ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 1, checked.stderr
    answer = json.loads(checked.stdout)
    assert answer["database"] == settings.database  # the settings came from the file
    assert answer["days_not_loaded"] == ["1999-01-01"]


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed here: the file is checked where it is")
    return found


def test_the_systemd_units_verify(tmp_path: Path) -> None:
    analyze = _tool("systemd-analyze")
    for unit in ("windfarm-elt.service", "windfarm-elt.timer"):
        text = (SYSTEMD / unit).read_text(encoding="utf-8")
        (tmp_path / unit).write_text(text.replace(INSTALLED, str(PROJECT_ROOT)), encoding="utf-8")
    verified = subprocess.run(
        [
            analyze,
            "verify",
            str(tmp_path / "windfarm-elt.service"),
            str(tmp_path / "windfarm-elt.timer"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verified.returncode == 0 and not verified.stderr.strip(), verified.stderr
    timer = (SYSTEMD / "windfarm-elt.timer").read_text(encoding="utf-8")
    (calendar,) = re.findall(r"^OnCalendar=(.+)$", timer, re.MULTILINE)
    normalized = subprocess.run(
        [analyze, "calendar", calendar], capture_output=True, text=True, timeout=60, check=True
    )
    assert "Normalized form: *-*-* 02:30:00 UTC" in normalized.stdout
    assert "Persistent=true" in timer


def test_the_logrotate_snippet_rotates_both_logs(tmp_path: Path) -> None:
    logrotate = _tool("logrotate")
    logs = tmp_path / "log"
    logs.mkdir()
    (logs / "windfarm-elt.jsonl").write_text('{"message": "a run"}\n', encoding="utf-8")
    (logs / "run.log").write_text("[run] a run\n", encoding="utf-8")
    user = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    snippet = (CRON / "windfarm-elt.logrotate").read_text(encoding="utf-8")
    config = tmp_path / "logrotate.conf"
    config.write_text(
        snippet.replace("/var/log/windfarm-elt", str(logs)).replace(
            "create 0640 windfarm windfarm", f"create 0640 {user} {group}"
        ),
        encoding="utf-8",
    )

    subprocess.run(
        [logrotate, "--force", "--state", str(tmp_path / "state"), str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    for name in ("windfarm-elt.jsonl", "run.log"):
        (rotated,) = logs.glob(f"{name}-*")
        assert rotated.read_text(encoding="utf-8")  # kept, uncompressed until next time
        assert (logs / name).stat().st_size == 0  # a fresh file for the next run
