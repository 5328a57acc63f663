"""Metric Heatmap (team leads, QA, admins): every agent in scope against every evaluation metric, the share
not adhered coloured against their team's rate. Choosing a cell lists that agent's interactions where the
metric was not adhered (`?agent=PERSON&metric=NAME`), each opening its audit: the candidates for coaching.
The figures come from `coaching.metric_heatmap`, the chart from `coaching.charts`; the dates and teams are
the Team view's (`coaching.team`).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from coaching import charts
from coaching.access import Capability
from coaching.export import csv_bytes
from coaching.metric_heatmap import (
    BY_ABOVE_TEAM,
    BY_METRIC,
    BY_NAME,
    FEW,
    MOST_AGENTS,
    arrange,
    metric_heatmap,
    not_adhered_interactions,
    one_team,
)
from coaching.team import DEFAULT_DAYS, TeamFilters, team_choices
from ui import cache, clock, navigation, session, state
from ui.cache import scoped
from ui.text import escape_markdown

viewer = session.viewer(Capability.TEAM_ANALYTICS)
store = session.store()
today = clock.today()
#: The drill-down's cell in the URL: who (person_id, never a name) and which metric.
AGENT_PARAM, METRIC_PARAM = "agent", "metric"
#: The chart's selection as last seen, to tell a new choice from a run that only redrew the chart.
SEEN = "heatmap_seen"
#: The chosen cell, kept for the next visit: the way back from an audit (the browser's back button, the
#: sidebar) may bring another page's query, or none.
KEPT_CELL = "heatmap_cell"


def dates() -> tuple[date, date]:
    default = today - timedelta(days=DEFAULT_DAYS - 1)
    state.restore("heatmap_dates")  # still chosen after a look at an audit
    # The default goes in through the widget's state, never as `value` beside a restored one.
    st.session_state.setdefault("heatmap_dates", (default, today))
    chosen = st.date_input("Interactions between", max_value=today, format="YYYY-MM-DD", key="heatmap_dates")
    state.keep("heatmap_dates")
    start, end = (tuple(chosen) + (None, None))[:2] if chosen else (None, None)
    start = start or default
    return start, end or start


def order_choice(metrics: list[str]) -> tuple[str, str | None]:
    """How the chart orders its agents: (order, metric)."""
    options: list[tuple[str, str | None]] = [(BY_ABOVE_TEAM, None), (BY_NAME, None)]
    options += [(BY_METRIC, m) for m in metrics]
    names = {BY_ABOVE_TEAM: "Furthest above their team's rate", BY_NAME: "Name"}
    state.restore("heatmap_order")
    if st.session_state.get("heatmap_order") not in options:  # ordered by a metric these cells lack
        st.session_state.pop("heatmap_order", None)
    order, metric = st.selectbox(
        "Order agents by", options, key="heatmap_order",
        format_func=lambda o: names.get(o[0], f"Furthest above their team's rate on {o[1]}"))
    state.keep("heatmap_order")
    return order, metric


def download(frame: pd.DataFrame, name: str) -> None:
    """All cells, as CSV (safe to open in a spreadsheet), written only when someone asks for it."""
    st.download_button("Download CSV", lambda: csv_bytes(frame), file_name=f"{name}.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore", key=f"csv_{name}")


def follow_the_chart(event: object) -> None:
    """A cell chosen on the chart (or a choice cleared) becomes the drill-down in the URL. A run where the
    chart's selection did not change (a filter changed, or the page was reopened after an audit, when the
    chart starts unselected) leaves the URL's cell as it is."""
    picked = ((event or {}).get("selection") or {}).get(charts.CELL_PICK) or []
    cell = (picked[0].get("person_id"), picked[0].get("metric")) if picked else None
    if cell == st.session_state.get(SEEN):
        return
    st.session_state[SEEN] = cell
    if cell and all(cell):
        st.query_params.from_dict({AGENT_PARAM: cell[0], METRIC_PARAM: cell[1]})
        st.session_state[KEPT_CELL] = cell
    else:
        st.query_params.clear()
        st.session_state.pop(KEPT_CELL, None)


def chosen_cell() -> tuple[str, str] | None:
    """The cell to list: the URL's, else the one chosen before a look at an audit (then put back in the URL)."""
    person_id, metric = st.query_params.get(AGENT_PARAM), st.query_params.get(METRIC_PARAM)
    cell = (person_id, metric) if person_id and metric else st.session_state.get(KEPT_CELL)
    if cell:
        st.session_state[KEPT_CELL] = cell
        if (person_id, metric) != cell or len(st.query_params) > 2:
            st.query_params.from_dict({AGENT_PARAM: cell[0], METRIC_PARAM: cell[1]})
    return cell


def show_interactions(filters: TeamFilters, cells: pd.DataFrame) -> None:
    chosen = chosen_cell()
    if chosen is None:
        return
    person_id, metric = chosen
    cell = cells[(cells["person_id"] == person_id) & (cells["metric"] == metric)]
    if cell.empty:  # not in these dates or teams, or not one the viewer may see
        st.info("That agent has no scored interactions of that metric in these dates and teams.")
        return
    row = cell.iloc[0]
    st.subheader(f"{escape_markdown(row['agent'])} · {escape_markdown(metric)}")
    rows = scoped(store, viewer, not_adhered_interactions, filters, person_id, metric)
    st.caption(f"Not adhered in {row['not_adhered']:,} of {row['scored']:,} scored interactions "
               f"({row['share']:.0%}; their team's rate {row['team_rate']:.0%}), newest first. Choose one to open "
               "its audit.")
    if rows.empty:
        return
    picked = st.dataframe(
        rows,
        column_order=["date", "queues", "kore_score", "audit_score"],
        column_config={
            "date": st.column_config.DatetimeColumn("Date", format="DD MMM YYYY HH:mm", width=140,
                                                    help="When the interaction started (UTC)"),
            "queues": st.column_config.TextColumn("Queues", width=180),
            "kore_score": st.column_config.NumberColumn("Kore Evaluation Score", format="%g", width=120,
                                                        help="−100…100; empty below the duration threshold"),
            "audit_score": st.column_config.NumberColumn("Supervisor Audit Score", format="%g", width=120,
                                                         help="After the last re-evaluation, if any; empty "
                                                         "until audited"),
        },
        hide_index=True, on_select="rerun", selection_mode="single-row", key="heatmap_rows", placeholder="—",
    )
    if (interaction := navigation.chosen_row(picked, rows)) is not None:
        st.session_state[SEEN] = None  # the chart starts unselected when this page is opened again
        navigation.open_audit(interaction["conversation_id"])


def show() -> None:
    st.title("Metric Heatmap")
    left, right = st.columns([2, 3])
    with left:
        start, end = dates()
    offered = scoped(store, viewer, team_choices)
    state.restore("heatmap_teams", offered)
    teams = right.multiselect("Team", offered, key="heatmap_teams", placeholder="Every team in your view")
    state.keep("heatmap_teams")
    filters = TeamFilters(start, end, tuple(teams))
    cells = scoped(store, viewer, metric_heatmap, filters)
    if cells.empty:
        st.info("No evaluated interactions with metric results in these dates and teams.")
        return

    agents = cells["person_id"].nunique()
    order, on_metric = order_choice(sorted(cells["metric"].unique()))
    shown = arrange(cells, order, on_metric, MOST_AGENTS)
    columns = ("Above each column, the team's rate for the metric." if one_team(shown)
               else "Point at a cell for the agent's team and its rate.")
    no_team = " Agents without a team are compared with each other." if shown["team"].isna().any() else ""
    st.caption(
        "Each cell is the share of an agent's scored interactions where the metric was not adhered, coloured "
        "against their team's rate for that metric (the share over their team's agents here): red, not adhered "
        f"more often than their team; blue, less. {columns}{no_team} Faded cells with a dot rest on fewer than "
        f"{FEW} scored interactions; grey ones have none. Choose a cell to list its interactions."
    )
    if agents > MOST_AGENTS:
        st.caption(f"The chart draws {MOST_AGENTS} of {agents:,} agents (choose the order above, or narrow by "
                   "team); the CSV has every cell.")
    event = st.altair_chart(cache.chart(charts.metric_heatmap_chart, shown), on_select="rerun",
                            key="heatmap_chart", selection_mode=charts.CELL_PICK)
    follow_the_chart(event)
    download(cells, "metric-heatmap")
    show_interactions(filters, cells)


show()
