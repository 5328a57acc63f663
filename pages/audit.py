"""Audit: one interaction's evaluation, read-only (`?conversation=ID`).

Scores on their own scales, every metric with its result, weights, fatal flag and review badge (the
not-adhered ones named above the table and highlighted in it), and the review history round by round:
one row per event, keyed ``event-<n>``, with when, who (the person and their role), what (the action,
its metric, what it did to the audit score) and the comment, wrapped.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from coaching import settings
from coaching.access import Capability
from coaching.audit import ANONYMOUS, NOT_ADHERED, NOT_EVALUATED, RESULT_COLOURS, evaluation_detail, round_title
from coaching.review_machine import METRIC_OUTCOMES
from coaching.scores import with_result
from ui import session
from ui.cache import scoped
from ui.text import badge_markdown, escape_markdown

viewer = session.viewer(Capability.COACHING)
options = settings.review_settings()
conversation_id = st.query_params.get("conversation")
detail = (
    scoped(session.store(), viewer, evaluation_detail, conversation_id, options.hide_auditor_details,
           options.pass_score)
    if conversation_id
    else None
)



def given(value: object) -> bool:
    """A cell that holds something (not None, NaN or "")."""
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and value != ""


def event_row(position: int, event: dict, widths: list[float]) -> None:
    """One event of the review history, keyed ``event-<position>``."""
    with st.container(border=True, key=f"event-{position}"):
        when, who, what, comment = st.columns(widths)
        when.text(f"{event['timestamp']:%d %b %Y %H:%M}")
        with who.container(gap=None):
            st.text(event["who"])
            if event["actor"] not in (event["who"], ANONYMOUS):
                st.caption(escape_markdown(event["actor"]))
        with what.container(gap=None):
            st.text(event["action"])
            if given(event["metric"]):
                st.caption(escape_markdown(event["metric"]))
            if given(event["score_change"]):
                st.caption(f"Audit score: {escape_markdown(event['score_change'])}")
        if given(event["comment"]):
            comment.text(event["comment"])


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
metrics = detail.metrics.assign(
    source=["Auditor" if manual else "Auto QA" for manual in detail.metrics["is_manual"]],
    result=detail.metrics["result"].fillna(NOT_EVALUATED),
    review=detail.metrics["review"].fillna(""),
)
missed = detail.not_adhered
if missed:
    st.markdown(
        f"**{len(missed)} of {len(metrics)} metrics not adhered:** "
        + " ".join(badge_markdown(metric, RESULT_COLOURS[NOT_ADHERED]) for metric in missed),
        help="Highlighted in the table below, in the evaluation form's order",
    )
elif len(metrics):
    st.caption(f"Every one of the {len(metrics)} metrics was adhered to, or does not apply.")


def _highlight(row: pd.Series) -> list[str]:
    """A not-adhered metric's row stands out (light red, its result in dark red)."""
    if row["result"] != NOT_ADHERED:
        return [""] * len(row)
    return ["background-color: #fde8e8; color: #a4161a; font-weight: 600" if column == "result"
            else "background-color: #fde8e8" for column in row.index]


st.dataframe(
    metrics.style.apply(_highlight, axis=1),
    column_order=["metric", "result", "source", "adherence_weight", "violation_weight", "is_fatal_metric", "review"],
    column_config={
        "metric": st.column_config.TextColumn("Metric", width="medium"),
        "result": st.column_config.TextColumn("Result", width=110),
        "source": st.column_config.TextColumn("Evaluated by", help="Manual metrics are the auditor's result",
                                              width=95),
        "adherence_weight": st.column_config.NumberColumn("Weight", format="%d", width=65),
        "violation_weight": st.column_config.NumberColumn("Violation", format="%d", width=70),
        "is_fatal_metric": st.column_config.CheckboxColumn("Fatal", width=50),
        "review": st.column_config.TextColumn("Review", help=", ".join(METRIC_OUTCOMES[:-1])
                                              + " or " + METRIC_OUTCOMES[-1], width=120),
    },
    hide_index=True,
    height="content",  # every metric, never a few behind an inner scroll
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
    widths = [2.2, 2.4, 3, 5]
    position = 0
    for round_number, events in detail.review_events.groupby("round", sort=True):
        with st.expander(round_title(int(round_number), list(events["action"])), expanded=True):
            header = st.columns(widths)
            for column, label in zip(header, ["When", "Who", "Action", "Comment"], strict=True):
                column.markdown(f"**{label}**")
            for event in events.to_dict("records"):
                event_row(position, event, widths)
                position += 1
