"""Audit: one interaction's evaluation, read-only (`?conversation=ID`).

Scores on their own scales, every metric with its result, weights, fatal flag and review badge, and
the review history round by round.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from coaching import settings
from coaching.access import Capability
from coaching.audit import evaluation_detail
from coaching.review_machine import METRIC_OUTCOMES
from coaching.scores import with_result
from ui import session
from ui.cache import scoped
from ui.text import escape_markdown

viewer = session.viewer(Capability.COACHING)
options = settings.review_settings()
conversation_id = st.query_params.get("conversation")
detail = (
    scoped(session.store(), viewer, evaluation_detail, conversation_id, options.hide_auditor_details,
           options.pass_score)
    if conversation_id
    else None
)

st.title("Audit")
came_from, review_tab = st.query_params.get("assignment"), st.query_params.get("tab")
if came_from and st.button("Back to the coaching session", icon=":material/arrow_back:"):
    st.switch_page("pages/coaching.py",
                   query_params={"assignment": came_from, "agent": st.query_params.get("agent", "")})
elif review_tab and not came_from and st.button("Back to Review", icon=":material/arrow_back:"):
    st.switch_page("pages/review.py", query_params={"tab": review_tab})
if detail is None:
    st.warning("Interaction not found. It may not exist, or it is not one you can see.")
    st.stop()


facts = [
    ("Conversation", detail.conversation_id),
    ("Agent", detail.agent),
    ("Queues", ", ".join(detail.queues) or "—"),
    ("Topic", detail.topics or "—"),
    ("Intent", detail.intent or "—"),
    ("Channel", detail.channel or "—"),
    ("Language", detail.language or "—"),
    ("Direction", detail.contact_direction or "—"),
    ("Start time", f"{detail.start_time:%d %b %Y %H:%M} UTC"),
    ("Evaluation form", detail.evaluation_form or "—"),
]
if detail.auditor:
    facts.append(("Auditor", detail.auditor))
st.caption(" · ".join(f"**{name}:** {escape_markdown(value)}" for name, value in facts))

scores = st.columns(3)
scores[0].metric(
    "Kore Evaluation Score",
    with_result(detail.kore_score, detail.kore_result),
    help=f"−100…100; pass at {options.pass_score:g}" + ("; fatal interaction" if detail.is_fatal else ""),
)
scores[1].metric("Supervisor Audit Score", with_result(detail.current_audit_score, detail.audit_result),
                 help=f"−100…100; pass at {options.pass_score:g}")
sentiment = detail.sentiment_score
scores[2].metric("Sentiment Score", "—" if sentiment is None or pd.isna(sentiment) else f"{sentiment:.1f}",
                 help="1…10; 5 is neutral, 7 and up positive")

st.subheader("Metrics")
st.dataframe(
    detail.metrics.assign(
        source=["Auditor" if manual else "Auto QA" for manual in detail.metrics["is_manual"]],
        result=detail.metrics["result"].fillna("Not evaluated"),
        review=detail.metrics["review"].fillna(""),
    ),
    column_order=["metric", "result", "source", "adherence_weight", "violation_weight", "is_fatal_metric", "review"],
    column_config={
        "metric": "Metric",
        "result": "Result",
        "source": st.column_config.TextColumn("Evaluated by", help="Manual metrics are the auditor's result"),
        "adherence_weight": st.column_config.NumberColumn("Weight", format="%d"),
        "violation_weight": st.column_config.NumberColumn("Violation", format="%d"),
        "is_fatal_metric": st.column_config.CheckboxColumn("Fatal"),
        "review": st.column_config.TextColumn("Review", help=", ".join(METRIC_OUTCOMES[:-1])
                                              + " or " + METRIC_OUTCOMES[-1]),
    },
    hide_index=True,
)

st.subheader("Review history")
if detail.review_status is None:
    st.info("This evaluation has not been through review.")
else:
    history = " → ".join(f"{score:.0f}" for score in detail.audit_score_history)
    st.caption(
        f"Review status: {detail.review_status} · dispute rounds completed: {detail.dispute_rounds}"
        + (f" · audit score: {history}" if history else "")
    )
    for round_number, events in detail.review_events.groupby("round", sort=True):
        title = "Audit" if round_number == 0 else f"Round {round_number}"
        with st.expander(title, expanded=True):
            st.dataframe(
                events,
                column_order=["timestamp", "actor", "action", "metric", "comment", "audit_score"],
                column_config={
                    "timestamp": st.column_config.DatetimeColumn("When", format="DD MMM YYYY HH:mm"),
                    "actor": "Who",
                    "action": "Action",
                    "metric": "Metric",
                    "comment": st.column_config.TextColumn("Comment", width="large"),
                    "audit_score": st.column_config.NumberColumn("Audit score", format="%d"),
                },
                hide_index=True,
            )
