"""Archival of the audit trail's oldest part (`python -m loaders audit-archive`): the file
holds what went, the chain left in the database starts from the archive's last hash, and
the triggers still refuse every other deletion.

A database of its own (bootstrapped, dropped afterwards), each test on a copy of it. The
trail is written the way the code writes it; its first links are then dated back a year by
a superuser with the triggers disabled: `linked_at` is outside the hash, so the chain
stays intact, and the archival has something "before" a date to take.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import psycopg2
import pytest
from cli import NO_LOG_FILE, loaders_command
from psycopg2 import errorcodes
from warehouse_sql import execute

from loaders import warehouse
from loaders.run import audit, audit_chain
from loaders.settings import Settings

RUNTIME_ROLES = ("loader", "transformer", "analyst", "quality_reader")
AUDIT_TABLES = (
    "pipeline_runs",
    "dbt_run_results",
    "erasure_log",
    "privacy_log",
    "chain_archives",
    "audit_chain",
)
CUT_DAY = date(2025, 2, 1)  # the aged links are of 2025-01-15, the others of today
TOMORROW = date.today() + timedelta(days=1)


def query(settings: Settings, statement: str, parameters: tuple = ()) -> list[tuple]:
    connection = warehouse.connect(settings, "admin")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(statement, parameters)
            return cursor.fetchall()
    finally:
        connection.close()


def close_run(settings: Settings, run_id: str) -> None:
    audit.record_end(
        settings,
        run_id,
        status="success",
        rows_by_source={},
        errors={},
        dbt_status="not run",
        report_path=None,
    )


def journal(settings: Settings, reference: str) -> None:
    execute(
        settings,
        "transformer",
        "insert into audit.privacy_log (action, reference, details) "
        'values (\'access\', %s, \'{"rows": 1.50, "note": "été\\ttab", "none": null}\')',
        (reference,),
    )


@pytest.fixture(scope="module")
def trail(settings: Settings) -> Iterator[Settings]:
    """Links 1-5: a closed run, its dbt result, an erasure, a journal row (all aged);
    6: run-across opened (aged); 7: a journal row (aged); 8: run-open opened (aged) and
    never closed; 9: a journal row (aged); 10: run-across closed (today); 11: a journal
    row (today). Archivable before CUT_DAY: links 1-5 only (run-across straddles)."""
    own = replace(settings, database=f"{settings.database}_archive")
    warehouse.bootstrap(own)
    try:
        audit.record_start(own, "run-old", date(2025, 1, 15), date(2025, 1, 15))
        execute(
            own,
            "transformer",
            "insert into audit.dbt_run_results (run_id, invocation_id, unique_id, "
            "resource_type, status, execution_time_s, generated_at) "
            "values ('run-old', 'inv-1', 'model.x.y', 'model', 'success', 0.0000001, now())",
        )
        close_run(own, "run-old")
        execute(
            own,
            "transformer",
            "insert into audit.erasure_log (reference, tokens_searched, rows_changed, "
            "remaining, source_files) values ('DPO-1', 2, '{\"raw.x\": 3}', '{}', 0)",
        )
        journal(own, "P-old")
        audit.record_start(own, "run-across", date(2025, 1, 16), date(2025, 1, 16))
        journal(own, "P-mid")
        audit.record_start(own, "run-open", date(2025, 1, 17), date(2025, 1, 17))
        journal(own, "P-after-open")
        execute(
            own,
            "admin",
            "alter table audit.audit_chain disable trigger user; "
            "update audit.audit_chain set linked_at = '2025-01-15 12:00+00'; "
            "alter table audit.audit_chain enable trigger user",
        )
        close_run(own, "run-across")
        journal(own, "P-recent")
        yield own
    finally:
        warehouse.drop_database(own)


def archive(settings: Settings, before: date, target: Path, reference: str = "DPO-ARCH-1"):
    completed = loaders_command(
        settings,
        "audit-archive",
        "--before",
        before.isoformat(),
        "--to",
        str(target),
        "--reference",
        reference,
        extra_env=NO_LOG_FILE,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]


def test_archive_writes_the_file_removes_rows_and_links_and_the_chain_verifies(
    trail: Settings, database_copy, tmp_path: Path
) -> None:
    with database_copy(trail, "arch") as copy:
        [(links_before,)] = query(copy, "select count(*) from audit.audit_chain")
        target = tmp_path / "audit-2025-01.jsonl.gz"

        completed = archive(copy, CUT_DAY, target)

        assert "5 link(s) through link 5" in completed.stdout
        header, *links = read_lines(target)
        assert header["through_link_id"] == 5 and header["links"] == 5
        assert header["first_previous_hash"] == audit_chain.GENESIS
        assert header["reference"] == "DPO-ARCH-1"
        assert header["rows"] == {
            "pipeline_runs": 1,
            "dbt_run_results": 1,
            "erasure_log": 1,
            "privacy_log": 1,
        }
        assert [link["link_id"] for link in links] == [1, 2, 3, 4, 5]
        assert links[0]["row"] is None  # run-old's opening: its row is on its closing link
        assert links[2]["row"]["run_id"] == "run-old" and links[2]["row"]["status"] == "success"
        assert oct(target.stat().st_mode & 0o777) == "0o600"

        assert query(copy, "select count(*) from audit.audit_chain where link_id <= 5") == [(0,)]
        assert query(copy, "select count(*) from audit.audit_chain") == [(links_before - 5 + 1,)]
        assert query(copy, "select run_id from audit.pipeline_runs order by 1") == [
            ("run-across",),
            ("run-open",),
        ]
        assert query(copy, "select count(*) from audit.dbt_run_results") == [(0,)]
        assert query(copy, "select count(*) from audit.erasure_log") == [(0,)]
        assert query(copy, "select reference from audit.privacy_log order by 1") == [
            ("P-after-open",),
            ("P-mid",),
            ("P-recent",),
        ]
        [(reference, through, through_hash, rows, name, sha256, by)] = query(
            copy,
            "select reference, through_link_id, through_hash, rows, file_name, file_sha256, "
            "executed_by from audit.chain_archives",
        )
        assert (reference, through, name) == ("DPO-ARCH-1", 5, target.name)
        assert through_hash == header["through_hash"] == links[-1]["chain_hash"]
        assert rows == header["rows"]
        assert sha256 == audit_chain.read_archive(target).sha256
        assert by == copy.admin_user

        report = audit_chain.verify(copy)
        assert report.ok, report.lines()
        verified = loaders_command(copy, "audit-verify", extra_env=NO_LOG_FILE)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        # the chain left starts from the archive, not from the genesis
        [(first_previous,)] = query(
            copy, "select previous_hash from audit.audit_chain order by link_id limit 1"
        )
        assert first_previous == through_hash != audit_chain.GENESIS


def test_a_run_open_across_the_cut_is_kept_whole(
    trail: Settings, database_copy, tmp_path: Path
) -> None:
    """Even with every link before the date (tomorrow), the open run and what follows it,
    and the run closed after its opening's neighbours, stay in the database."""
    with database_copy(trail, "open") as copy:
        archive(copy, TOMORROW, tmp_path / "a.jsonl.gz")

        kept = query(
            copy,
            "select table_name, row_key from audit.audit_chain "
            "where table_name = 'pipeline_runs' order by link_id",
        )
        assert kept == [
            ("pipeline_runs", "run-across"),
            ("pipeline_runs", "run-open"),
            ("pipeline_runs", "run-across"),
        ]
        assert audit_chain.verify(copy).ok


def test_nothing_archivable_writes_nothing(trail: Settings, tmp_path: Path) -> None:
    target = tmp_path / "none.jsonl.gz"
    completed = archive(trail, date(2024, 1, 1), target)
    assert "nothing to archive" in completed.stdout
    assert not target.exists()
    assert query(trail, "select count(*) from audit.chain_archives") == [(0,)]


def test_the_archive_verifies_and_a_changed_row_in_it_is_found(
    trail: Settings, database_copy, tmp_path: Path
) -> None:
    with database_copy(trail, "file") as copy:
        target = tmp_path / "audit.jsonl.gz"
        archive(copy, CUT_DAY, target)
        verified = loaders_command(
            copy, "audit-verify", "--archive", str(target), extra_env=NO_LOG_FILE
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert f"archive {target.name} OK: 5 link(s) through link 5" in verified.stdout

        text = gzip.decompress(target.read_bytes())
        assert text.count(b'"status": "success"') == 2  # run-old, model.x.y
        tampered = tmp_path / "tampered.jsonl.gz"
        changed = text.replace(b'"reference": "DPO-1"', b'"reference": "DPO-7"', 1)
        assert changed != text
        tampered.write_bytes(gzip.compress(changed))
        broken = loaders_command(
            copy, "audit-verify", "--archive", str(tampered), extra_env=NO_LOG_FILE
        )
        assert broken.returncode == 1
        assert "BROKEN" in broken.stdout
        assert "audit.erasure_log" in broken.stdout and "row changed" in broken.stdout


@pytest.mark.parametrize(
    "change, problem",
    [
        ((b'"execution_time_s": 0.0000001', b'"execution_time_s": 0.0000002'), "row changed"),
        ((b'"rows": 1.50', b'"rows": 1.5'), "row changed"),  # as PostgreSQL wrote it, exactly
        ((b'"linked_at": "2025-01-15', b'"linked_at": "2025-01-14'), "SHA-256"),
    ],
)
def test_any_changed_byte_of_the_archive_is_found(
    trail: Settings, database_copy, tmp_path: Path, change: tuple[bytes, bytes], problem: str
) -> None:
    with database_copy(trail, "byte") as copy:
        target = tmp_path / "audit.jsonl.gz"
        archive(copy, CUT_DAY, target)
        text = gzip.decompress(target.read_bytes())
        assert change[0] in text
        target.write_bytes(gzip.compress(text.replace(change[0], change[1], 1), mtime=0))
        report = audit_chain.verify_archives(copy, [target])
        assert not report.ok
        assert any(problem in line for line in report.lines()), report.lines()


@pytest.mark.parametrize("table", AUDIT_TABLES)
def test_after_an_archive_other_deletions_stay_refused(
    trail: Settings, database_copy, tmp_path: Path, table: str
) -> None:
    with database_copy(trail, "refuse") as copy:
        archive(copy, CUT_DAY, tmp_path / "audit.jsonl.gz")
        execute(  # rows written after the archive, in the tables it emptied
            copy,
            "transformer",
            "insert into audit.dbt_run_results (run_id, invocation_id, unique_id, "
            "resource_type, status, generated_at) "
            "values ('run-open', 'inv-2', 'model.x.y', 'model', 'success', now()); "
            "insert into audit.erasure_log (reference, tokens_searched, rows_changed, "
            "remaining, source_files) values ('DPO-2', 1, '{}', '{}', 0)",
        )
        assert query(copy, f"select count(*) > 0 from audit.{table}") == [(True,)]
        for as_owner in ("", "set role windfarm_owner; "):
            with pytest.raises(psycopg2.Error, match="append-only") as refused:
                execute(copy, "admin", f"{as_owner}delete from audit.{table}")
            assert refused.value.pgcode == errorcodes.INSUFFICIENT_PRIVILEGE
            with pytest.raises(psycopg2.Error, match="append-only"):
                execute(copy, "admin", f"{as_owner}truncate audit.{table} cascade")
        for role in RUNTIME_ROLES:
            with pytest.raises(psycopg2.Error) as denied:
                execute(copy, role, f"delete from audit.{table}")
            assert denied.value.pgcode == errorcodes.INSUFFICIENT_PRIVILEGE
        assert audit_chain.verify(copy).ok


def test_the_archive_row_is_final_and_chained(
    trail: Settings, database_copy, tmp_path: Path
) -> None:
    with database_copy(trail, "final") as copy:
        archive(copy, CUT_DAY, tmp_path / "audit.jsonl.gz")
        with pytest.raises(psycopg2.Error, match="append-only"):
            execute(copy, "admin", "update audit.chain_archives set file_sha256 = 'x'")
        assert query(
            copy,
            "select count(*) from audit.audit_chain where table_name = 'chain_archives'",
        ) == [(1,)]
        execute(
            copy,
            "admin",
            "alter table audit.chain_archives disable trigger user; "
            "update audit.chain_archives set through_hash = repeat('1', 64); "
            "alter table audit.chain_archives enable trigger user",
        )
        report = audit_chain.verify(copy)
        assert not report.ok
        assert any("does not follow" in line for line in report.problems), report.problems
        assert any("audit.chain_archives" in line for line in report.problems), report.problems


def test_a_row_left_behind_by_a_forced_archive_is_found(
    trail: Settings, database_copy, tmp_path: Path
) -> None:
    """Links deleted with the triggers disabled but no archive recorded: BROKEN."""
    with database_copy(trail, "forced") as copy:
        execute(
            copy,
            "admin",
            "alter table audit.audit_chain disable trigger user; "
            "delete from audit.audit_chain where link_id <= 5; "
            "alter table audit.audit_chain enable trigger user",
        )
        report = audit_chain.verify(copy)
        assert not report.ok
        assert any("link 6: does not follow" in line for line in report.problems)
        refused = loaders_command(
            copy,
            "audit-archive",
            "--before",
            TOMORROW.isoformat(),
            "--to",
            str(tmp_path / "x.jsonl.gz"),
            "--reference",
            "R",
            extra_env=NO_LOG_FILE,
        )
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "BROKEN" in refused.stderr
        assert not (tmp_path / "x.jsonl.gz").exists()


def test_a_second_archive_joins_the_first(trail: Settings, database_copy, tmp_path: Path) -> None:
    with database_copy(trail, "second") as copy:
        first, second = tmp_path / "first.jsonl.gz", tmp_path / "second.jsonl.gz"
        archive(copy, CUT_DAY, first, reference="DPO-ARCH-1")
        close_run(copy, "run-open")
        archive(copy, TOMORROW, second, reference="DPO-ARCH-2")

        header = read_lines(second)[0]
        assert header["first_previous_hash"] == read_lines(first)[0]["through_hash"]
        assert header["rows"]["chain_archives"] == 1  # the first archive's row went with it
        assert query(copy, "select reference from audit.chain_archives") == [("DPO-ARCH-2",)]
        assert query(copy, "select count(*) from audit.pipeline_runs") == [(0,)]
        assert audit_chain.verify(copy).ok

        both = loaders_command(
            copy,
            "audit-verify",
            "--archive",
            str(first),
            "--archive",
            str(second),
            extra_env=NO_LOG_FILE,
        )
        assert both.returncode == 0, both.stdout + both.stderr
        assert f"archive {first.name} OK: 5 link(s) through link 5" in both.stdout
        assert f"archive {second.name} OK: 8 link(s) through link 13" in both.stdout
        # the first alone: its record is in the second file, which was not given
        alone = audit_chain.verify_archives(copy, [first])
        assert not alone.ok
        assert any("no audit.chain_archives row" in line for line in alone.lines())
        # the second alone starts at a recorded archive: fine
        assert audit_chain.verify_archives(copy, [second]).ok
        # a second file of another history (the same first links, archived another time)
        # does not join this first file: its record of the first archive is another file's
        with database_copy(trail, "branch") as branch:
            archive(branch, CUT_DAY, tmp_path / "branch-first.jsonl.gz")
            close_run(branch, "run-open")
            archive(branch, TOMORROW, tmp_path / "branch-second.jsonl.gz")
        joined = audit_chain.verify_archives(copy, [first, tmp_path / "branch-second.jsonl.gz"])
        assert not joined.ok
        assert any("SHA-256" in line for line in joined.lines()), joined.lines()


def test_bootstrap_runs_again_on_an_archived_trail(
    trail: Settings, database_copy, tmp_path: Path
) -> None:
    with database_copy(trail, "again") as copy:
        archive(copy, CUT_DAY, tmp_path / "audit.jsonl.gz")
        warehouse.bootstrap(copy)
        assert audit_chain.verify(copy).ok
        journal(copy, "P-after-bootstrap")
        assert audit_chain.verify(copy).ok
