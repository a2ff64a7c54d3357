"""The logs of a command: levels as each call says them, dbt's levels from its JSON log,
the run id on every record of the run, secrets masked in both forms."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from loaders import logs
from loaders.settings import Settings
from loaders.transform.dbt import log_dbt_line


def logged(log_dir: Path) -> list[dict]:
    text = (log_dir / logs.LOG_FILE_NAME).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_each_line_has_the_level_its_call_gives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = replace(Settings(), log_dir=str(tmp_path))
    with logs.capture(settings, json_stdout=False, command="test"):
        logs.event("run", "0 errors, nothing failed")  # words do not make an error
        logs.event("sensor_db", "cannot read the window", level="warning", rows=3)
        logging.getLogger("loaders.sources.weather_api.client").error("HTTP %s", 503)
    records = logged(tmp_path)
    assert [(r["level"], r["step"], r["message"]) for r in records] == [
        ("info", "run", "0 errors, nothing failed"),
        ("warning", "sensor_db", "cannot read the window"),
        ("error", "weather_api", "HTTP 503"),
    ]
    assert records[1]["source"] == "sensor_db" and records[1]["rows"] == 3
    assert capsys.readouterr().out.splitlines() == [
        "[run] 0 errors, nothing failed",
        "[sensor_db] cannot read the window",
        "[weather_api] HTTP 503",
    ]


def test_dbt_lines_keep_the_level_dbt_gave_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = replace(Settings(), log_dir=str(tmp_path))
    with logs.capture(settings, json_stdout=False, command="test"):
        for level, message in (("info", "1 of 2 OK created"), ("warn", "Nothing to do.")):
            log_dbt_line(json.dumps({"info": {"level": level, "msg": message}}) + "\n")
        log_dbt_line(json.dumps({"info": {"level": "error", "msg": "Database Error in x"}}))
        log_dbt_line(json.dumps({"info": {"level": "info", "msg": "   "}}))  # a spacer
        log_dbt_line("Traceback (most recent call last):\n")  # not dbt's JSON
    assert [(r["level"], r["message"]) for r in logged(tmp_path)] == [
        ("info", "1 of 2 OK created"),
        ("warning", "Nothing to do."),
        ("error", "Database Error in x"),
        ("warning", "Traceback (most recent call last):"),
    ]
    assert capsys.readouterr().out.splitlines()[1] == "Nothing to do."  # no [dbt] prefix


def test_the_run_id_is_on_the_records_of_the_run_only(tmp_path: Path) -> None:
    settings = replace(Settings(), log_dir=str(tmp_path), pseudonym_key="secret-key-1234")
    with logs.capture(settings, json_stdout=True, command="run"):
        logs.event("run", "before")
        with logs.run_scope("20251002T000000Z-abc123"):
            logs.event("run", "during, key secret-key-1234", url="postgres://u:pw@db/x")
        assert logs.current_run() is None  # the run is over
    assert logs.current_run() is None  # the command is over
    before, during = logged(tmp_path)
    assert before["run_id"] is None and before["command"] == "run"
    assert during["run_id"] == "20251002T000000Z-abc123"
    assert during["message"] == "during, key ***" and during["url"] == "postgres://u:***@db/x"
