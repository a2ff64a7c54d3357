"""The data scientists' typical queries on the marts, timed as the analyst role.

Each query runs twice and the second (warm cache) time is kept, with the plan's scan nodes
so that the page shows which index, if any, answered it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from loaders import warehouse
from loaders.settings import Settings


@dataclass(frozen=True)
class Query:
    name: str
    purpose: str
    sql: str


QUERIES: tuple[Query, ...] = (
    Query(
        "turbine_hourly_30d",
        "one turbine's hourly features over its last 30 days (a model's input window)",
        """
        select date_trunc('hour', measured_at) as hour_at,
               avg(wind_speed_avg) as wind_speed, avg(active_power_avg) as power,
               max(gearbox_bearing_temp_avg) as bearing_temp_max,
               avg(gearbox_oil_temp_avg) as oil_temp,
               count(*) filter (where is_valid) as valid_periods
          from core.fct_turbine_measurements
         where turbine_id = %(turbine)s
           and measured_at >= %(end)s - interval '30 days' and measured_at < %(end)s
         group by 1 order by 1
        """,
    ),
    Query(
        "turbine_event_window",
        "one turbine's 10-minute rows three days either side of an event (a failure)",
        """
        select measured_at, gearbox_bearing_temp_avg, active_power_avg, wind_speed_avg,
               qc_flag_count, is_gap
          from core.fct_turbine_measurements
         where turbine_id = %(turbine)s
           and measured_at between %(event)s - interval '3 days'
                               and %(event)s + interval '3 days'
         order by measured_at
        """,
    ),
    Query(
        "fleet_latest_day",
        "every turbine's summary of the newest day (the daily scoring batch)",
        """
        select turbine_id, avg(wind_speed_avg) as wind_speed,
               sum(active_power_avg) / 6 as energy_kwh,
               max(gearbox_bearing_temp_avg) as bearing_temp_max,
               avg(is_valid::integer) as valid_share
          from core.fct_turbine_measurements
         where measured_date = %(day)s
         group by turbine_id order by turbine_id
        """,
    ),
    Query(
        "fleet_daily_production_30d",
        "fleet production per day over the last 30 days, through dim_date",
        """
        select d.calendar_date, d.is_weekend,
               sum(f.active_power_avg) / 6 as energy_kwh,
               avg(f.is_valid::integer) as valid_share
          from core.fct_turbine_measurements as f
          join core.dim_date as d on d.date_key = f.date_key
         where d.calendar_date > %(day)s - 30 and d.calendar_date <= %(day)s
         group by 1, 2 order by 1
        """,
    ),
    Query(
        "fleet_monthly_production_all",
        "fleet production per month and turbine over the whole history (a full scan)",
        """
        select date_trunc('month', measured_date) as month, turbine_id,
               sum(active_power_avg) / 6 as energy_kwh,
               avg(is_valid::integer) as valid_share
          from core.fct_turbine_measurements
         group by 1, 2 order by 1, 2
        """,
    ),
)


def _scans(plan: dict[str, Any]) -> list[str]:
    """The plan's scan nodes, e.g. 'Index Scan using ix on fct_turbine_measurements'."""
    found = []
    node_type = plan.get("Node Type", "")
    if "Scan" in node_type and "Relation Name" in plan:
        index = f" using {plan['Index Name']}" if plan.get("Index Name") else ""
        found.append(f"{node_type}{index} on {plan['Relation Name']}")
    for child in plan.get("Plans", []):
        found.extend(_scans(child))
    return found


def run_queries(settings: Settings, turbine: str, last_day: date) -> list[dict[str, Any]]:
    """Time every query on the marts as the analyst; parameters point at real data."""
    end = datetime.combine(last_day + timedelta(days=1), datetime.min.time())
    parameters = {
        "turbine": turbine,
        "end": end,
        "event": end - timedelta(days=10),
        "day": last_day,
    }
    timings = []
    connection = warehouse.connect(settings, "analyst")
    try:
        with connection.cursor() as cursor:
            cursor.execute("set time zone 'UTC'")
            for query in QUERIES:
                cursor.execute("explain (format json) " + query.sql, parameters)
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                seconds = []
                for _ in range(2):
                    started = time.perf_counter()
                    cursor.execute(query.sql, parameters)
                    rows = cursor.fetchall()
                    seconds.append(time.perf_counter() - started)
                timings.append(
                    {
                        "name": query.name,
                        "purpose": query.purpose,
                        "first_seconds": round(seconds[0], 3),
                        "seconds": round(seconds[1], 3),
                        "rows": len(rows),
                        "scans": sorted(set(_scans(plan[0]["Plan"]))),
                    }
                )
            connection.rollback()
    finally:
        connection.close()
    return timings
