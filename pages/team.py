"""Team: one row per agent in the viewer's scope (a lead's team; everyone for QA and admins), to scan who
is slipping, on what, and whether their coaching is under way. The figures come from `coaching.team`,
sorted and cut into pages there; choosing an agent opens their Score Trends or their coaching sessions.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from coaching import settings
from coaching.access import Capability
from coaching.export import csv_bytes
from coaching.scores import FEW
from coaching.team import (
    DEFAULT_DAYS,
    FALL_STANDARD_ERRORS,
    LABELS,
    PAGE_SIZE,
    SORTS,
    TeamFilters,
    change_text,
    team_choices,
    team_page,
    team_table,
)
from ui import clock, navigation, session, state
from ui.cache import scoped
from ui.text import escape_markdown

viewer = session.viewer(Capability.TEAM_ANALYTICS)
store = session.store()
options = settings.review_settings()
today = clock.today()
#: The height of a row of the table, in pixels (Streamlit's default), to show a whole page without a scrollbar.
ROW_HEIGHT = 35
DIRECTIONS = ("Descending", "Ascending")
#: The direction buttons show an arrow only (two words do not fit beside the filters at 1280 px).
ARROWS = {"Descending": ":material/arrow_downward:", "Ascending": ":material/arrow_upward:"}


def date_controls(column) -> tuple[date, date]:
    """The dates chosen (a range still being picked counts its first day as both ends)."""
    default = (today - timedelta(days=DEFAULT_DAYS - 1), today)
    st.session_state.setdefault("team_dates", default)  # the state, not value=: restore() may have set it
    dates = column.date_input("Interactions between", max_value=today, format="YYYY-MM-DD", key="team_dates")
    start, end = (tuple(dates) + (None, None))[:2] if dates else (None, None)
    start = start or default[0]
    return start, end or start


def download(filters: TeamFilters, sort: str, descending: bool) -> None:
    """Every agent's row as CSV (safe to open in a spreadsheet), computed only when someone asks for it."""
    def whole_table() -> bytes:
        with store.snapshot() as con:
            return csv_bytes(team_table(con, viewer, filters, sort, descending, options.pass_score, today))

    st.download_button("Download CSV", whole_table, file_name="team.csv", mime="text/csv",
                       icon=":material/download:", on_click="ignore", key="team_csv")


def shown(rows: pd.DataFrame) -> pd.DataFrame:
    """The page's rows as the table shows them: changes with an arrow and a signed number, shares in
    percent (Streamlit's "percent" format shows a varying number of decimals)."""
    return rows.assign(
        **{f"{measure}_change_text": rows[f"{measure}_change"].map(change_text)
           for measure in ("kore", "audit", "sentiment")},
        flag=rows["flag"].fillna(""), pass_percent=rows["pass_rate"] * 100,
        overturn_percent=rows["overturn_share"] * 100)


def column_config(pass_score: float) -> dict:
    """Each column's heading (the words of :data:`coaching.team.LABELS`, which "Sort by" offers too) and, on
    hover, what it counts (docs/team.md says the same)."""
    change = f"Against the previous period of equal length; blank where either side has fewer than {FEW} scores"
    now = "now, whatever the dates"
    return {
        "flag": st.column_config.TextColumn(
            LABELS["flag"], width=130, pinned=True,
            help=f"**Falling**: the Kore average fell by more than {FALL_STANDARD_ERRORS:g} standard errors of "
                 f"the change (both periods with {FEW} or more Kore scores). **Below pass**: the Kore average "
                 f"of {FEW} or more Kore scores is below the pass score ({pass_score:g}). Why: the last "
                 "column, or choose the agent."),
        "agent": st.column_config.TextColumn(LABELS["agent"], width=124, pinned=True),
        "team": st.column_config.TextColumn(LABELS["team"], width=160),
        "kore_avg": st.column_config.NumberColumn(LABELS["kore_avg"], format="%.1f", width=100,
                                                  help="Kore Evaluation Score average, −100…100"),
        "kore_change_text": st.column_config.TextColumn(LABELS["kore_change"], width=96, help=change),
        "kore_weekly": st.column_config.LineChartColumn(
            "Kore weekly", width=90, help="The weekly Kore averages in these dates, oldest first; each agent's "
                                          "line on its own scale"),
        "kore_n": st.column_config.NumberColumn(
            LABELS["kore_n"], width=92,
            help="Evaluations with a Kore Evaluation Score (an interaction below the duration threshold has none)"),
        "pass_percent": st.column_config.NumberColumn(
            LABELS["pass_rate"], format="%.0f%%", width=76,
            help=f"Kore scores at or above the pass score ({pass_score:g}), of all Kore scores"),
        "fatal": st.column_config.NumberColumn(LABELS["fatal"], width=56, help="Fatal interactions"),
        "audit_avg": st.column_config.NumberColumn(LABELS["audit_avg"], format="%.1f", width=104,
                                                   help="Supervisor Audit Score average (the current score, "
                                                        "after any re-evaluation), −100…100"),
        "audit_change_text": st.column_config.TextColumn(LABELS["audit_change"], width=100, help=change),
        "audit_n": st.column_config.NumberColumn(
            LABELS["audit_n"], width=96,
            help="Evaluations with a Supervisor Audit Score, whether or not the audit is in the review log"),
        "sentiment_avg": st.column_config.NumberColumn(LABELS["sentiment_avg"], format="%.1f", width=136,
                                                       help="Sentiment Score average, 1…10"),
        "sentiment_change_text": st.column_config.TextColumn(LABELS["sentiment_change"], width=132, help=change),
        "sentiment_n": st.column_config.NumberColumn(LABELS["sentiment_n"], width=128,
                                                     help="Evaluations with a Sentiment Score"),
        "pending_agent": st.column_config.NumberColumn(LABELS["pending_agent"], width=108,
                                                       help=f"Reviews in Pending Agent Review, {now}"),
        "pending_supervisor": st.column_config.NumberColumn(LABELS["pending_supervisor"], width=140,
                                                            help=f"Reviews in Pending Supervisor Review, {now}"),
        "disputed": st.column_config.NumberColumn(
            LABELS["disputed"], width=76,
            help="Evaluations of these interactions with a metric disputed in any round, whenever audited"),
        "overturn_percent": st.column_config.NumberColumn(
            LABELS["overturn_share"], format="%.0f%%", width=128,
            help="Of the reviewer's answers to those evaluations' disputes, the share that accepted the dispute"),
        "open_sessions": st.column_config.NumberColumn(
            LABELS["open_sessions"], width=104,
            help=f"Coaching assignments assigned by today and not completed, {now}"),
        "overdue": st.column_config.NumberColumn(
            LABELS["overdue"], width=136, help=f"Open coaching assignments past their follow-up date, {now}"),
        "last_assigned": st.column_config.DateColumn(
            LABELS["last_assigned"], format="DD MMM YYYY", width=108,
            help="The newest assigned date of the agent's coaching assignments up to today, completed or not"),
        "flag_reason": st.column_config.TextColumn("Why flagged", width=520),
    }


def chosen_agent(row: pd.Series, filters: TeamFilters) -> None:
    """What can be opened for the agent chosen in the table; their Score Trends open on the same dates."""
    with st.container(border=True):
        st.markdown(f"**{escape_markdown(row['agent'])}** · {escape_markdown(row['person_id'])}")
        if row["flag_reason"]:
            st.text(row["flag_reason"])
        with st.container(horizontal=True):
            if st.button("Open their Score Trends", icon=":material/monitoring:", key="open_trends"):
                st.session_state["trend_dates"] = (filters.start, filters.end)  # Score Trends' date widget
                st.switch_page("pages/trends.py", query_params={"agent": row["person_id"]})
            if st.button("Open their Coaching Assignments", icon=":material/school:", key="open_coaching"):
                st.switch_page("pages/coaching.py", query_params={"agent": row["person_id"]})


def page_controls(pages: int) -> None:
    if 1 < pages <= 10:
        st.segmented_control("Page", range(1, pages + 1), key="team_page", required=True)
    elif pages > 10:
        st.number_input("Page", 1, pages, key="team_page", width=160)
    state.keep("team_page")


#: The choices a lead comes back to after a look at an agent's trends or coaching (ui.state).
KEPT = ("team_dates", "team_teams", "team_sort", "team_direction", "team_page")


def show() -> None:
    st.title("Team")
    teams_offered = scoped(store, viewer, team_choices)
    for key in KEPT:
        state.restore(key, teams_offered if key == "team_teams" else None)
    st.session_state.setdefault("team_direction", DIRECTIONS[0])
    dates_column, team_column, sort_column, direction_column = st.columns([3, 3, 3, 1.6])
    start, end = date_controls(dates_column)
    teams = team_column.multiselect("Team", teams_offered, key="team_teams")
    sort = sort_column.selectbox("Sort by", list(SORTS), format_func=LABELS.get, key="team_sort")
    direction = direction_column.segmented_control(
        "Order", DIRECTIONS, required=True, key="team_direction", format_func=ARROWS.get,
        help="Descending: highest first (Z to A, newest, flagged first); ascending: lowest first. Agents with no "
             "value come last either way.")
    filters, descending = TeamFilters(start, end, tuple(teams)), direction == DIRECTIONS[0]
    for key in KEPT[:-1]:
        state.keep(key)
    # Another filter or order starts on the first page; a page of other rows starts with none chosen.
    if st.session_state.get("team_query") != (filters, sort, descending) or "team_page" not in st.session_state:
        st.session_state["team_page"] = 1
        st.session_state["team_query"] = (filters, sort, descending)
    wanted = int(st.session_state["team_page"] or 1)
    if st.session_state.get("team_shown") != (filters, sort, descending, wanted):
        st.session_state.pop("team_rows", None)
        st.session_state["team_shown"] = (filters, sort, descending, wanted)
    listed = scoped(store, viewer, team_page, filters, sort, descending, wanted, PAGE_SIZE, options.pass_score,
                    today)
    if listed.page != wanted:  # the view shrank under the page (an import): back to its first page
        st.session_state["team_page"] = 1
        listed = scoped(store, viewer, team_page, filters, sort, descending, 1, PAGE_SIZE, options.pass_score,
                        today)
    previous_start, previous_end = filters.previous
    st.caption(
        f"{listed.total:,} agent(s), by {LABELS[sort]} ({direction.lower()}). Interactions from "
        f"{start:%d %b %Y} to {end:%d %b %Y}, each change against {previous_start:%d %b %Y} to "
        f"{previous_end:%d %b %Y}; disputes are those of these interactions, whenever audited. Open reviews and "
        "coaching as of today. Choose an agent to open their score trends or coaching sessions."
    )
    if not listed.total:
        st.info("No agents in your scope match these filters.")
        return
    rows = shown(listed.rows)
    # What a lead reads first comes first (at 1280 px the table shows the Kore figures, pass rate and fatal, at
    # 1440 px the audit average too); the flag and the agent stay put while the rest scrolls.
    order = ["flag", "agent", *(["team"] if len(teams_offered) > 1 else []), "kore_avg", "kore_change_text",
             "kore_weekly", "kore_n", "pass_percent", "fatal", "audit_avg", "audit_change_text", "audit_n",
             "sentiment_avg", "sentiment_change_text", "sentiment_n", "pending_agent", "pending_supervisor",
             "disputed", "overturn_percent", "open_sessions", "overdue", "last_assigned", "flag_reason"]
    event = st.dataframe(rows, column_order=order, column_config=column_config(options.pass_score),
                         hide_index=True, on_select="rerun", selection_mode="single-row", key="team_rows",
                         height=ROW_HEIGHT * (len(rows) + 1) + 3, row_height=ROW_HEIGHT, placeholder="—")
    if (row := navigation.chosen_row(event, rows)) is not None:
        chosen_agent(row, filters)
    page_controls(listed.pages)
    if listed.pages > 1:
        st.caption(f"Page {listed.page} of {listed.pages}")
    download(filters, sort, descending)


show()
