"""One run at a time per warehouse: a PostgreSQL advisory lock held for the run's duration.

Why in PostgreSQL rather than a lock file: the warehouse is what two overlapping runs would
damage, and the hosts that may start a run (the cron machine, an operator's backfill from
another box) share the database, not a disk. The lock belongs to a dedicated session that
stays open for the whole run; PostgreSQL releases it when that session ends, so a run
killed with SIGKILL, or a host that loses power, leaves no stale lock behind. Advisory locks
are per database: test databases and the production warehouse do not block each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from loaders.settings import Settings
from loaders.warehouse import connect

LOCK_NAME = "windfarm-elt:run"
APPLICATION_PREFIX = "windfarm-elt"


class RunLockedError(RuntimeError):
    """Another run holds the lock; the message says which, from where, since when."""


def lock_key() -> int:
    """The lock's 64-bit key, derived from a fixed name (stable across versions and hosts)."""
    digest = hashlib.sha256(LOCK_NAME.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _key_parts() -> tuple[int, int]:
    """pg_locks shows a bigint advisory key as classid (high 32 bits) and objid (low)."""
    unsigned = lock_key() & 0xFFFFFFFFFFFFFFFF
    return unsigned >> 32, unsigned & 0xFFFFFFFF


@dataclass
class RunLock:
    """The held lock: its session must stay open until the run ends."""

    owner: str
    connection: Any


@dataclass(frozen=True)
class Holder:
    application_name: str
    pid: int
    since: Any
    client: str

    def describe(self) -> str:
        name = self.application_name or "a session without a name"
        since = f"{self.since:%Y-%m-%d %H:%M:%S %Z}" if self.since else "?"
        return f"{name} (PostgreSQL pid {self.pid}, since {since}, from {self.client})"


def _holder(cursor: Any) -> Holder | None:
    high, low = _key_parts()
    cursor.execute(
        """
        select activity.application_name, activity.pid, activity.backend_start,
               coalesce(host(activity.client_addr), 'a local socket')
          from pg_locks as locks
          join pg_stat_activity as activity on activity.pid = locks.pid
         where locks.locktype = 'advisory' and locks.granted
           and locks.database = (select oid from pg_database where datname = current_database())
           and locks.classid = %s::bigint::oid and locks.objid = %s::bigint::oid
           and locks.objsubid = 1
        """,
        (high, low),
    )
    row = cursor.fetchone()
    return Holder(*row) if row else None


def current_holder(settings: Settings) -> Holder | None:
    """Who holds the run lock now (None: no run is in progress)."""
    connection = connect(settings, "transformer")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            return _holder(cursor)
    finally:
        connection.close()


@contextmanager
def hold(settings: Settings, owner: str) -> Iterator[RunLock]:
    """Take the lock or raise RunLockedError at once (a nightly run must not queue behind a
    stuck one: it reports and exits, and the next night catches up)."""
    connection = connect(settings, "transformer")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(
                "select set_config('application_name', %s, false)",
                (f"{APPLICATION_PREFIX} {owner}"[:63],),
            )
            cursor.execute("select pg_try_advisory_lock(%s)", (lock_key(),))
            if not cursor.fetchone()[0]:
                holder = _holder(cursor)
                who = holder.describe() if holder else "a session that has just ended"
                raise RunLockedError(
                    f"another run holds the lock on database {settings.database} at "
                    f"{settings.pghost}:{settings.pgport}: {who}. Nothing was done; "
                    "`python -m loaders status` shows the runs."
                )
        yield RunLock(owner, connection)
    finally:
        connection.close()  # ending the session releases the lock
