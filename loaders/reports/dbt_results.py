"""dbt's `run_results.json`, reduced to what the quality page says about the run's tests.

Read from the file rather than from the audit row because the audit row keeps only the
failures, while the page also states how many tests passed. The file's schema (v4 to v6
seen so far) is read defensively: a field dbt renames shows as "unknown", never a crash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

TEST_RESOURCE_TYPES = frozenset({"test", "unit_test"})
# A test that did not pass: dbt's statuses for a failed, erroring or warning test.
TEST_PROBLEM_STATUSES = frozenset({"fail", "error", "warn", "runtime error"})
# A model, seed or snapshot that did not build.
NODE_PROBLEM_STATUSES = frozenset({"error", "skipped", "runtime error"})


@dataclass(frozen=True)
class NodeResult:
    """One node of the dbt invocation: its id, kind, status and message."""

    unique_id: str
    resource_type: str
    status: str
    message: str | None
    failures: int | None

    @property
    def name(self) -> str:
        """The node's name without package and hash: `test.windfarm.not_null_x.1a2b` → …"""
        parts = self.unique_id.split(".")
        if len(parts) >= 3:
            return parts[2]
        return self.unique_id


@dataclass(frozen=True)
class DbtResults:
    """The results of one dbt invocation."""

    generated_at: datetime | None
    invocation_started_at: datetime | None
    command: str | None
    elapsed_seconds: float | None
    nodes: tuple[NodeResult, ...]

    @property
    def tests(self) -> tuple[NodeResult, ...]:
        return tuple(n for n in self.nodes if n.resource_type in TEST_RESOURCE_TYPES)

    @property
    def test_problems(self) -> tuple[NodeResult, ...]:
        """Failed, erroring and warning tests: errors first, then failures, then warnings."""
        rank = {"error": 0, "runtime error": 0, "fail": 1, "warn": 2}
        problems = [t for t in self.tests if t.status in TEST_PROBLEM_STATUSES]
        return tuple(sorted(problems, key=lambda t: (rank.get(t.status, 3), t.unique_id)))

    @property
    def node_problems(self) -> tuple[NodeResult, ...]:
        """Models, seeds and snapshots that errored or were skipped because of an error."""
        return tuple(
            n
            for n in self.nodes
            if n.resource_type not in TEST_RESOURCE_TYPES and n.status in NODE_PROBLEM_STATUSES
        )

    def count(self, resource_type: str) -> int:
        return sum(1 for n in self.nodes if n.resource_type == resource_type)


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _node(result: dict[str, Any]) -> NodeResult:
    unique_id = str(result.get("unique_id", "unknown"))
    failures = result.get("failures")
    message = result.get("message")
    return NodeResult(
        unique_id=unique_id,
        resource_type=unique_id.split(".", 1)[0],
        status=str(result.get("status", "unknown")).lower(),
        message=None if message is None else str(message),
        failures=failures if isinstance(failures, int) and not isinstance(failures, bool) else None,
    )


def parse(document: dict[str, Any]) -> DbtResults:
    """The parsed JSON of a run_results.json file."""
    metadata = document.get("metadata") or {}
    args = document.get("args") or {}
    elapsed = document.get("elapsed_time")
    return DbtResults(
        generated_at=_timestamp(metadata.get("generated_at")),
        invocation_started_at=_timestamp(metadata.get("invocation_started_at")),
        command=str(args["which"]) if args.get("which") else None,
        elapsed_seconds=float(elapsed) if isinstance(elapsed, int | float) else None,
        nodes=tuple(
            _node(result) for result in document.get("results") or [] if isinstance(result, dict)
        ),
    )


def load(path: Path) -> DbtResults | None:
    """The results in `path`, or None when the file is missing or not readable JSON."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return parse(document) if isinstance(document, dict) else None
