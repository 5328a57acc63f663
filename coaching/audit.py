"""One evaluated interaction as a viewer may see it: scores, metrics and its review history.

The viewer may open an interaction of an agent in their scope, and also a best response example
attached to one of their coaching assignments; an example by another agent is shown without
that agent's name. Anything else is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from coaching import review_machine
from coaching.access import Viewer, agent_filter
from coaching.sql import sql_str

#: Shown instead of the name of the agent behind a best response example.
ANOTHER_AGENT = "Another agent"


@dataclass(frozen=True)
class EvaluationDetail:
    conversation_id: str
    agent: str  # the scored agent's name as exported, or ANOTHER_AGENT for someone else's example
    person_id: str | None  # who the scored agent is; None for someone else's example
    channel: str | None
    queues: list[str]
    topics: str | None
    intent: str | None
    language: str | None
    contact_direction: str | None
    start_time: datetime
    evaluation_form: str | None
    duration_status: str | None
    kore_score: float | None
    audit_score: float | None
    sentiment_score: float | None
    is_fatal: bool | None
    review_status: str | None
    dispute_rounds: int | None
    final_audit_score: float | None
    audit_score_history: list[float]
    auditor: str | None
    metrics: pd.DataFrame
    review_events: pd.DataFrame


#: How the review log's last word on a metric reads as a badge.
METRIC_OUTCOMES = {
    "Accepted": "Agent Accepted",
    "Disputed": "Disputed",
    "Dispute Accepted": "Accepted",
    "Dispute Denied": "Denied",
}
#: Shown for auditors and reviewers with Hide Auditor Details on.
ANONYMOUS = "Anonymous"


def _review_order(column: str) -> str:
    """SQL ordering ties on round and timestamp as the review log does (``review_machine.ReviewEvent.order``):
    the agent's answers before the reviewer's responses, a re-evaluation after them."""
    phases = " ".join(f"WHEN {sql_str(a)} THEN {p}" for a, p in review_machine.PHASE_ORDER.items())
    return f"CASE {column} {phases} ELSE 9 END"


def evaluation_detail(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer,
    conversation_id: str,
    hide_auditor_details: bool = False,
) -> EvaluationDetail | None:
    """The evaluation, or None when it does not exist or the viewer may not see it.

    ``metrics`` has each metric's result, weights, fatal flag, whether it is a manual (auditor's)
    metric, and ``review`` (its badge from the review log: Agent Accepted, Disputed, Accepted or
    Denied). ``review_events`` is the log, round by round. With ``hide_auditor_details`` the auditor
    and every reviewer (Supervisor, QA) show as "Anonymous".
    """
    own, own_params = agent_filter(viewer, "e.person_id")
    shared, shared_params = agent_filter(viewer, "a.person_id")
    row = con.execute(
        f"""SELECT e.conversation_id, e.scored_agent, {own} AS in_scope, e.channel, e.queues, e.topics,
                   e.intent, e.language, e.contact_direction, e.start_time, e.evaluation_form,
                   e.duration_status, e.kore_score, e.audit_score, e.sentiment_score, e.is_fatal,
                   r.review_status, r.dispute_rounds, r.final_audit_score, r.audit_score_history, e.auditor,
                   e.person_id
            FROM evaluations e LEFT JOIN evaluation_reviews r USING (conversation_id)
            WHERE e.conversation_id = ? AND ({own} OR e.conversation_id IN (
                SELECT b.conversation_id FROM best_responses b JOIN assignments a USING (assignment_id)
                WHERE {shared}))""",
        [*own_params, conversation_id, *own_params, *shared_params],
    ).fetchone()
    if row is None:
        return None
    in_scope = bool(row[2])
    outcome_cases = " ".join(
        f"WHEN {sql_str(action)} THEN {sql_str(badge)}" for action, badge in METRIC_OUTCOMES.items()
    )
    metrics = con.execute(
        f"""SELECT m.metric, m.result, m.adherence_weight, m.violation_weight, m.is_fatal_metric, m.is_manual,
                   CASE WHEN ? THEN (SELECT CASE v.action {outcome_cases} END FROM review_events v
                        WHERE v.conversation_id = m.conversation_id AND v.metric = m.metric
                          AND v.action IN ({", ".join(sql_str(a) for a in METRIC_OUTCOMES)})
                        ORDER BY v.round DESC, v.timestamp DESC, {_review_order('v.action')} DESC LIMIT 1)
                   END AS review
            FROM evaluation_metrics m WHERE m.conversation_id = ? ORDER BY m.position""",
        [in_scope, conversation_id],
    ).df()
    actor = "CASE WHEN ? AND actor IN ('Supervisor', 'QA') THEN ? ELSE actor END"
    events = con.execute(
        f"SELECT round, timestamp, {actor} AS actor, action, metric, comment, audit_score FROM review_events "
        f"WHERE conversation_id = ? AND ? "
        f"ORDER BY round, timestamp, {_review_order('action')}, metric NULLS FIRST, action",
        # another agent's dispute history is theirs
        [hide_auditor_details, ANONYMOUS, conversation_id, in_scope],
    ).df()
    return EvaluationDetail(
        conversation_id=row[0],
        agent=row[1] if in_scope else ANOTHER_AGENT,
        person_id=row[21] if in_scope else None,
        channel=row[3],
        queues=list(row[4] or []),
        topics=row[5],
        intent=row[6],
        language=row[7],
        contact_direction=row[8],
        start_time=row[9],
        evaluation_form=row[10],
        duration_status=row[11],
        kore_score=row[12],
        audit_score=row[13],
        sentiment_score=row[14],
        is_fatal=row[15],
        review_status=row[16] if in_scope else None,
        dispute_rounds=row[17] if in_scope else None,
        # For someone else's example, the score as audited: a re-evaluation would tell of their dispute.
        final_audit_score=row[18] if in_scope else row[13],
        audit_score_history=list(row[19] or []) if in_scope else [],
        auditor=(ANONYMOUS if hide_auditor_details and row[20] else row[20]),
        metrics=metrics,
        review_events=events,
    )
