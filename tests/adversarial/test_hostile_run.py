"""Hostile sources replayed against a demo-park warehouse of its own, through whole runs.

Each case is one run with one source made hostile; after every case: the count invariant
(every source row of the days loaded in a clean or a rejected table), no load package left
pending, no clear personal data (the scan over every table, dlt's folders and the logs),
no secret, the other sources loaded, and the next clean run succeeding (the last test:
every day again with the real sources, `dbt build`, then the scan over a dump too).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dlt
import pytest
from warehouse_sql import query, scalar

from loaders.cli import main
from loaders.demo_park.simulator import PERSONAL_EMAILS, PERSONAL_NAMES
from loaders.privacy import leakscan
from loaders.run import pipeline
from loaders.settings import PROJECT_ROOT, Settings
from loaders.sources.landing import SourceOutcome

FIRST, LAST = date(2025, 10, 1), date(2025, 10, 3)
PEOPLE = (*PERSONAL_NAMES, *PERSONAL_EMAILS, "Zoé Lefèvre", "zoe.lefevre@example.fr")
SENSOR_PASSWORD = "sensor-SECRET-pass-31337"
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
PIPELINES = ("windfarm_sensor_db", "windfarm_production_csv", "windfarm_weather_api")


@pytest.fixture(scope="module")
def park(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory, park_warehouse: Callable
) -> Iterator[Settings]:
    work = tmp_path_factory.mktemp("hostile_run")
    with park_warehouse(settings, work, "hostile", FIRST, LAST, sensor_lookback_days=0) as (
        isolated,
        _,
    ):
        yield isolated


def sensor_db(settings: Settings) -> Path:
    return Path(settings.sensor_db_url.removeprefix("sqlite:///"))


def source(outcome: pipeline.RunOutcome, name: str) -> SourceOutcome:
    return next(s for s in outcome.sources if s.name == name)


def assert_after_every_case(settings: Settings) -> None:
    """Nothing pending, nothing personal in clear anywhere the run wrote."""
    for name in PIPELINES:
        attached = dlt.attach(
            pipeline_name=name, pipelines_dir=str(Path(settings.dlt_dir) / settings.database)
        )
        assert not attached.has_pending_data, name
    assert leakscan.scan_database(settings, PEOPLE) == []
    written = [Path(settings.dlt_dir), Path(settings.log_dir), Path(settings.reports_dir)]
    assert leakscan.scan_paths([p for p in written if p.exists()], PEOPLE) == []


def assert_every_sensor_row_counted(settings: Settings, days: list[date]) -> None:
    """Every row of the historian whose text says one of `days`, and every row whose
    timestamp the day filter cannot place, is in raw: clean or rejected."""
    with sqlite3.connect(sensor_db(settings)) as connection:
        ids = {
            row_id
            for row_id, stamp in connection.execute("select id, ts_utc from scada_10min")
            if not isinstance(stamp, str)
            or not ISO_DAY.match(stamp)
            or stamp[:10] in {f"{day}" for day in days}
        }
    landed = {
        row_id
        for (row_id,) in query(
            settings,
            "select source_row_id from raw.scada_measurements union all "
            "select source_row_id from raw.scada_measurements__rejected",
        )
    }
    assert ids - landed == set(), sorted(ids - landed)[:20]


ODD_TIMESTAMPS = [
    "02/10/2025 10:00",  # day first
    "10/02/2025 10:00",  # month first: the same text means two days
    "2025/10/02 10:00",
    "2025-10-2 10:00",
    " 2025-10-02 10:10:00",  # a leading space sorts before every date
    "1759399200",  # epoch seconds
    "20251002T101000",
    "٢٠٢٥-١٠-٠٢ 10:00",  # Arabic-Indic digits
    "tomorrow",
    "2025-10-02 25:00",  # the right form, an impossible time
    "2025-10-02T10:00:00+25:00",
]


def test_sensor_timestamps_in_any_form_are_loaded_or_rejected_never_lost(park: Settings) -> None:
    with sqlite3.connect(sensor_db(park)) as connection:
        for stamp in ODD_TIMESTAMPS:
            connection.execute(
                "insert into scada_10min (turbine_id, ts_utc, WMET_HorWdSpd) values ('T01', ?, 5)",
                (stamp,),
            )
        connection.execute(
            "insert into scada_10min (turbine_id, ts_utc, WMET_HorWdSpd) values ('T01', ?, 5)",
            (1759399200,),
        )
        # control characters, NUL first, in every text the historian hands over: PostgreSQL
        # refuses NUL, and one such value used to fail the whole load package, run after run
        for stamp in ("2025-10-01 10:00:00", "2025-10-01 10:10:00"):
            connection.execute(
                "insert into scada_10min (turbine_id, ts_utc, WMET_HorWdSpd) values (?, ?, 5)",
                ("T0\x001", stamp),
            )
        connection.execute(
            "insert into alarm_event (turbine_id, alarm_code, started_at_utc, acknowledged_by) "
            "values (?, 7, '2025-10-01 10:00:00', ?)",
            ("T0\x001", "Zoé\x00Lefèvre"),
        )
        connection.execute("update turbine set site_name = site_name || '\x1b[31m'")

    outcome = pipeline.run(park, FIRST, FIRST, build=False, with_report=False)

    sensor = source(outcome, "sensor_db")
    assert sensor.ok, sensor.error
    details = sensor.details
    assert details["rows_read"] == details["rows_loaded"] + details["rows_rejected"]
    assert details["rows_rejected"] >= len(ODD_TIMESTAMPS) - 2  # the right form: its day's run
    reasons = {
        str(json.loads(record)["ts_utc"]): reason
        for record, reason in query(
            park, "select raw_record, reason from raw.scada_measurements__rejected"
        )
    }
    unplaceable = [stamp for stamp in ODD_TIMESTAMPS if not ISO_DAY.match(stamp)]
    assert set(unplaceable) <= set(reasons), set(unplaceable) - set(reasons)
    # a form that parses is rejected all the same: its day is not the one the run asked
    assert "not written YYYY-MM-DD" in reasons["2025/10/02 10:00"]
    assert list(reasons.values()).count("turbine id holds a control character") == 2
    alarms = query(park, "select reason from raw.scada_alarms__rejected")
    assert ("turbine id holds a control character",) in alarms
    assert (
        query(park, "select count(*) from raw.scada_turbines where site_name like '%\\x1b%'")[0][0]
        > 0
    )
    assert outcome.status == "success"
    assert_every_sensor_row_counted(park, [FIRST])
    assert_after_every_case(park)


class HostileWeather(BaseHTTPRequestHandler):
    """Answers every request with `answer(site count, days asked)` -> (status, body)."""

    answer: Callable[[int, list[str]], tuple[int, bytes]]

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        params = parse_qs(urlsplit(self.path).query)
        sites = len(params["latitude"][0].split(","))
        start = date.fromisoformat(params["start_date"][0])
        end = date.fromisoformat(params["end_date"][0])
        days = [f"{start + timedelta(days=n)}" for n in range((end - start).days + 1)]
        status, body = type(self).answer(sites, days)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def weather_answer(
    days: list[str], *, hours: int = 24, drop: str | None = None, value: object = 7.5
) -> dict:
    times = [f"{day}T{hour:02d}:00" for day in days for hour in range(24) if hour < hours]
    units = {
        "temperature_2m": "°C",
        "relative_humidity_2m": "%",
        "surface_pressure": "hPa",
        "precipitation": "mm",
        "wind_speed_10m": "m/s",
        "wind_direction_10m": "°",
        "wind_gusts_10m": "m/s",
    }
    hourly: dict[str, list] = {"time": times}
    for variable in units:
        if variable != drop:
            hourly[variable] = [value] * len(times)
    return {
        "latitude": 48.45,
        "longitude": 5.59,
        "utc_offset_seconds": 0,
        "hourly_units": {"time": "iso8601", **units},
        "hourly": hourly,
    }


def _as_body(sites: int, answer: dict) -> bytes:
    return json.dumps(answer if sites == 1 else [answer] * sites).encode("utf-8")


HOSTILE_WEATHER: dict[str, Callable[[int, list[str]], tuple[int, bytes]]] = {
    "empty-arrays": lambda n, days: (200, _as_body(n, weather_answer(days, hours=0))),
    "half-the-hours": lambda n, days: (200, _as_body(n, weather_answer(days, hours=12))),
    "a-variable-missing": lambda n, days: (
        200,
        _as_body(n, weather_answer(days, drop="temperature_2m")),
    ),
    "only-nulls": lambda n, days: (200, _as_body(n, weather_answer(days, value=None))),
    "other-days": lambda n, days: (
        200,
        _as_body(
            n, weather_answer([f"{date.fromisoformat(day).replace(year=2031)}" for day in days])
        ),
    ),
    "not-json": lambda n, days: (200, b"<html>maintenance</html>"),
    "wrong-length": lambda n, days: (
        200,
        _as_body(n, {**weather_answer(days), "hourly": {"time": ["x"], "precipitation": []}}),
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE_WEATHER))
def test_an_empty_or_partial_weather_answer_fails_the_weather_alone(
    park: Settings, case: str
) -> None:
    handler = type("Handler", (HostileWeather,), {"answer": staticmethod(HOSTILE_WEATHER[case])})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        hostile = replace(park, weather_base_url=f"http://127.0.0.1:{server.server_port}/v1")
        outcome = pipeline.run(hostile, LAST, LAST, build=False, with_report=False)
    finally:
        server.shutdown()
        server.server_close()

    weather = source(outcome, "weather_api")
    assert not weather.ok
    assert "archive?" in weather.error, weather.error  # the request is named
    assert "JSONDecodeError" not in weather.error
    assert (outcome.status, outcome.exit_code) == ("partial", pipeline.EXIT_PARTIAL)
    assert {s.name for s in outcome.sources if s.ok} == {"sensor_db", "production_csv"}
    errors = query(
        park,
        "select errors->>'weather_api' from audit.pipeline_runs where run_id = %s",
        (outcome.run_id,),
    )
    assert errors and errors[0][0] and "archive?" in errors[0][0]
    assert_after_every_case(park)


def test_hostile_exports_are_refused_alone_in_a_whole_run(park: Settings) -> None:
    inbox = Path(park.csv_inbox)
    header = (
        "N° intervention;Eolienne;Début;Fin;Type;Composant;Description;Technicien;"
        "Email technicien\n"
    )
    (inbox / "poisoned.csv").write_text(
        header + "M-9;T01;02/10/2025 08:00;02/10/2025 09:00;Prev;gearbox;Vid\x00ange;Zoé Lefèvre;"
        "zoe.lefevre@example.fr\n"
        + "M-10;T01;02/10/2025 08:00;;Zoé Lefèvre;zoe.lefevre@example.fr;+33 6 12 34 56 78\n",
        encoding="utf-8",
    )
    (inbox / "huge.csv").write_text(header + "M-11;" + "x" * 300_000 + "\n", encoding="utf-8")

    outcome = pipeline.run(park, date(2025, 10, 2), date(2025, 10, 2), build=False)

    csv = source(outcome, "production_csv")
    assert not csv.ok and "huge.csv: line 2" in csv.error
    assert csv.details["rows_rejected"]["poisoned.csv"] == 2
    assert {s.name for s in outcome.sources if s.ok} == {"sensor_db", "weather_api"}
    assert_every_sensor_row_counted(park, [FIRST, date(2025, 10, 2)])
    assert_after_every_case(park)


def test_no_secret_reaches_the_alert_command_a_log_or_the_warehouse(
    park: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sensor database's URL carries a password (no setting of its own): the alert
    command's environment, its input, the logs and the audit row never hold it."""
    received = tmp_path / "alert.json"
    command = (
        f"{shlex.quote(sys.executable)} -c "
        + shlex.quote(
            "import json, os, sys; json.dump({'stdin': sys.stdin.read(), "
            "'environ': dict(os.environ)}, open(sys.argv[1], 'w'))"
        )
        + f" {shlex.quote(str(received))}"
    )
    url = f"postgresql+psycopg2://historian:{SENSOR_PASSWORD}@127.0.0.1:9/historian"
    hostile = replace(park, sensor_db_url=url, alert_command=command, weather_sites="")
    for field in fields(hostile):
        monkeypatch.setenv(f"WINDFARM_{field.name.upper()}", str(getattr(hostile, field.name)))
    monkeypatch.setenv("PGPASSWORD", SENSOR_PASSWORD)
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS__PASSWORD", SENSOR_PASSWORD)
    monkeypatch.setenv("HISTORIAN_DSN", f"host=h password={SENSOR_PASSWORD}")

    code = main(["run", "--date", f"{LAST}", "--no-dbt"])

    assert code == pipeline.EXIT_PARTIAL
    alert = json.loads(received.read_text(encoding="utf-8"))
    assert SENSOR_PASSWORD not in alert["stdin"]
    assert SENSOR_PASSWORD not in json.dumps(alert["environ"])
    assert "WINDFARM_ALERT_STATUS" in alert["environ"]
    summary = json.loads(alert["stdin"])
    # the weather's sites come from the sensor database here: said as such, not as an
    # unexplained weather failure
    assert "sensor database" in summary["errors"]["weather_api"]
    assert leakscan.scan_database(park, [SENSOR_PASSWORD]) == []
    assert leakscan.scan_paths([Path(park.log_dir), Path(park.dlt_dir)], [SENSOR_PASSWORD]) == []


def test_the_next_clean_run_succeeds_and_nothing_is_in_clear(
    park: Settings, tmp_path: Path
) -> None:
    outcome = pipeline.run(park, FIRST, LAST)

    # the hostile rows of turbine "T01" that landed (the registry's are MTC-T..) are held
    # aside, not published as a turbine of their own: the run says so, and only that
    unknown = scalar(
        park, "select count(*) from staging.stg_scada__measurements where turbine_id = 'T01'"
    )
    expected = ("partial", pipeline.EXIT_PARTIAL) if unknown else ("success", 0)
    assert (outcome.status, outcome.exit_code) == expected, outcome.errors()
    assert set(outcome.errors()) <= {"held_aside"}, outcome.errors()
    if unknown:
        assert f"turbine_id T01 ({unknown} rows)" in str(outcome.errors()["held_aside"])
    assert_every_sensor_row_counted(park, [FIRST, date(2025, 10, 2), LAST])
    assert_after_every_case(park)
    dump = leakscan.plain_dump(park, tmp_path / "dump.sql")
    assert leakscan.scan_paths([dump], [*PEOPLE, SENSOR_PASSWORD]) == []
    # the auditor's scan, as an auditor runs it: the people by name, and any e-mail
    # address or phone number at all, in every table, a dump, dlt's folders, logs, reports
    staff = tmp_path / "staff.txt"
    staff.write_text("\n".join(PEOPLE), encoding="utf-8")
    folders = [park.dlt_dir, park.log_dir, park.reports_dir]
    scan = subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "scripts" / "security" / "scan_for_pii.py"),
            "--values-file",
            str(staff),
            "--patterns",
            "--dump",
            "--database",
            park.database,
            *[argument for folder in folders for argument in ("--path", folder)],
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        check=False,
    )
    assert scan.returncode == 0, scan.stdout + scan.stderr
    assert query(park, "select count(*) from core.fct_turbine_measurements")[0][0] > 0
