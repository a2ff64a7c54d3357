"""SQL on a test warehouse, for set-up and assertions: one statement, its rows (and the
one count the fault tests assert: the sensor rows that landed).

One helper for every test module (they each had their own, with small differences). The
connection is in autocommit, so that a test's DDL, ANALYZE or UPDATE is there for the
code it then runs; as the administrator unless a role is named (a role's own rights are
what some tests check). tests/ is on pytest's pythonpath (pyproject.toml)."""

from __future__ import annotations

from loaders import warehouse
from loaders.settings import Settings


def query(
    settings: Settings, statement: str, params: tuple | dict = (), *, role: str = "admin"
) -> list[tuple]:
    """The statement's rows ([] for a statement that returns none). Without parameters the
    statement is sent as written: a `%` in it is not a placeholder."""
    connection = warehouse.connect(settings, role)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, params or None)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def scalar(
    settings: Settings, statement: str, params: tuple | dict = (), *, role: str = "admin"
) -> object:
    """The first column of the statement's first row."""
    return query(settings, statement, params, role=role)[0][0]


def execute(settings: Settings, role: str, statement: str, params: tuple | dict = ()) -> None:
    """One statement as `role`, for what it does (a refusal raises): the rights tests."""
    query(settings, statement, params, role=role)


def sensor_rows_landed(settings: Settings) -> int:
    """Rows the sensor loader kept: raw.scada_measurements plus its `__rejected` table
    (which dlt creates only once a row is rejected). A source row is in one or the other."""
    landed = int(scalar(settings, "select count(*) from raw.scada_measurements"))
    if scalar(settings, "select to_regclass('raw.scada_measurements__rejected') is not null"):
        landed += int(scalar(settings, "select count(*) from raw.scada_measurements__rejected"))
    return landed
