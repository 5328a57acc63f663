"""One evaluated interaction as a viewer may see it: scores, metrics and its review history.

The viewer may open an interaction of an agent in their scope, and also a best response example
attached to one of their coaching assignments; an example by another agent is shown without
that agent's name. Anything else is "not found".

The review history names people, not only roles (:func:`who_did_it`): the agent by their name; the
auditor by the evaluation report's Auditor, for events of the role that submitted the audit; a
Supervisor otherwise by the agent's team lead on the roster; with Hide Auditor Details every reviewer
is "Anonymous". Its rounds are titled by what happened in them (:func:`round_title`): only a round in
which the agent disputed a metric is a dispute round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from coaching import review_machine, scores, store
from coaching.access import Viewer
from coaching.review_machine import (
    ACCEPTED,
    ACCEPTED_OUTCOME,
    AGENT_ACCEPTED_OUTCOME,
    AUDIT_SUBMITTED,
    DENIED_OUTCOME,
    DISPUTED,
    DISPUTED_OUTCOME,
    RE_EVALUATED,
)
from coaching.settings import DEFAULT_MAX_DISPUTE_ROUNDS, DEFAULT_PASS_SCORE
from coaching.sql import scope

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
    #: The Supervisor Audit Score shown: the current one (coaching.scores.AUDIT_SQL); the score as
    #: audited for someone else's example.
    current_audit_score: float | None
    kore_result: str  # Pass or Fail against the pass score, or why there is no score (coaching.scores)
    audit_result: str  # the same for current_audit_score
    metrics: pd.DataFrame
    review_events: pd.DataFrame

    @property
    def not_adhered(self) -> list[str]:
        """The metrics whose result is Not Adhered, in the form's order."""
        return [m for m, r in zip(self.metrics["metric"], self.metrics["result"], strict=True) if r == NOT_ADHERED]


#: Shown for auditors and reviewers with Hide Auditor Details on.
ANONYMOUS = "Anonymous"
#: The actors shown as :data:`ANONYMOUS` with Hide Auditor Details on.
REVIEWERS = ("Supervisor", "QA")
SUPERVISOR = "Supervisor"
#: The columns of :attr:`EvaluationDetail.review_events`: ``actor`` is the role the log names (or
#: :data:`ANONYMOUS`), ``who`` the person (:func:`who_did_it`), ``score_change`` what an audit or a
#: re-evaluation did to the audit score ("55", "55 → 70"; None on other events).
EVENT_COLUMNS = ["round", "timestamp", "actor", "who", "action", "metric", "comment", "audit_score", "score_change"]

#: A metric's results, as stored; :data:`NOT_EVALUATED` is shown for a metric without one.
ADHERED, NOT_ADHERED, NOT_APPLICABLE, NOT_EVALUATED = "Adhered", "Not Adhered", "Not Applicable", "Not evaluated"
#: The colour each result is marked in on the Audit page: not adhered stands out.
RESULT_COLOURS = {NOT_ADHERED: "red", ADHERED: "green", NOT_APPLICABLE: "gray", NOT_EVALUATED: "gray"}
#: The colour of each metric's review badge (``review_machine.METRIC_OUTCOMES``): what the agent's
#: dispute came to, an overturned metric green, a kept one red.
REVIEW_COLOURS = {AGENT_ACCEPTED_OUTCOME: "gray", DISPUTED_OUTCOME: "orange", ACCEPTED_OUTCOME: "green",
                  DENIED_OUTCOME: "red"}


def who_did_it(actor: str, *, agent: str, auditor: str | None, audit_role: str | None,
               team_lead: str | None, hide_auditor_details: bool) -> str:
    """The person behind a review event by ``actor`` (the role the log names), as the history shows them.

    The agent is ``agent``. A reviewer (Supervisor or QA) is :data:`ANONYMOUS` with Hide Auditor Details;
    else ``auditor`` (the evaluation report's Auditor) when the reviewer has the role that submitted the
    audit (``audit_role``), else for a Supervisor the agent's ``team_lead``, else the role alone: the
    exports name no one else. Anyone else (System) is the role.
    """
    if actor == "Agent":
        return agent
    if actor not in REVIEWERS:
        return actor
    if hide_auditor_details:
        return ANONYMOUS
    if auditor and actor == audit_role:
        return auditor
    if actor == SUPERVISOR and team_lead:
        return team_lead
    return actor


def round_title(round_number: int, actions: Sequence[str]) -> str:
    """What a round of the review history is called, by what happened in it: round 0 is the audit; a round
    where the agent disputed a metric is a dispute round (its number is the log's: every round before it
    had a dispute, or the review would have ended); one where they only accepted is their acceptance;
    anything else (an end by the system or a reviewer) is named by its last action."""
    if round_number == 0 or AUDIT_SUBMITTED in actions:
        return "Audit"
    if DISPUTED in actions:
        return f"Dispute round {round_number}"
    if ACCEPTED in actions:
        return "Accepted by the agent"
    return str(actions[-1]) if len(actions) else f"Round {round_number}"


def _review_log(con: duckdb.DuckDBPyConnection, conversation_id: str) -> list[review_machine.ReviewEvent]:
    """The evaluation's review events, in the order the state machine takes them."""
    rows = con.execute(
        "SELECT conversation_id, metric, round, actor, action, comment, timestamp, audit_score "
        "FROM review_events WHERE conversation_id = $conversation",
        {"conversation": conversation_id},
    ).fetchall()
    return review_machine.sort_events(review_machine.ReviewEvent(*row) for row in rows)


def metric_outcomes(con: duckdb.DuckDBPyConnection, log: list[review_machine.ReviewEvent]) -> dict[str, str]:
    """Each metric's review badge: the state machine's outcome for it, replaying the evaluation's log
    (one evaluation's events are few) with the maximum of dispute rounds the store was derived with."""
    rounds = store.meta(con, "max_dispute_rounds")
    state, _ = review_machine.derive_review(log, int(rounds) if rounds else DEFAULT_MAX_DISPUTE_ROUNDS)
    return {} if state is None else state.metric_outcomes


def score_changes(history: Sequence[float], re_evaluations: int) -> list[str | None]:
    """What the audit and each of ``re_evaluations`` did to the audit score, in order: the audit's score,
    then "before → after" for each re-evaluation. ``history`` is the audit score history, which starts
    with the audit's score only when the audit had one (None for it then)."""
    scores: list[float | None] = [*history] if len(history) > re_evaluations else [None, *history]
    shown = [None if score is None else f"{score:g}" for score in scores]
    return shown[:1] + [after if before is None else f"{before} → {after}"
                        for before, after in zip(shown, shown[1:], strict=False)]


def _events_frame(log: list[review_machine.ReviewEvent], hide_auditor_details: bool, agent: str,
                  auditor: str | None, team_lead: str | None, history: Sequence[float]) -> pd.DataFrame:
    """The log as the Audit page shows it, round by round, with who did what; reviewers anonymous if
    asked."""
    audit_role = next((e.actor for e in log if e.action == AUDIT_SUBMITTED), None)
    changes = iter(score_changes(history, sum(e.action == RE_EVALUATED for e in log)))
    rows = [
        (e.round, e.timestamp, ANONYMOUS if hide_auditor_details and e.actor in REVIEWERS else e.actor,
         who_did_it(e.actor, agent=agent, auditor=auditor, audit_role=audit_role, team_lead=team_lead,
                    hide_auditor_details=hide_auditor_details),
         e.action, e.metric, e.comment, e.audit_score,
         next(changes, None) if e.action in (AUDIT_SUBMITTED, RE_EVALUATED) else None)
        for e in log
    ]
    frame = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    return frame.astype({"round": "int32", "timestamp": "datetime64[us]", "audit_score": "float64"})


def evaluation_detail(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer,
    conversation_id: str,
    hide_auditor_details: bool = False,
    pass_score: float = DEFAULT_PASS_SCORE,
) -> EvaluationDetail | None:
    """The evaluation, or None when it does not exist or the viewer may not see it.

    ``metrics`` has each metric's result, weights, fatal flag, whether it is a manual (auditor's)
    metric, and ``review``: its badge, the review state machine's outcome for it
    (``review_machine.METRIC_OUTCOMES``: Agent Accepted, Disputed, Accepted or Denied; None for a
    metric the log does not name). ``review_events`` is the log, round by round, in the machine's
    order, with ``who`` did each (:func:`who_did_it`). With ``hide_auditor_details`` the auditor and
    every reviewer (Supervisor, QA) show as "Anonymous". ``kore_result`` and ``audit_result`` are the
    scores' results against ``pass_score`` (:mod:`coaching.scores`).
    """
    own, params = scope(viewer, "e.person_id")
    shared, _ = scope(viewer, "a.person_id")
    # Someone else's example shows the score as audited: a re-evaluation would tell of their dispute.
    audit = f"CASE WHEN {own} THEN {scores.AUDIT_SQL} ELSE e.audit_score END"
    row = con.execute(
        f"""SELECT e.conversation_id, e.scored_agent, {own} AS in_scope, e.channel, e.queues, e.topics,
                   e.intent, e.language, e.contact_direction, e.start_time, e.evaluation_form,
                   e.duration_status, e.kore_score, e.audit_score, e.sentiment_score, e.is_fatal,
                   r.review_status, r.dispute_rounds, r.final_audit_score, r.audit_score_history, e.auditor,
                   e.person_id, {scores.KORE_RESULT_SQL} AS kore_result,
                   {audit} AS current_audit_score, {scores.audit_result_sql(audit)} AS audit_result,
                   (SELECT any_value(l.name) FROM people p JOIN people l ON l.email = p.team_lead_email
                    WHERE p.person_id = e.person_id) AS team_lead
            FROM evaluations e LEFT JOIN evaluation_reviews r USING (conversation_id)
            WHERE e.conversation_id = $conversation AND ({own} OR e.conversation_id IN (
                SELECT b.conversation_id FROM best_responses b JOIN assignments a USING (assignment_id)
                WHERE {shared}))""",
        {**params, **scores.pass_score(pass_score), "conversation": conversation_id},
    ).fetchone()
    if row is None:
        return None
    in_scope = bool(row[2])
    metrics = con.execute(
        """SELECT m.metric, m.result, m.adherence_weight, m.violation_weight, m.is_fatal_metric, m.is_manual
            FROM evaluation_metrics m WHERE m.conversation_id = $conversation ORDER BY m.position""",
        {"conversation": conversation_id},
    ).df()
    # Another agent's dispute history is theirs: neither their badges nor their log.
    log = _review_log(con, conversation_id) if in_scope else []
    outcomes = metric_outcomes(con, log) if log else {}
    metrics["review"] = pd.Series([outcomes.get(m) for m in metrics["metric"]], index=metrics.index, dtype=object)
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
        current_audit_score=row[23],
        kore_result=row[22],
        audit_result=row[24],
        metrics=metrics,
        review_events=_events_frame(log, hide_auditor_details, agent=row[1], auditor=row[20], team_lead=row[25],
                                    history=list(row[19] or []) if in_scope else []),
    )
