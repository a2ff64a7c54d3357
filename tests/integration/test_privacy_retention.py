"""Retention as code: rows and files older than their period go, younger ones stay, the
purge is journalled, and the daily run does it. A warehouse and folders of their own,
with rows and files aged by hand (file times set with os.utime, rows dated in the past).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cli import loaders_command
from warehouse_sql import query

from loaders import warehouse
from loaders.privacy import retention
from loaders.run import audit_chain, security_checks
from loaders.settings import Settings

DAY = 86_400
OLD_TOKEN, NEW_TOKEN = "psn_" + "a" * 24, "psn_" + "b" * 24


def _age(path: Path, days: int) -> None:
    when = time.time() - days * DAY
    os.utime(path, (when, when))


@pytest.fixture
def aged(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """A warehouse and folders holding, for each target, one item past its period and one
    within it."""
    own = replace(
        settings,
        database=f"{settings.database}_retention",
        csv_inbox=str(tmp_path / "inbox"),
        dlt_dir=str(tmp_path / "dlt"),
        log_dir=str(tmp_path / "log"),
        reports_dir=str(tmp_path / "reports"),
    )
    warehouse.bootstrap(own)
    now = time.time()
    query(
        own,
        f"""
        create table raw.maintenance_log (
            intervention_id text, started_at timestamptz, technician_pseudonym text,
            technician_email_pseudonym text, _dlt_load_id text);
        insert into raw.maintenance_log values
            ('INT-OLD', now() - interval '6 years', '{OLD_TOKEN}', '{OLD_TOKEN}', '{now}'),
            ('INT-NEW', now() - interval '1 year', '{NEW_TOKEN}', '{NEW_TOKEN}', '{now}');
        create table raw.maintenance_log__rejected (raw_line text, _dlt_load_id text);
        insert into raw.maintenance_log__rejected values
            ('old line', '{now - 400 * DAY}'), ('new line', '{now - 10 * DAY}');
        """,
        role="loader",
    )
    for folder, old_days in (("archive", 36), ("refused", 61)):
        (tmp_path / "inbox" / folder).mkdir(parents=True)
        _age(_write(tmp_path / "inbox" / folder / "old__export.CSV", "Léa Fontaine"), old_days)
        _write(tmp_path / "inbox" / folder / "new__export.csv", "Léa Fontaine")
    for package, days in (("1700000000.1", 8), ("1800000000.2", 1)):
        folder = tmp_path / "dlt" / own.database / "production_csv" / "load" / "loaded" / package
        _write(folder / "completed_jobs" / "maintenance_log.parquet", "tokens")
        _age(folder, days)
    lines = [
        {"ts": "2020-01-01T00:00:00.000Z", "message": "old"},
        {"ts": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "message": "new"},
    ]
    _write(tmp_path / "log" / "windfarm-elt.jsonl", "".join(json.dumps(x) + "\n" for x in lines))
    (tmp_path / "log" / "device.jsonl").symlink_to("/dev/full")  # endless: never read
    for run, days in (("20240101T000000Z-aaaaaa", 400), ("latest", 400), ("recent", 3)):
        _age(_write(tmp_path / "reports" / run / "index.html", "<html>").parent, days)
    try:
        yield own
    finally:
        warehouse.drop_database(own)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_purge_removes_what_outlived_its_period_and_keeps_the_rest(aged: Settings) -> None:
    root = Path(aged.csv_inbox).parent
    dry = loaders_command(aged, "purge", "--dry-run", "--reference", "RET-TEST", timeout=300)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    # a row emptied, a row deleted, 2 source files, a dlt package, a log line, a run page
    assert "would purge 7 item(s)" in dry.stdout
    assert len(list(root.rglob("old__export.CSV"))) == 2
    assert query(aged, "select count(*) from audit.privacy_log") == [(0,)]

    done = loaders_command(aged, "purge", "--reference", "RET-TEST", timeout=300)

    assert done.returncode == 0, done.stdout + done.stderr
    assert query(
        aged,
        "select intervention_id, technician_pseudonym, technician_email_pseudonym "
        "from raw.maintenance_log order by 1",
    ) == [("INT-NEW", NEW_TOKEN, NEW_TOKEN), ("INT-OLD", None, None)]  # the row stays
    assert query(aged, "select raw_line from raw.maintenance_log__rejected") == [("new line",)]
    assert sorted(p.name for p in root.rglob("*export*")) == ["new__export.csv"] * 2
    packages = root / "dlt" / aged.database / "production_csv" / "load" / "loaded"
    assert [p.name for p in packages.iterdir()] == ["1800000000.2"]
    log = (root / "log" / "windfarm-elt.jsonl").read_text(encoding="utf-8")
    assert '"new"' in log and '"old"' not in log
    assert sorted(p.name for p in (root / "reports").iterdir()) == ["latest", "recent"]

    [(action, reference, details)] = query(
        aged, "select action, reference, details from audit.privacy_log"
    )
    assert (action, reference) == ("retention_purge", "RET-TEST")
    assert details["purged"]["raw.maintenance_log"] == 1
    assert details["errors"] == {}
    assert audit_chain.verify(aged).ok


def test_a_policy_line_without_reason_or_with_a_bad_action_is_named(tmp_path: Path) -> None:
    policy = tmp_path / "retention.csv"
    header = "target,keep_days,age_from,action,why\n"
    policy.write_text(header + "raw.t,30,_dlt_load_id,delete,\n", encoding="utf-8")
    with pytest.raises(retention.PolicyError, match=r"retention.csv:2: say why"):
        retention.load_policy(policy)
    policy.write_text(header + "{log_dir},30,line,shred,because\n", encoding="utf-8")
    with pytest.raises(retention.PolicyError, match=r"retention.csv:2: a folder takes"):
        retention.load_policy(policy)
    assert {rule.target for rule in retention.load_policy()} >= {
        "{csv_inbox}/archive",
        "{csv_inbox}/refused",
        "raw.maintenance_log",
    }


def test_the_daily_run_purges_and_journals_it(demo) -> None:  # noqa: ANN001
    settings, _, first = demo
    [(details,)] = query(
        settings,
        "select details from audit.privacy_log where action = 'retention_purge' and reference = %s",
        (first.run_id,),
    )
    assert details["errors"] == {}
    assert "raw.maintenance_log" in details["purged"]
    [(checks,)] = query(
        settings,
        "select details from audit.privacy_log where action = 'security_check' and reference = %s",
        (first.run_id,),
    )
    assert checks["grants"] == {"ok": True, "drift": []}
    assert security_checks.recorded(settings, first.run_id) == checks  # for the quality page
    assert checks["audit_chain"]["ok"] and checks["audit_chain"]["links"] > 0
