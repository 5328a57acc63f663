"""Audit: one interaction's evaluation, read-only (`?conversation=ID`)."""

from __future__ import annotations

import streamlit as st

from coaching.access import Capability
from coaching.evaluations import evaluation_detail
from ui import session
from ui.cache import scoped
from ui.text import escape_markdown

viewer = session.viewer(Capability.COACHING)
conversation_id = st.query_params.get("conversation")
detail = scoped(session.store(), viewer, evaluation_detail, conversation_id) if conversation_id else None

st.title("Audit")
if detail is None:
    st.warning("Interaction not found. It may not exist, or it is not one you can see.")
    st.stop()

st.caption(f"Conversation {escape_markdown(detail.conversation_id)} · {escape_markdown(detail.agent)}")
scores = st.columns(3)
scores[0].metric("Kore Evaluation Score", "—" if detail.kore_score is None else f"{detail.kore_score:.0f}")
audit = detail.final_audit_score if detail.final_audit_score is not None else detail.audit_score
scores[1].metric("Supervisor Audit Score", "—" if audit is None else f"{audit:.0f}")
scores[2].metric("Sentiment Score", "—" if detail.sentiment_score is None else f"{detail.sentiment_score:.1f}")
st.dataframe(
    detail.metrics,
    column_config={
        "metric": "Metric",
        "result": "Result",
        "adherence_weight": st.column_config.NumberColumn("Weight", format="%d"),
        "violation_weight": st.column_config.NumberColumn("Violation", format="%d"),
        "is_fatal_metric": st.column_config.CheckboxColumn("Fatal"),
        "is_manual": st.column_config.CheckboxColumn("Manual"),
    },
    hide_index=True,
)
if not detail.review_events.empty:
    st.subheader("Review history")
    st.dataframe(detail.review_events, hide_index=True)
