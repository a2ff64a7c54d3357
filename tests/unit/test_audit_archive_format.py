"""The archive verifier re-makes PostgreSQL's `jsonb` text in Python (loaders/run/
audit_chain.py): a row's digest in an archive file is checked without the database. The
expected texts below are what PostgreSQL 15 printed for the same values."""

from __future__ import annotations

import hashlib

from loaders.run import audit_chain

POSTGRES_TEXT = (
    '{"a": 0.0000001, "b": 1, "c": 1.50, "d": 0.0, "e": 12345678901234567890, "f": true, '
    '"g": false, "h": {}, "i": [], "aa": [1, null, {"x": null, "é": "a\\u0001\\"\\\\\\n\\t/"}]}'
)
POSTGRES_STRIPPED = (
    '{"a": 0.0000001, "b": 1, "c": 1.50, "d": 0.0, "e": 12345678901234567890, "f": true, '
    '"g": false, "h": {}, "i": [], "aa": [1, null, {"é": "a\\u0001\\"\\\\\\n\\t/"}]}'
)


def test_jsonb_text_is_postgres_own_keys_order_escapes_and_numbers() -> None:
    parsed = audit_chain.parse_archive_line(POSTGRES_TEXT)
    assert audit_chain.jsonb_text(parsed) == POSTGRES_TEXT
    assert audit_chain.jsonb_text(audit_chain.strip_nulls(parsed)) == POSTGRES_STRIPPED


def test_row_digest_is_over_the_text_without_nulls() -> None:
    parsed = audit_chain.parse_archive_line(POSTGRES_TEXT)
    expected = hashlib.sha256(POSTGRES_STRIPPED.encode()).hexdigest()
    assert audit_chain.row_digest(parsed) == expected
    # a number written otherwise is another row: 1.5 is not the 1.50 PostgreSQL stored
    other = audit_chain.parse_archive_line(POSTGRES_TEXT.replace("1.50", "1.5"))
    assert audit_chain.row_digest(other) != expected


def test_row_key_is_audit_row_key() -> None:
    assert audit_chain.row_key("pipeline_runs", {"run_id": "r1"}) == "r1"
    assert audit_chain.row_key("dbt_run_results", {"invocation_id": "i", "unique_id": "u"}) == (
        "i/u"
    )
    archive_row = {"archived_at": "2026-01-01T00:00:00+00:00", "reference": "DPO-1"}
    assert audit_chain.row_key("chain_archives", archive_row) == "2026-01-01T00:00:00+00:00/DPO-1"
    assert audit_chain.row_key("privacy_log", {"reference": "x"}) is None
