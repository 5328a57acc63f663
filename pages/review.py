"""Review: the viewer's evaluations through review and dispute, on three tabs (`?tab=`).

Pending Review, Disputes and Resolved, each with its count; which evaluation is on which tab is
decided in `coaching.review_tabs`. A lead sees their team's, with an Agent column and filter. Each
evaluation is a row (a container keyed ``review-row-<position on the page>``) whose "Open audit" is a
real link to the interaction's audit with its round-by-round history (a middle-click opens it in a new
tab). A tab is sorted and paged in SQL, 25 to a page. Nothing here changes a review.
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
    STATUS_MARKERS,
    TABS,
    ReviewFilters,
    StatusMarker,
    orders_for,
    past_service_level,
    review_counts,
    review_page,
    score_movement,
    with_aging,
)
from ui import clock, navigation, session, state
from ui.cache import scoped
from ui.text import badge_markdown, escape_markdown, status_markdown

viewer = session.viewer(Capability.COACHING)
store = session.store()
options = settings.review_settings()
lead = viewer.role != AGENT
#: The flag of a pending review past the service level.
PAST = "Past"

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

#: Each tab's columns: (key, heading, relative width). The first cell is the date, with the time and the
#: queues under it; the score has its movement (the audit's, then each re-evaluation's) under it. The
#: Agent column is a lead's only. Sized so that a lead's widest tab fits 1280 px with the sidebar open.
COLUMNS = {
    PENDING_TAB: [("date", "Date", 2.2), ("agent", "Agent", 2.0), ("audit_score", "Supervisor Audit Score", 1.7),
                  ("review_status", "Review Status", 2.3), ("waiting", "Waiting", 1.7),
                  ("awaiting_response", "Awaiting Response", 2.4), ("link", "", 2.2)],
    DISPUTES_TAB: [("date", "Date", 2.2), ("agent", "Agent", 2.0), ("audit_score", "Supervisor Audit Score", 1.7),
                   ("dispute_rounds", "Dispute Rounds", 1.4), ("disputed_metrics", "Disputed Metrics", 2.4),
                   ("review_status", "Review Status", 2.3), ("link", "", 2.2)],
    RESOLVED_TAB: [("date", "Completed", 2.2), ("agent", "Agent", 2.0),
                   ("audit_score", "Supervisor Audit Score", 1.7), ("dispute_rounds", "Dispute Rounds", 1.4),
                   ("review_status", "Review Status", 2.3), ("link", "", 2.2)],
}
#: What a heading means, on hover.
HEADING_HELP = {
    "Date": "When the evaluated interaction started (UTC); its time and queues under it",
    "Completed": "When the review was completed (UTC); its time and the interaction's queues under it",
    "Awaiting Response": "Disputed metrics the reviewer has not answered yet",
    "Review Status": "  \n".join(f"{status}: {marker.meaning}" for status, marker in STATUS_MARKERS.items()),
}


def review_status(cell, label: str) -> None:
    marker = STATUS_MARKERS.get(label, StatusMarker("gray", ":material/help:", ""))
    cell.markdown(status_markdown(label, marker.colour, marker.icon))


def listed(values) -> str:
    return ", ".join(values) if values is not None and len(values) else "—"


def review_row(position: int, row: dict, tab: str, columns: list[tuple[str, str, float]]) -> None:
    """One evaluation of the tab, keyed ``review-row-<position>``."""
    with st.container(border=True, key=f"review-row-{position}"):
        cells = dict(zip([key for key, _, _ in columns],
                         st.columns([width for _, _, width in columns], vertical_alignment="center"), strict=True))
        with cells["date"].container(gap=None):
            st.text(f"{row['date']:%d %b %Y}" if pd.notna(row["date"]) else "—")
            when = f"{row['date']:%H:%M} · " if pd.notna(row["date"]) else ""
            st.caption(escape_markdown(when + (", ".join(row["queues"]) or "—")))
        if "agent" in cells:
            cells["agent"].text(row["agent"])
        with cells["audit_score"].container(gap=None):
            st.text("—" if pd.isna(row["audit_score"]) else f"{row['audit_score']:g}")
            history = row["audit_score_history"]
            if history is not None and len(history) > 1:
                st.caption(escape_markdown(score_movement(history)))  # how it moved: audit → re-evaluations
        review_status(cells["review_status"], row["review_status"])
        if "dispute_rounds" in cells:
            cells["dispute_rounds"].text(f"{row['dispute_rounds']:d}")
        if "disputed_metrics" in cells:
            cells["disputed_metrics"].text(listed(row["disputed_metrics"]))
        if "awaiting_response" in cells:
            cells["awaiting_response"].text(listed(row["awaiting_response"]))
        if "waiting" in cells:
            with cells["waiting"].container(gap=None):
                st.text("—" if pd.isna(row["waiting_days"]) else f"{row['waiting_days']:.1f} days")
                if row["past_service_level"]:
                    st.markdown(badge_markdown(PAST, "red"), help=(
                        f"Past the service level: waiting longer than {options.service_level_days:g} business days"))
        navigation.audit_link(cells["link"], row["conversation_id"], tab=tab)


def show_tab(tab: str, filters: ReviewFilters, count: int) -> None:
    if count == 0:
        st.info(EMPTY[tab][lead])
        return
    order_key, page_key, query_key = f"review_order_{tab}", f"review_page_{tab}", f"review_query_{tab}"
    orders = orders_for(tab)
    state.restore(order_key)
    if st.session_state.get(order_key) not in orders:
        st.session_state[order_key] = orders[0]
    state.restore(page_key)
    order = st.columns([1, 2])[0].selectbox("Sort by", orders, key=order_key)
    # Another filter or order starts on the first page; the page is set, never dropped, so the Page
    # control shows it too.
    if st.session_state.get(query_key) != (filters, order) or page_key not in st.session_state:
        st.session_state[page_key] = 1
        st.session_state[query_key] = (filters, order)
    wanted = int(st.session_state[page_key] or 1)
    shown = scoped(store, viewer, review_page, tab, filters, order, wanted)
    if shown.page != wanted:  # the tab shrank under the page (an import): its last page
        st.session_state[page_key] = shown.page
    rows = with_aging(shown.rows, clock.now(), options.service_level_days)
    minute = clock.now().replace(second=0, microsecond=0)  # a cache key that lasts a minute
    late = (scoped(store, viewer, past_service_level, minute, options.service_level_days, filters)
            if tab == PENDING_TAB else 0)
    st.caption(
        f"{shown.total:,} evaluation(s), {order.lower()}"
        + (f" · {late:,} waiting longer than {options.service_level_days:g} business days" if late else "")
        + ". Open an audit from its row."
    )
    if 1 < shown.pages <= 10:
        st.segmented_control("Page", range(1, shown.pages + 1), key=page_key, required=True)
    elif shown.pages > 10:
        st.number_input("Page", 1, shown.pages, key=page_key)
    for key in (order_key, page_key):
        state.keep(key)  # still chosen after a look at an audit, or at another tab
    columns = [c for c in COLUMNS[tab] if lead or c[0] != "agent"]
    helps = {**HEADING_HELP, "Waiting": (
        f"Business days (Monday to Friday, UTC) in the current review status; {PAST} when longer than the "
        f"service level of {options.service_level_days:g} business days")}
    for cell, (_, heading, _) in zip(st.columns([w for _, _, w in columns]), columns, strict=True):
        if heading:
            cell.markdown(f"**{heading}**", help=helps.get(heading))
    for position, row in enumerate(rows.to_dict("records")):
        review_row(position, row, tab, columns)
    if shown.pages > 1:
        st.caption(f"Page {shown.page} of {shown.pages}")


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
