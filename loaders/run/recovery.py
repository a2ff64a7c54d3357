"""What a run repairs before it starts: the traces of runs that died, and sources that were
down on earlier days.

Both are only safe while the run lock is held (loaders/run/runlock.py): then no other run is
in progress on this warehouse, so an audit row still `running` belongs to a run that was
killed, and nothing else is loading the days being caught up.
"""

from __future__ import annotations

from datetime import date, timedelta

from loaders.settings import Settings
from loaders.warehouse import connect

# run_id suffix of the runs that only run dbt (a backfill's final build, `rebuild`): they
# load nothing, so they never say whether a day's sources were loaded.
DBT_ONLY_SUFFIX = "-dbt"


def close_interrupted_runs(settings: Settings, run_id: str) -> list[str]:
    """Close the audit rows left `running` by killed runs: status failed, and why.

    ended_at becomes the time the interruption was noticed (the row says so), which closes
    the row for good. Their days are then not `success`, so a backfill reloads them.
    """
    connection = connect(settings, "transformer")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                """
                update audit.pipeline_runs
                   set status = 'failed',
                       ended_at = now(),
                       errors = errors || jsonb_build_object('interrupted', %s::text)
                 where status = 'running' and ended_at is null and run_id <> %s
                returning run_id
                """,
                (
                    "the run never finished (killed, or its host or the database stopped); "
                    f"closed by run {run_id}, ended_at is when that run noticed",
                    run_id,
                ),
            )
            closed = [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()
    return sorted(closed)


def weather_days_to_catch_up(settings: Settings, run_id: str, date_from: date) -> list[date]:
    """Days before `date_from`, within `weather_catchup_days`, that an earlier run covered but
    that still lack complete weather (the API was down, or answered empty hours).

    A day that no run ever covered is not "missing": it may be before the warehouse's
    history began, or outside what the API serves.
    """
    days = settings.weather_catchup_days
    if days <= 0:
        return []
    first, last = date_from - timedelta(days=days), date_from - timedelta(days=1)
    connection = connect(settings, "transformer")
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("select to_regclass('raw.weather_hourly') is not null")
            has_table = cursor.fetchone()[0]
            hours = (
                """
                (select count(*) from raw.weather_hourly as weather
                  where weather.observed_date = day.day
                    and coalesce(weather.temperature_2m, weather.wind_speed_10m) is not null)
                < 24 * (select greatest(1, count(distinct site_code)) from raw.weather_hourly)
                """
                if has_table
                else "true"
            )
            cursor.execute(
                f"""
                select day.day::date
                  from generate_series(%(first)s::date, %(last)s::date, interval '1 day')
                       as day (day)
                 where exists (
                        select from audit.pipeline_runs as runs
                         where runs.run_id <> %(run_id)s
                           and runs.run_id not like %(dbt_only)s
                           and day.day::date between runs.date_from and runs.date_to
                       )
                   and {hours}
                 order by 1
                """,  # noqa: S608 - `hours` is one of two constant fragments
                {
                    "first": first,
                    "last": last,
                    "run_id": run_id,
                    "dbt_only": f"%{DBT_ONLY_SUFFIX}",
                },
            )
            return [row[0] for row in cursor]
    finally:
        connection.close()
