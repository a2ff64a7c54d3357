"""The warehouse explorer: a Streamlit page (`python -m loaders explore`, `make explore`).

Five views, chosen in the sidebar: the fleet by turbine and day, one turbine's signals over
time with its states, flags, alarms, maintenance and failure labels, its power curve, the
ML feature table with the split rule applied, and the ingestion runs. Queries are in
queries.py; each answer is cached for a few minutes (the warehouse changes once a day).
Charts are Altair (Vega-Lite), which Streamlit bundles: the page needs no network."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from loaders.explore import queries
from loaders.settings import Settings, load_settings

VIEWS = ("Fleet", "Turbine", "Power curve", "ML mart", "Ingestion")
SIGNALS = (
    "wind_speed",
    "active_power",
    "rotor_speed",
    "gearbox_oil_temp",
    "gearbox_bearing_temp",
    "generator_stator_temp",
    "nacelle_temp",
    "ambient_temp",
)
CACHE_SECONDS = 300


@st.cache_resource
def settings() -> Settings:
    return load_settings()


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def cached(name: str, *args: object) -> object:
    """One query of queries.py by name, cached on its arguments."""
    return getattr(queries, name)(settings(), *args)


def day_range(
    key: str, span: tuple[date, date], default_days: int | None = None
) -> tuple[datetime, datetime]:
    """A date range input, as [first day 00:00 UTC, day after the last 00:00 UTC)."""
    first, last = span
    start = max(first, last - timedelta(days=default_days - 1)) if default_days else first
    chosen = st.sidebar.date_input("Days", (start, last), min_value=first, max_value=last, key=key)
    if isinstance(chosen, tuple) and len(chosen) == 2:
        start, end = chosen
    else:
        start = end = chosen[0] if isinstance(chosen, tuple) else chosen
    utc = UTC
    return datetime.combine(start, time.min, utc), datetime.combine(
        end + timedelta(days=1), time.min, utc
    )


def fleet_view(span: tuple[date, date]) -> None:
    first, last = day_range("fleet_days", span)
    days = cached("fleet_days", first.date(), (last - timedelta(days=1)).date())
    if days.empty:
        st.info("No measurements in this range.")
        return
    days["day"] = pd.to_datetime(days["day"])
    st.subheader("Data completeness (share of the day's periods with a source row)")
    st.altair_chart(_heatmap(days, "completeness", "blues", ".0%"), width="stretch")
    st.subheader("QC-flagged periods")
    st.altair_chart(_heatmap(days, "flagged_periods", "oranges", "d"), width="stretch")
    st.subheader("Energy produced (kWh)")
    st.altair_chart(
        alt.Chart(days)
        .mark_bar()
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("energy_kwh:Q", title="kWh"),
            color="turbine_id:N",
            tooltip=["turbine_id", "day", "energy_kwh"],
        ),
        width="stretch",
    )
    shares = days.melt(
        id_vars=["turbine_id", "day"],
        value_vars=["share_producing", "share_idle_low_wind", "share_down", "share_no_data"],
        var_name="state",
        value_name="share",
    )
    st.subheader("Operating states")
    st.altair_chart(
        alt.Chart(shares)
        .mark_bar()
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("share:Q", stack="normalize", title=None),
            color="state:N",
            row=alt.Row("turbine_id:N", title=None),
            tooltip=["turbine_id", "day", "state", alt.Tooltip("share:Q", format=".0%")],
        )
        .properties(height=80),
        width="stretch",
    )
    availability = cached("availability_days", first.date(), (last - timedelta(days=1)).date())
    if not availability.empty:
        availability["day"] = pd.to_datetime(availability["day"])
        st.subheader("Availability (IEC 61400-26: time-based)")
        st.altair_chart(
            _heatmap(availability, "time_based_availability", "greens", ".0%"),
            width="stretch",
        )
        st.subheader(
            "Availability and lost energy per turbine (IEC 61400-26, docs/availability.md)"
        )
        st.dataframe(
            cached("availability_turbines", first.date(), (last - timedelta(days=1)).date()),
            hide_index=True,
        )
    flagged = days[(days["completeness"] < 0.95) | (days["flagged_periods"] > 0)]
    st.subheader("Days that failed a check (completeness below 95 % or QC flags)")
    st.dataframe(
        flagged[
            [
                "turbine_id",
                "day",
                "completeness",
                "flagged_periods",
                "out_of_range_periods",
                "frozen_periods",
                "spike_periods",
                "power_curve_outliers",
            ]
        ],
        hide_index=True,
    )


def _heatmap(frame: pd.DataFrame, value: str, scheme: str, number_format: str) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("turbine_id:N", title=None),
            color=alt.Color(f"{value}:Q", scale=alt.Scale(scheme=scheme), title=None),
            tooltip=["turbine_id", "day", alt.Tooltip(f"{value}:Q", format=number_format)],
        )
    )


def turbine_view(span: tuple[date, date], turbine_ids: list[str]) -> None:
    turbine_id = st.sidebar.selectbox("Turbine", turbine_ids, key="turbine")
    other = st.sidebar.selectbox(
        "Compare with", ["—", *[t for t in turbine_ids if t != turbine_id]], key="compare"
    )
    first, last = day_range("turbine_days", span, default_days=7)
    chosen = st.sidebar.multiselect(
        "Signals", SIGNALS, default=["active_power", "gearbox_bearing_temp"], key="signals"
    )
    grain, rows = cached("signals", turbine_id, first, last)
    st.caption(f"{turbine_id}: {len(rows):,} rows at {grain} grain")
    if rows.empty or not chosen:
        st.info("No rows for this turbine and range, or no signal chosen.")
        return
    frames = [rows.assign(turbine_id=turbine_id)]
    if other != "—":
        frames.append(cached("signals", other, first, last)[1].assign(turbine_id=other))
    long = pd.concat(frames).melt(
        id_vars=["at", "turbine_id", "operating_state", "qc_flag_count"],
        value_vars=chosen,
        var_name="signal",
        value_name="value",
    )
    long["at"] = pd.to_datetime(long["at"], utc=True)
    # each row's state as a band as wide as its grain (Vega cannot add to Arrow timestamps)
    states = rows.assign(at=pd.to_datetime(rows["at"], utc=True))
    states["at_end"] = states["at"] + pd.Timedelta(
        {"10 min": "10min", "hour": "1h"}.get(grain, "1D")
    )
    bands = (
        alt.Chart(states[states["operating_state"] != "producing"])
        .mark_rect(opacity=0.15)
        .encode(
            x="at:T",
            x2=alt.X2("at_end:T"),
            color=alt.Color("operating_state:N", title="state"),
        )
    )
    events = cached("events", turbine_id, first, last)
    if not events.empty:
        events = events.assign(started_at=pd.to_datetime(events["started_at"], utc=True))
    panels = []
    for signal in chosen:  # one panel per signal: temperatures and kW need their own axes
        values = long[long["signal"] == signal]
        layers = [
            bands,
            alt.Chart(values)
            .mark_line()
            .encode(
                x=alt.X("at:T", title=None),
                y=alt.Y("value:Q", title=signal),
                color=alt.Color("turbine_id:N", title="turbine"),
                tooltip=["turbine_id", "at", "value"],
            ),
            alt.Chart(values[values["qc_flag_count"] > 0])
            .mark_point(color="red", size=20)
            .encode(x="at:T", y="value:Q", tooltip=["at", "turbine_id", "qc_flag_count"]),
        ]
        if not events.empty:
            layers.append(
                alt.Chart(events)
                .mark_rule(strokeWidth=2)
                .encode(
                    x="started_at:T",
                    color=alt.Color("kind:N", title="event"),
                    tooltip=["kind", "label", "started_at"],
                )
            )
        panels.append(alt.layer(*layers).resolve_scale(color="independent").properties(height=180))
    st.altair_chart(alt.vconcat(*panels), width="stretch")
    labels = cached("failure_labels", turbine_id, first, last)
    if not labels.empty:
        labels = labels.melt(id_vars=["at"], var_name="label", value_name="is_set")
        labels["at"] = pd.to_datetime(labels["at"], utc=True)
        st.subheader("Failure labels (ML mart): failure within 7 / 30 days, in repair")
        st.altair_chart(
            alt.Chart(labels[labels["is_set"].astype(bool)])
            .mark_tick(thickness=2)
            .encode(
                x=alt.X("at:T", title=None),
                y=alt.Y("label:N", title=None),
                color="label:N",
            ),
            width="stretch",
        )
    st.subheader("Alarms and maintenance")
    st.dataframe(events, hide_index=True)


def power_curve_view(span: tuple[date, date], turbine_ids: list[str]) -> None:
    turbine_id = st.sidebar.selectbox("Turbine", turbine_ids, key="curve_turbine")
    first, last = day_range("curve_days", span)
    periods, curve = cached("power_curve", turbine_id, first, last)
    st.caption(
        f"{turbine_id}: {len(periods):,} periods, valid and QC-flagged, against the model's curve"
    )
    if periods.empty:
        st.info("No periods with wind and power in this range.")
        return
    points = (
        alt.Chart(periods)
        .mark_circle(size=8, opacity=0.5)
        .encode(
            x=alt.X("wind_speed:Q", title="wind speed (m/s)"),
            y=alt.Y("active_power:Q", title="power (kW)"),
            color=alt.Color(
                "qc:N", scale=alt.Scale(domain=["valid", "flagged"], range=["#1f77b4", "#d62728"])
            ),
        )
    )
    model = alt.Chart(curve).mark_line(color="black").encode(x="wind_speed:Q", y="expected_power:Q")
    st.altair_chart(points + model, width="stretch")


def ml_view(span: tuple[date, date], turbine_ids: list[str]) -> None:
    turbine_id = st.sidebar.selectbox("Turbine", turbine_ids, key="ml_turbine")
    first, last = day_range("ml_days", span)
    horizon = st.sidebar.radio("Horizon (days)", (7, 30), horizontal=True, key="ml_horizon")
    features = cached("ml_features", turbine_id, first, last)
    if features.empty:
        st.info("No feature rows for this turbine and range.")
        return
    features["hour_at"] = pd.to_datetime(features["hour_at"], utc=True)
    hours = features["hour_at"]
    default_cutoff = (hours.min() + (hours.max() - hours.min()) * 0.7).to_pydatetime()
    cutoff = st.sidebar.slider(
        "Cutoff T (docs/ml_features.md)",
        hours.min().to_pydatetime(),
        hours.max().to_pydatetime(),
        default_cutoff,
        key="ml_cutoff",
    )
    label = f"will_fail_any_{horizon}d"
    usable = ~features["is_in_repair"].astype(bool) & features[
        f"is_label_complete_{horizon}d"
    ].astype(bool)
    features["split"] = "gap (not used)"
    features.loc[usable & (hours <= pd.Timestamp(cutoff) - pd.Timedelta(days=horizon)), "split"] = (
        "train"
    )
    features.loc[usable & (hours > pd.Timestamp(cutoff)), "split"] = "test"
    features.loc[~usable, "split"] = "dropped (repair or incomplete label)"
    st.subheader("Label timeline and the split rule (train ≤ T − horizon, test > T)")
    st.altair_chart(
        alt.Chart(features)
        .mark_tick(thickness=2)
        .encode(
            x=alt.X("hour_at:T", title=None),
            y=alt.Y("split:N", title=None),
            color=alt.Color(f"{label}:N", title=label),
        ),
        width="stretch",
    )
    st.write(features["split"].value_counts().rename("hours").to_frame())
    numeric = [c for c in features.columns if features[c].dtype.kind == "f"]
    feature = st.sidebar.selectbox(
        "Feature",
        numeric,
        index=numeric.index("gearbox_bearing_temp_residual")
        if "gearbox_bearing_temp_residual" in numeric
        else 0,
        key="ml_feature",
    )
    st.subheader(f"Distribution of {feature} per label")
    st.altair_chart(
        alt.Chart(features.dropna(subset=[feature]))
        .mark_bar(opacity=0.6)
        .encode(
            x=alt.X(f"{feature}:Q", bin=alt.Bin(maxbins=40)),
            y=alt.Y("count()", stack=None),
            color=alt.Color(f"{label}:N"),
        ),
        width="stretch",
    )
    st.dataframe(features.drop(columns=["split"]).head(500), hide_index=True)


def ingestion_view() -> None:
    runs = cached("runs")
    st.subheader("Runs (audit trail, read as the quality reader)")
    if runs.empty:
        st.info("No run recorded yet.")
    else:
        table = runs[
            ["run_id", "status", "started_at", "duration_s", "date_from", "date_to", "dbt_status"]
        ].copy()
        for source in ("sensor_db", "production_csv", "weather_api"):
            table[f"{source} rows"] = runs["rows_by_source"].map(
                lambda r, s=source: _rows(r, s, "rows_loaded")
            )
            table[f"{source} rejected"] = runs["rows_by_source"].map(
                lambda r, s=source: _rows(r, s, "rows_rejected")
            )
        # a file on the server: a browser does not open file:// links from an http page
        table["quality page (file)"] = runs["report_path"]
        st.dataframe(table, hide_index=True)
        errors = runs[runs["errors"].map(bool)][["run_id", "status", "errors"]]
        if not errors.empty:
            st.subheader("What failed, per run")
            st.dataframe(errors, hide_index=True)
    st.subheader("Rows landed and rejected per raw table (quality mart)")
    st.dataframe(cached("source_rows"), hide_index=True)


def _rows(by_source: object, source: str, key: str) -> object:
    details = by_source.get(source, {}) if isinstance(by_source, dict) else {}
    return details.get(key)


def main() -> None:
    st.set_page_config(page_title="Wind farm explorer", layout="wide")
    st.sidebar.title("Wind farm explorer")
    view = st.sidebar.radio("View", VIEWS, key="view")
    st.title(view)
    if view == "Ingestion":
        ingestion_view()
        return
    span = cached("data_span")
    turbine_ids = list(cached("turbines")["turbine_id"])
    if span is None or not turbine_ids:
        st.warning("The warehouse has no measurements yet: run `make demo` (or a day) first.")
        return
    {
        "Fleet": lambda: fleet_view(span),
        "Turbine": lambda: turbine_view(span, turbine_ids),
        "Power curve": lambda: power_curve_view(span, turbine_ids),
        "ML mart": lambda: ml_view(span, turbine_ids),
    }[view]()


main()
