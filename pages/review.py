"""Review: the viewer's evaluations through review and dispute, on three tabs (`?tab=`).

Pending Review, Disputes and Resolved, each with its count; which evaluation is on which tab is
decided in `coaching.review_tabs`. A lead sees their team's, with an Agent column and filter. Choosing a
row opens the interaction's audit with its round-by-round history. Nothing here changes a review.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from coaching import settings
from coaching.access import AGENT, Capability
from coaching.people import agents_in_scope
from coaching.review_tabs import (
    DISPUTES_TAB,
    PENDING_TAB,
    RESOLVED_TAB,
    TABS,
    ReviewFilters,
    review_counts,
    review_tab,
    score_movement,
    with_aging,
)
from ui import clock, navigation, session, state
from ui.cache import scoped

viewer = session.viewer(Capability.COACHING)
store = session.store()
options = settings.review_settings()
lead = viewer.role != AGENT
#: Most rows a tab shows (the newest); the count on the tab is always the full one.
MOST_ROWS = 1_000

EMPTY = {
    PENDING_TAB: (
        ("Nothing is waiting for review. When an auditor submits an audit of one of your interactions, it "
         "waits here for your answer, and again while a reviewer answers your disputes."),
        "Nothing is waiting for review in your team.",
    ),
    DISPUTES_TAB: (
        "No disputes. When you dispute a metric of an audit, the evaluation appears here with its rounds.",
        "No disputes in your team.",
    ),
    RESOLVED_TAB: (
        "No completed reviews yet. An evaluation appears here once its review is resolved or closed.",
        "No completed reviews in your team yet.",
    ),
}


def waiting_text(days: float) -> str:
    return "—" if pd.isna(days) else f"{days:.1f} days"


def show_tab(tab: str, filters: ReviewFilters, count: int) -> None:
    if count == 0:
        st.info(EMPTY[tab][lead])
        return
    rows = scoped(store, viewer, review_tab, tab, filters, MOST_ROWS)
    rows = with_aging(rows, clock.now(), options.service_level_days).assign(
        queues=lambda f: [", ".join(q) for q in f["queues"]],
        movement=lambda f: [score_movement(h) for h in f["audit_score_history"]],
        waiting=lambda f: [waiting_text(d) for d in f["waiting_days"]],
        flag=lambda f: ["Past" if late else "Within" for late in f["past_service_level"]],
    )
    late = int(rows["past_service_level"].sum()) if tab == PENDING_TAB else 0
    st.caption(
        f"{count:,} evaluation(s), newest first"
        + (f" (the newest {MOST_ROWS:,} shown: choose agents to narrow them)" if count > len(rows) else "")
        + (f" · {late:,} waiting longer than {options.service_level_days:g} business days" if late else "")
        + ". Choose one to open its audit."
    )
    date_label = "Completed" if tab == RESOLVED_TAB else "Date"
    columns = {
        PENDING_TAB: ["date", "agent", "queues", "audit_score", "review_status", "waiting", "flag",
                      "awaiting_response"],
        DISPUTES_TAB: ["date", "agent", "queues", "audit_score", "dispute_rounds", "disputed_metrics",
                       "review_status", "movement"],
        RESOLVED_TAB: ["date", "agent", "queues", "audit_score", "dispute_rounds", "review_status", "movement"],
    }[tab]
    if not lead:
        columns.remove("agent")
    picked = st.dataframe(
        rows,
        column_order=columns,
        column_config={
            "date": st.column_config.DatetimeColumn(
                date_label, format="DD MMM YYYY HH:mm", width=130,
                help="When the review was completed (UTC)" if tab == RESOLVED_TAB
                else "When the evaluated interaction started (UTC)"),
            "agent": st.column_config.TextColumn("Agent", width=130),
            "queues": st.column_config.TextColumn("Queues", width=120),
            "audit_score": st.column_config.NumberColumn(
                "Supervisor Audit Score", format="%g", width=90,
                help="After the last re-evaluation, if any; −100…100"),
            "review_status": st.column_config.TextColumn("Review Status", width=170),
            "dispute_rounds": st.column_config.NumberColumn(
                "Dispute Rounds", format="%d", help="Dispute rounds completed", width=80),
            "disputed_metrics": st.column_config.ListColumn("Disputed Metrics", width=170),
            "movement": st.column_config.TextColumn(
                "Audit Score Movement", help="The audit's score, then each re-evaluation's", width=100),
            "waiting": st.column_config.TextColumn(
                "Waiting", width=80,
                help="Business days (Monday to Friday, UTC) in the current review status"),
            "flag": st.column_config.TextColumn(
                "Service Level", width=80,
                help=f"Past: waiting longer than {options.service_level_days:g} business days"),
            "awaiting_response": st.column_config.ListColumn(
                "Awaiting Response", help="Disputed metrics the reviewer has not answered yet", width=170),
        },
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key=f"review_rows_{tab}",
    )
    if (row := navigation.chosen_row(picked, rows)) is not None:
        navigation.open_audit(row["conversation_id"], tab=tab)


st.title("Review")
st.caption(
    "Your audited evaluations through review and dispute. This page is read-only." if not lead
    else "Your team's audited evaluations through review and dispute. This page is read-only."
)
filters = ReviewFilters()
if lead:
    # Chosen by who they are (person_id); shown by name, with the email where two share a name.
    in_scope = scoped(store, viewer, agents_in_scope)
    agent_labels = dict(zip(in_scope["person_id"], in_scope["label"], strict=True))
    state.restore("review_agents", list(agent_labels))
    chosen = st.multiselect("Agent", list(agent_labels), format_func=agent_labels.get, key="review_agents",
                            placeholder="Everyone in your scope")
    state.keep("review_agents")  # still chosen after a look at an audit
    filters = ReviewFilters(tuple(chosen))

counts = scoped(store, viewer, review_counts, filters)
labels = {slug: f"{label} ({counts[slug]:,})" for slug, label in TABS.items()}
in_url = st.query_params.get("tab", PENDING_TAB)
# The open tab: the one chosen in this session (its label carries a count, which may have changed
# since), else the URL's. It is handed to the tabs through their state, never as `default`: the
# default is part of the tabs' identity, and a changing identity would drop the next click.
chosen = st.session_state.get("review_tab")
opened = next((slug for slug, label in TABS.items() if chosen and chosen.startswith(label + " (")),
              in_url if in_url in TABS else PENDING_TAB)
st.session_state["review_tab"] = labels[opened]
tabs = st.tabs(list(labels.values()), key="review_tab", on_change="rerun")
for slug, tab in zip(TABS, tabs, strict=True):
    if tab.open:  # only the open tab's rows are fetched
        if slug != in_url:
            st.query_params["tab"] = slug  # the open tab is part of the URL, to bookmark and share
        with tab:
            show_tab(slug, filters, counts[slug])
