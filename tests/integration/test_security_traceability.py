"""Traceability as an auditor does it: the documented queries of docs/traceability.md,
run as the transformer on the demo month, lead from mart rows to the source records.
And the audit trail of the run: who, which roles, which code, which loads, dbt's results.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import pytest
import requests
from psycopg2 import errorcodes

from loaders import warehouse
from loaders.settings import PROJECT_ROOT, Settings

DOC = PROJECT_ROOT / "docs" / "traceability.md"
BLOCK = re.compile(r"```sql\n-- name: (\w+)\n(.*?)```", re.DOTALL)
PSQL_VARIABLE = re.compile(r":'(\w+)'")


def documented_queries() -> dict[str, str]:
    """Each named SQL block of the doc, psql's `:'variable'` turned into a parameter."""
    queries = {}
    for name, text in BLOCK.findall(DOC.read_text(encoding="utf-8")):
        queries[name] = PSQL_VARIABLE.sub(r"%(\1)s", text.replace("%", "%%"))
    return queries


def run_documented(settings: Settings, name: str, **parameters: object) -> list[dict]:
    connection = warehouse.connect(settings, "transformer")
    try:
        with connection.cursor() as cursor:
            cursor.execute(documented_queries()[name], parameters)
            columns = [column.name for column in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()


def _one(settings: Settings, statement: str) -> tuple:
    connection = warehouse.connect(settings, "admin")
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchone()
    finally:
        connection.close()


def test_the_doc_has_the_four_queries() -> None:
    assert set(documented_queries()) == {
        "measurement_to_source",
        "maintenance_to_file",
        "weather_to_request",
        "run_and_model_result",
    }


def test_a_measurement_leads_back_to_its_historian_row(demo, demo_dir: Path) -> None:  # noqa: ANN001
    settings, _, outcome = demo
    turbine_id, measured_at = _one(
        settings,
        "select turbine_id, measured_at from core.fct_turbine_measurements "
        "where not is_gap and gearbox_bearing_temp_avg is not null "
        "order by measured_at desc, turbine_id limit 1",
    )
    rows = run_documented(
        settings, "measurement_to_source", turbine_id=turbine_id, measured_at=measured_at
    )
    assert len(rows) == 1
    row = rows[0]
    assert row["mart_gearbox_bearing_temp"] == pytest.approx(row["raw_gearbox_bearing_temp"])
    assert row["dlt_source"] == "sensor_db" and row["run_id"] and row["code_version"]
    assert row["loader_role"] == settings.loader_user
    with sqlite3.connect(demo_dir / "sources" / "sensor.db") as historian:
        source = historian.execute(
            f"select turbine_id, ts_utc from {row['source_table']} where id = ?",
            (row["source_row_id"],),
        ).fetchone()
    assert source == (turbine_id, measured_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"))


def test_a_maintenance_event_leads_back_to_its_file_and_line(demo, demo_dir: Path) -> None:  # noqa: ANN001
    settings, _, _ = demo
    (key,) = _one(
        settings,
        "select maintenance_event_key from core.fct_maintenance_events order by 1 limit 1",
    )
    [row] = run_documented(settings, "maintenance_to_file", maintenance_event_key=key)
    intervention_id = row["intervention_id"]
    [path] = [p for p in demo_dir.rglob("*.csv") if p.name.endswith(row["source_file"])]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == row["source_file_sha256"]
    line = path.read_bytes().decode("cp1252").splitlines()[row["source_line"] - 1]
    assert line.split(";")[0] == intervention_id
    assert row["run_id"] and row["load_id"]


def test_an_hour_of_weather_leads_back_to_a_replayable_request(demo) -> None:  # noqa: ANN001
    settings, _, _ = demo
    site_code, observed_at, wind = _one(
        settings,
        "select site_code, observed_at, wind_speed_10m_ms from core.fct_weather_hourly "
        "order by observed_at limit 1 offset 100",
    )
    [row] = run_documented(
        settings, "weather_to_request", site_code=site_code, observed_at=observed_at
    )
    assert row["run_id"]
    answer = requests.get(f"{settings.weather_base_url}/{row['source_request']}", timeout=10)
    hourly = answer.json()["hourly"]
    stamp = observed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    assert hourly["wind_speed_10m"][hourly["time"].index(stamp)] == pytest.approx(wind, abs=0.05)


def test_the_run_says_who_what_when_and_keeps_dbt_results(demo) -> None:  # noqa: ANN001
    settings, _, outcome = demo
    [row] = run_documented(settings, "run_and_model_result", run_id=outcome.run_id)
    assert row["status"] in ("success", "partial")
    assert row["db_role"] == settings.transformer_user
    assert row["loader_role"] == settings.loader_user
    assert "@" in row["run_by"] and row["code_version"]
    assert row["pseudonym_key_id"] and row["pseudonym_key_id"] not in settings.pseudonym_key
    assert row["model_status"] == "success" and row["rows_affected"] > 0
    assert row["started_at"] <= datetime.now(UTC)
    results, tests = _one(
        settings,
        "select count(*), count(*) filter (where resource_type = 'test') "
        f"from audit.dbt_run_results where run_id = '{outcome.run_id}'",
    )
    assert results > 100 and tests > 50
    sources = _one(
        settings,
        "select array_agg(distinct item ->> 'source' order by item ->> 'source') "
        "from audit.pipeline_runs, jsonb_array_elements(load_ids) as item "
        f"where run_id = '{outcome.run_id}'",
    )[0]
    assert sources == ["production_csv", "sensor_db", "weather_api"]


def test_a_closed_run_cannot_be_rewritten(demo) -> None:  # noqa: ANN001
    settings, _, outcome = demo
    connection = warehouse.connect(settings, "transformer")
    try:
        with connection.cursor() as cursor, pytest.raises(psycopg2.Error) as refused:
            cursor.execute(
                "update audit.pipeline_runs set status = 'failed' where run_id = %s",
                (outcome.run_id,),
            )
    finally:
        connection.rollback()
        connection.close()
    assert refused.value.pgcode == errorcodes.INSUFFICIENT_PRIVILEGE
    assert "append-only" in str(refused.value)
