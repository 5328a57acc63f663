"""The review state machine: one evaluation's Agent Accept & Dispute log in, its review state out.

This is the only place that decides a review status. The rules (docs/review.md says the same for people):

* Round 0 holds the audit: one ``Audit Submitted`` by a Supervisor or QA. The evaluation is then
  **Pending Agent Review** and round 1 is open.
* In round *c* the agent answers per metric: ``Accepted`` (an empty Metric accepts the whole evaluation)
  or ``Disputed`` (a metric and a comment are required). When the agent's answers end: any dispute
  makes it **Pending Supervisor Review**; otherwise an acceptance makes it **Resolved**.
* The reviewer (Supervisor or QA) answers every metric disputed in round *c* with ``Dispute Accepted``
  or ``Dispute Denied`` and may ``Re-evaluated`` it with a new audit score. When every disputed metric
  has an answer, round *c* is a completed dispute round: at the maximum of dispute rounds the evaluation
  is **Closed** (the decision is final); otherwise it is Pending Agent Review again, for round *c* + 1.
* ``Resolved`` (System, Supervisor or QA) ends a review that waits for the agent; ``Closed`` (System,
  Supervisor or QA) ends any open review. Either may also confirm an end that already happened.
* Each metric the log names has an outcome, its review badge: **Disputed** while the agent's dispute
  of it waits, **Accepted** or **Denied** once the reviewer answered the last dispute of it, and
  **Agent Accepted** when the agent accepted it without a dispute. An acceptance never replaces an
  outcome the metric already has (a dispute accepted in round 1 stays Accepted when the agent
  accepts the metric in round 3); a new dispute does.
* Events are taken in order of round, then timestamp; a timestamp earlier than the event before it,
  an event the current state does not accept, or a round past the maximum is rejected.

What the machine derives is stored in ``evaluation_reviews``; queries read its notions through the SQL
at the end of this module (:data:`DISPUTED_SQL`, :func:`dispute_answers_sql`), never a copy of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from coaching.sql import in_list, sql_str

PENDING_AGENT = "Pending Agent Review"
PENDING_SUPERVISOR = "Pending Supervisor Review"
RESOLVED = "Resolved"
CLOSED = "Closed"
REVIEW_STATUSES = (PENDING_AGENT, PENDING_SUPERVISOR, RESOLVED, CLOSED)
#: A review still open (someone owes an answer), and one that is over.
OPEN_STATUSES = (PENDING_AGENT, PENDING_SUPERVISOR)
DONE_STATUSES = (RESOLVED, CLOSED)

AUDIT_SUBMITTED = "Audit Submitted"
ACCEPTED = "Accepted"
DISPUTED = "Disputed"
DISPUTE_ACCEPTED = "Dispute Accepted"
DISPUTE_DENIED = "Dispute Denied"
RE_EVALUATED = "Re-evaluated"
RESOLVE = "Resolved"
CLOSE = "Closed"
ACTIONS = (
    AUDIT_SUBMITTED,
    ACCEPTED,
    DISPUTED,
    DISPUTE_ACCEPTED,
    DISPUTE_DENIED,
    RE_EVALUATED,
    RESOLVE,
    CLOSE,
)
ACTORS = ("Agent", "Supervisor", "QA", "System")
#: The reviewer's answers to a disputed metric: accepted (the metric is overturned) or denied.
ANSWERS = (DISPUTE_ACCEPTED, DISPUTE_DENIED)

#: A metric's outcome in the review (its badge on the Audit page): ``ReviewState.metric_outcomes``.
AGENT_ACCEPTED_OUTCOME = "Agent Accepted"
DISPUTED_OUTCOME = "Disputed"
ACCEPTED_OUTCOME = "Accepted"  # the reviewer accepted the dispute: the metric was overturned
DENIED_OUTCOME = "Denied"
METRIC_OUTCOMES = (AGENT_ACCEPTED_OUTCOME, DISPUTED_OUTCOME, ACCEPTED_OUTCOME, DENIED_OUTCOME)

#: Who may take each action.
ACTORS_BY_ACTION: dict[str, tuple[str, ...]] = {
    AUDIT_SUBMITTED: ("Supervisor", "QA"),
    ACCEPTED: ("Agent",),
    DISPUTED: ("Agent",),
    DISPUTE_ACCEPTED: ("Supervisor", "QA"),
    DISPUTE_DENIED: ("Supervisor", "QA"),
    RE_EVALUATED: ("Supervisor", "QA"),
    RESOLVE: ("System", "Supervisor", "QA"),
    CLOSE: ("System", "Supervisor", "QA"),
}
# Ties on round and timestamp are broken in the order a review happens.
PHASE_ORDER = {
    AUDIT_SUBMITTED: 0,
    ACCEPTED: 1,
    DISPUTED: 1,
    DISPUTE_ACCEPTED: 2,
    DISPUTE_DENIED: 2,
    RE_EVALUATED: 3,
    RESOLVE: 4,
    CLOSE: 4,
}


@dataclass(frozen=True)
class ReviewEvent:
    """One row of the review log. ``source`` says where it came from, for error messages."""

    conversation_id: str
    metric: str | None
    round: int
    actor: str
    action: str
    comment: str | None
    timestamp: datetime
    audit_score: float | None = None
    source: Any = None

    def order(self) -> tuple[int, datetime, int, str, str]:
        # Metric and action last, so that ties come out the same whatever order the rows arrive in.
        return (self.round, self.timestamp, PHASE_ORDER.get(self.action, 9), self.metric or "", self.action)


@dataclass(frozen=True)
class Rejection:
    """An event the state machine cannot accept: which column is wrong and what was expected."""

    event: ReviewEvent
    column: str
    value: Any
    expected: str


@dataclass
class ReviewState:
    """What the log says about one evaluation's review."""

    review_status: str
    dispute_rounds: int
    disputed_metrics: list[str]
    awaiting_response: list[str]
    audit_score_history: list[float]
    final_audit_score: float | None
    audited_at: datetime
    status_since: datetime
    completed_at: datetime | None
    #: Each metric the log names, by its outcome (one of :data:`METRIC_OUTCOMES`).
    metric_outcomes: dict[str, str] = field(default_factory=dict)


class _Machine:
    def __init__(self, max_rounds: int, initial_audit_score: float | None) -> None:
        self.max_rounds = max_rounds
        self.initial_audit_score = initial_audit_score
        self.status: str | None = None
        self.completed = 0
        self.open_round = 0  # the round whose answers or responses are under way
        self.agent_answers_open = False
        self.round_disputes: dict[str, str | None] = {}  # metric -> reviewer's answer
        self.round_accepts: list[str | None] = []
        self.disputed: list[str] = []
        self.outcomes: dict[str, str] = {}
        self.history: list[float] = []
        self.audited_at: datetime | None = None
        self.status_since: datetime | None = None
        self.completed_at: datetime | None = None
        self.last: ReviewEvent | None = None
        self.confirmed_end = False
        self.reevaluated_round = -1

    # -- helpers -------------------------------------------------------------------------------
    def _enter(self, status: str, when: datetime) -> None:
        self.status = status
        self.status_since = when
        if status in (RESOLVED, CLOSED):
            self.completed_at = when

    def _close_agent_answers(self, when: datetime) -> None:
        """The agent's answers for the open round are in: decide where the review goes."""
        if not self.agent_answers_open:
            return
        self.agent_answers_open = False
        if self.round_disputes:
            self._enter(PENDING_SUPERVISOR, when)
        elif self.round_accepts:
            self._enter(RESOLVED, when)

    def _reject(self, event: ReviewEvent, column: str, expected: str) -> Rejection:
        values = {
            "Action": event.action,
            "Round": event.round,
            "Metric": event.metric,
            "Actor": event.actor,
            "Comment": event.comment,
            "Timestamp": event.timestamp,
            "Audit Score": event.audit_score,
        }
        return Rejection(event, column, values.get(column), expected)

    # -- the transitions -----------------------------------------------------------------------
    def step(self, ev: ReviewEvent) -> Rejection | None:
        allowed = ACTORS_BY_ACTION.get(ev.action)
        if allowed is None:
            return self._reject(ev, "Action", "one of " + ", ".join(ACTIONS))
        if ev.actor not in allowed:
            return self._reject(ev, "Actor", f"{' or '.join(allowed)} for {ev.action}")
        if self.last is not None and ev.timestamp < self.last.timestamp:
            return self._reject(
                ev,
                "Timestamp",
                f"not earlier than the event before it ({self.last.action}, round "
                f"{self.last.round}, {self.last.timestamp:%Y-%m-%d %H:%M:%S})",
            )
        # The agent's answers for a round end at the first event that is not one of them.
        if self.agent_answers_open and not (
            ev.action in (ACCEPTED, DISPUTED) and ev.round == self.open_round
        ):
            self._close_agent_answers(self.last.timestamp if self.last else ev.timestamp)

        if ev.action == AUDIT_SUBMITTED:
            if self.status is not None:
                return self._reject(ev, "Action", "one Audit Submitted per evaluation")
            if ev.round != 0:
                return self._reject(ev, "Round", "0 for Audit Submitted")
            self.audited_at = ev.timestamp
            score = ev.audit_score if ev.audit_score is not None else self.initial_audit_score
            if score is not None:
                self.history.append(score)
            self.open_round = 1
            self._enter(PENDING_AGENT, ev.timestamp)
            return None

        if self.status is None:
            return self._reject(ev, "Action", "Audit Submitted first: this evaluation has no audit")
        if ev.round < 1:
            return self._reject(ev, "Round", f"1 or more for {ev.action} (round 0 holds the audit)")

        if ev.action in (ACCEPTED, DISPUTED):
            return self._agent_answer(ev)
        if ev.action in (DISPUTE_ACCEPTED, DISPUTE_DENIED):
            return self._response(ev)
        if ev.action == RE_EVALUATED:
            return self._re_evaluation(ev)
        return self._end(ev)

    def _past_limit(self, ev: ReviewEvent) -> Rejection | None:
        if ev.round > self.max_rounds:
            return self._reject(
                ev,
                "Round",
                f"at most {self.max_rounds}, the maximum of dispute rounds "
                f"(the evaluation closes after round {self.max_rounds})",
            )
        return None

    def _agent_answer(self, ev: ReviewEvent) -> Rejection | None:
        if self.status in (RESOLVED, CLOSED):
            return self._past_limit(ev) or self._reject(
                ev, "Action", f"no answer: the review is {self.status.lower()}"
            )
        if self.status == PENDING_SUPERVISOR:
            return self._reject(
                ev,
                "Action",
                f"a reviewer's response first: the agent's answers for round {self.open_round} "
                "were submitted",
            )
        expected_round = self.completed + 1
        if ev.round != expected_round:
            return self._past_limit(ev) or self._reject(
                ev,
                "Round",
                f"{expected_round}: after {self.completed} completed dispute round(s) "
                f"the agent answers in round {expected_round}",
            )
        if not self.agent_answers_open:
            self.agent_answers_open = True
            self.open_round = expected_round
            self.round_disputes = {}
            self.round_accepts = []
        if ev.action == DISPUTED:
            if not ev.metric:
                return self._reject(ev, "Metric", "the disputed metric's name")
            if not (ev.comment or "").strip():
                return self._reject(ev, "Comment", "the agent's reason for the dispute")
            if ev.metric in self.round_disputes or ev.metric in self.round_accepts:
                return self._reject(ev, "Metric", f"a metric not yet answered in round {ev.round}")
            self.round_disputes[ev.metric] = None
            if ev.metric not in self.disputed:
                self.disputed.append(ev.metric)
            self.outcomes[ev.metric] = DISPUTED_OUTCOME
        else:
            if ev.metric is not None and ev.metric in self.round_disputes:
                return self._reject(ev, "Metric", f"a metric not disputed in round {ev.round}")
            self.round_accepts.append(ev.metric)
            if ev.metric is not None:  # never replaces an answer or a dispute of it
                self.outcomes.setdefault(ev.metric, AGENT_ACCEPTED_OUTCOME)
        return None

    def _response(self, ev: ReviewEvent) -> Rejection | None:
        if self.status != PENDING_SUPERVISOR:
            return self._reject(
                ev, "Action", f"a dispute to answer: the review is {str(self.status).lower()}"
            )
        if ev.round != self.open_round:
            return self._reject(ev, "Round", f"{self.open_round}, the round of the open dispute")
        if ev.metric not in self.round_disputes:
            disputed = ", ".join(self.round_disputes)
            return self._reject(ev, "Metric", f"a metric disputed in round {ev.round}: {disputed}")
        if self.round_disputes[ev.metric] is not None:
            return self._reject(ev, "Metric", f"one response per disputed metric in round {ev.round}")
        answer = ACCEPTED_OUTCOME if ev.action == DISPUTE_ACCEPTED else DENIED_OUTCOME
        self.round_disputes[ev.metric] = answer
        self.outcomes[ev.metric] = answer
        if all(self.round_disputes.values()):
            self.completed = ev.round
            if self.completed >= self.max_rounds:
                self._enter(CLOSED, ev.timestamp)
            else:
                self._enter(PENDING_AGENT, ev.timestamp)
        return None

    def _re_evaluation(self, ev: ReviewEvent) -> Rejection | None:
        under_way = self.status == PENDING_SUPERVISOR and ev.round == self.open_round
        just_done = (
            self.status in (PENDING_AGENT, CLOSED)
            and not self.agent_answers_open
            and self.completed == ev.round == self.open_round
            and not self.confirmed_end
        )
        if not (under_way or just_done):
            return self._reject(
                ev, "Action", "a re-evaluation in the round of a dispute, before the next round"
            )
        if self.reevaluated_round == ev.round:
            return self._reject(ev, "Action", f"one re-evaluation in round {ev.round}")
        if ev.audit_score is None:
            return self._reject(ev, "Audit Score", "the audit score after the re-evaluation")
        self.reevaluated_round = ev.round
        self.history.append(ev.audit_score)
        if just_done and self.status == PENDING_AGENT:
            self.status_since = ev.timestamp  # the agent sees "Re-evaluation Received" from now
        return None

    def _end(self, ev: ReviewEvent) -> Rejection | None:
        target = RESOLVED if ev.action == RESOLVE else CLOSED
        if self.status in (RESOLVED, CLOSED):
            if (
                self.status == target
                and not self.confirmed_end
                and self.open_round <= ev.round <= self.max_rounds
            ):
                self.confirmed_end = True  # confirms an end that already happened
                return None
            return self._past_limit(ev) or self._reject(
                ev, "Action", f"nothing more: the review is {self.status.lower()}"
            )
        if ev.round not in (self.completed, self.completed + 1, self.open_round):
            return self._reject(ev, "Round", f"{self.open_round}, the round under way")
        if target == RESOLVED and self.status == PENDING_SUPERVISOR:
            waiting = ", ".join(m for m, a in self.round_disputes.items() if a is None)
            return self._reject(ev, "Action", f"responses first: {waiting} await a response")
        self.confirmed_end = True
        self._enter(target, ev.timestamp)
        return None

    def state(self) -> ReviewState | None:
        if self.status is None or self.audited_at is None or self.status_since is None:
            return None
        if self.agent_answers_open and self.last is not None:
            self._close_agent_answers(self.last.timestamp)
        awaiting = (
            [m for m, a in self.round_disputes.items() if a is None]
            if self.status == PENDING_SUPERVISOR
            else []
        )
        return ReviewState(
            review_status=self.status,
            dispute_rounds=self.completed,
            disputed_metrics=list(self.disputed),
            awaiting_response=awaiting,
            audit_score_history=list(self.history),
            final_audit_score=self.history[-1] if self.history else None,
            audited_at=self.audited_at,
            status_since=self.status_since,
            completed_at=self.completed_at,
            metric_outcomes=dict(self.outcomes),
        )


def sort_events(events: Iterable[ReviewEvent]) -> list[ReviewEvent]:
    """The order the machine takes events in: round, then timestamp, then the review's own order."""
    return sorted(events, key=ReviewEvent.order)


def derive_review(
    events: Sequence[ReviewEvent],
    max_rounds: int,
    initial_audit_score: float | None = None,
) -> tuple[ReviewState | None, Rejection | None]:
    """Run one evaluation's events through the state machine.

    Returns the review state after the last accepted event (None when there is no audit) and the first
    event the machine could not accept, if any; events after a rejected one are not considered.
    ``initial_audit_score`` is the evaluation's exported Audit Score, used when the audit event has none.
    """
    machine = _Machine(max_rounds, initial_audit_score)
    for event in sort_events(events):
        rejection = machine.step(event)
        if rejection is not None:
            return machine.state(), rejection
        machine.last = event
    return machine.state(), None


# -- the machine's notions in SQL ------------------------------------------------------------------------

#: SQL: the review ``r`` (an ``evaluation_reviews`` row) has a metric disputed, in any round. The Review
#: tabs' Disputes, the Team view's and Score Trends' disputed evaluations are this.
DISPUTED_SQL = "len(r.disputed_metrics) > 0"


def dispute_answers_sql(evaluations: str | None = None, *, per_metric: bool = False) -> str:
    """SQL: the review log's disputes and the reviewer's answers, one row per evaluation (``per_metric``:
    per evaluation and metric): ``conversation_id`` (and ``metric``), ``accepted`` (answers that accepted
    the dispute: overturned), ``answered`` (accepted or denied, :data:`ANSWERS`) and ``was_disputed``
    (the agent disputed it). Only evaluations with a dispute have a row. ``evaluations``: a relation
    (a CTE's name or a query) with a ``conversation_id`` column, to read the log of those only."""
    keys = "v.conversation_id, v.metric" if per_metric else "v.conversation_id"
    only = f" SEMI JOIN {evaluations} USING (conversation_id)" if evaluations else ""
    named = " AND v.metric IS NOT NULL" if per_metric else ""
    return f"""SELECT {keys}, count(*) FILTER (WHERE v.action = {sql_str(DISPUTE_ACCEPTED)}) AS accepted,
                      count(*) FILTER (WHERE {in_list("v.action", ANSWERS)}) AS answered,
                      bool_or(v.action = {sql_str(DISPUTED)}) AS was_disputed
               FROM review_events v{only}
               WHERE {in_list("v.action", (DISPUTED, *ANSWERS))}{named} GROUP BY {keys}"""
