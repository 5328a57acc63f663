"""Coaching Assignments: the viewer's coaching sessions, and one session's detail by its URL.

`?assignment=ID` opens a session (leads add `&agent=NAME` for one member of a group).
"""

from __future__ import annotations

import streamlit as st

from coaching.access import AGENT, Capability
from coaching.assignments import (
    assignment_detail,
    assignment_list,
    best_response_examples,
    marked_interactions,
    status_for,
)
from ui import session
from ui.cache import scoped
from ui.text import escape_markdown

viewer = session.viewer(Capability.COACHING)
store = session.store()
params = st.query_params


def show_list() -> None:
    st.title("Coaching Assignments")
    sessions = scoped(store, viewer, assignment_list)
    if sessions.empty:
        st.info(
            "No coaching sessions yet. When a supervisor or QA evaluator assigns you coaching, "
            "it appears here with its coaching areas, dates and status."
            if viewer.role == AGENT
            else "No coaching assignments in your scope yet."
        )
        return
    shown = sessions.assign(status=[status_for(viewer, s) for s in sessions["status"]])
    columns = ["name", "coaching_areas", "assigned_date", "follow_up_date", "status"]
    if viewer.role != AGENT:
        columns.insert(1, "agent")
    st.caption(f"{len(shown):,} coaching session(s). Choose one to open it.")
    event = st.dataframe(
        shown,
        column_order=columns,
        column_config={
            "name": st.column_config.TextColumn("Name"),
            "agent": st.column_config.TextColumn("Agent"),
            "coaching_areas": st.column_config.ListColumn("Coaching Area", width="medium"),
            "assigned_date": st.column_config.DateColumn("Assigned Date", format="DD MMM YYYY"),
            "follow_up_date": st.column_config.DateColumn("Follow-Up Date", format="DD MMM YYYY"),
            "status": st.column_config.TextColumn("Status", width="small"),
        },
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="assignments",
    )
    chosen = event.selection.rows if event else []
    if chosen:
        row = shown.iloc[chosen[0]]
        st.query_params.from_dict({"assignment": row["assignment_id"], "agent": row["agent"]})
        st.rerun()


def show_detail(assignment_id: str, agent: str | None) -> None:
    detail = scoped(store, viewer, assignment_detail, assignment_id, agent)
    if st.button("All coaching assignments", icon=":material/arrow_back:"):
        st.query_params.clear()
        st.rerun()
    if detail is None:
        st.warning("Coaching session not found. It may have been removed, or it is not one of yours.")
        return
    st.title(escape_markdown(detail.name))
    facts = st.columns(4)
    facts[0].metric("Assigned", f"{detail.assigned_date:%d %b %Y}")
    facts[1].metric("Follow-up", f"{detail.follow_up_date:%d %b %Y}" if detail.follow_up_date else "—")
    facts[2].metric("Status", status_for(viewer, detail.status))
    facts[3].metric("Assigned by", detail.assigned_by or "—")
    if viewer.role != AGENT:
        st.caption(
            f"Agent: {escape_markdown(detail.agent)} · {escape_markdown(detail.coaching_type)}"
            + (f" · group {escape_markdown(detail.group_name)}" if detail.group_name else "")
        )
    st.subheader("Coaching Areas")
    st.markdown(" ".join(f":blue-badge[{escape_markdown(area)}]" for area in detail.coaching_areas))

    st.subheader("Interactions Marked for Coaching")
    marked = scoped(store, viewer, marked_interactions, detail.assignment_id, detail.agent)
    if marked.empty:
        st.info("No interactions were marked for coaching in this session.")
    else:
        st.dataframe(
            marked.assign(audit=[f"./audit?conversation={c}" for c in marked["conversation_id"]]),
            column_order=["date", "coaching_area", "queues", "topics", "intent", "audit",
                          "kore_score", "audit_score", "sentiment_score"],
            column_config={
                "date": st.column_config.DateColumn("Date", format="DD MMM YYYY"),
                "coaching_area": "Coaching Area",
                "queues": st.column_config.ListColumn("Queues"),
                "topics": "Topic",
                "intent": "Intent",
                "audit": st.column_config.LinkColumn("Action", display_text="Open audit"),
                "kore_score": st.column_config.NumberColumn("Kore Evaluation Score", format="%d"),
                "audit_score": st.column_config.NumberColumn("Supervisor Audit Score", format="%d"),
                "sentiment_score": st.column_config.NumberColumn("Sentiment Score", format="%.1f"),
            },
            hide_index=True,
        )

    st.subheader("Best Response Examples")
    examples = scoped(store, viewer, best_response_examples, detail.assignment_id, detail.agent)
    if examples.empty:
        st.info("No best response examples were added to this session.")
    else:
        for example in examples.itertuples():
            with st.container(border=True):
                st.text(example.note or "")
                st.page_link("pages/audit.py", label="Open the example",
                             query_params={"conversation": example.conversation_id})

    st.subheader("Feedback")
    st.text(detail.feedback or "No feedback was written.")
    st.subheader("Action Plan")
    st.text(detail.action_plan or "No action plan was written.")


if "assignment" in params:
    show_detail(params["assignment"], params.get("agent"))
else:
    show_list()
