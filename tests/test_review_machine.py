"""Tests for the review state machine in coaching/review_machine.py.

The first half builds small logs by hand, one per rule of the module docstring, and one per rejection.
The second half generates valid logs with hypothesis by walking the workflow at random and checks
properties every valid log (and every prefix of one) must have.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coaching.review_machine import (
    ACCEPTED,
    ACTORS_BY_ACTION,
    AUDIT_SUBMITTED,
    CLOSE,
    CLOSED,
    DISPUTE_ACCEPTED,
    DISPUTE_DENIED,
    DISPUTED,
    PENDING_AGENT,
    PENDING_SUPERVISOR,
    RE_EVALUATED,
    RESOLVE,
    RESOLVED,
    REVIEW_STATUSES,
    ReviewEvent,
    derive_review,
)

from review_walks import CID, METRICS, SCORES, T0, walks

_DEFAULT = object()

DEFAULT_ACTOR = {
    AUDIT_SUBMITTED: "QA",
    ACCEPTED: "Agent",
    DISPUTED: "Agent",
    DISPUTE_ACCEPTED: "Supervisor",
    DISPUTE_DENIED: "QA",
    RE_EVALUATED: "QA",
    RESOLVE: "System",
    CLOSE: "System",
}


# -- helpers ---------------------------------------------------------------------------------------


def ev(action, rnd, metric=None, *, actor=None, comment=_DEFAULT, score=None, at=None):
    """One event; a Disputed gets a comment unless one is given (None included)."""
    if comment is _DEFAULT:
        comment = f"I disagree on {metric}" if action == DISPUTED else None
    return ReviewEvent(CID, metric, rnd, actor or DEFAULT_ACTOR.get(action, "System"), action, comment,
                       at or T0, score)


def at(hour):
    return T0 + timedelta(hours=hour)


def log(*events):
    """The events with timestamps one hour apart, in the order given."""
    return [replace(e, timestamp=at(i)) for i, e in enumerate(events)]


def audit(score=60.0):
    return ev(AUDIT_SUBMITTED, 0, score=score)


def derive(events, max_rounds=3, initial=None):
    """The state of a log that must be accepted."""
    state, rejection = derive_review(events, max_rounds, initial)
    assert rejection is None, rejection
    assert state is not None
    return state


def reject(events, max_rounds=3, initial=None):
    """The rejection of a log that must be rejected (with the state before it)."""
    state, rejection = derive_review(events, max_rounds, initial)
    assert rejection is not None, f"expected a rejection, got {state}"
    assert rejection.expected.strip()
    return state, rejection


def dispute_round(rnd, *metrics, answer=DISPUTE_DENIED):
    """The agent disputes the metrics in round rnd and the reviewer answers each."""
    return [ev(DISPUTED, rnd, m) for m in metrics] + [ev(answer, rnd, m) for m in metrics]


# -- the happy paths -------------------------------------------------------------------------------


def test_no_events_means_no_review():
    assert derive_review([], 3) == (None, None)


def test_audit_only_is_pending_agent_review():
    state = derive(log(audit(55)))
    assert state.review_status == PENDING_AGENT
    assert state.dispute_rounds == 0
    assert state.disputed_metrics == []
    assert state.awaiting_response == []
    assert state.audit_score_history == [55]
    assert state.final_audit_score == 55
    assert state.audited_at == at(0)
    assert state.status_since == at(0)
    assert state.completed_at is None


def test_agent_accepting_the_whole_evaluation_resolves_it():
    state = derive(log(audit(), ev(ACCEPTED, 1)))
    assert state.review_status == RESOLVED
    assert state.dispute_rounds == 0
    assert state.completed_at == at(1)
    assert state.status_since == at(1)


def test_per_metric_accepts_only_resolve():
    state = derive(log(audit(), ev(ACCEPTED, 1, "Greeting"), ev(ACCEPTED, 1, "Empathy")))
    assert state.review_status == RESOLVED
    assert state.dispute_rounds == 0
    assert state.disputed_metrics == []
    assert state.completed_at == at(2)  # when the agent's last answer came in
    assert state.metric_outcomes == {"Greeting": "Agent Accepted", "Empathy": "Agent Accepted"}


def test_a_dispute_makes_it_pending_supervisor_review():
    state = derive(log(audit(), ev(DISPUTED, 1, "Greeting")))
    assert state.review_status == PENDING_SUPERVISOR
    assert state.awaiting_response == ["Greeting"]
    assert state.disputed_metrics == ["Greeting"]
    assert state.dispute_rounds == 0
    assert state.status_since == at(1)
    assert state.completed_at is None


def test_a_dispute_wins_over_accepts_in_the_same_round():
    state = derive(
        log(audit(), ev(ACCEPTED, 1, "Greeting"), ev(DISPUTED, 1, "Empathy"), ev(ACCEPTED, 1, "Hold"))
    )
    assert state.review_status == PENDING_SUPERVISOR
    assert state.awaiting_response == ["Empathy"]
    assert state.disputed_metrics == ["Empathy"]
    assert state.status_since == at(3)


def test_partial_responses_keep_it_pending_supervisor_review():
    state = derive(
        log(
            audit(),
            ev(DISPUTED, 1, "Greeting"),
            ev(DISPUTED, 1, "Empathy"),
            ev(DISPUTE_ACCEPTED, 1, "Greeting"),
        )
    )
    assert state.review_status == PENDING_SUPERVISOR
    assert state.awaiting_response == ["Empathy"]
    assert state.dispute_rounds == 0
    assert state.metric_outcomes == {"Greeting": "Accepted", "Empathy": "Disputed"}


def test_all_responses_complete_a_dispute_round():
    state = derive(
        log(
            audit(),
            ev(DISPUTED, 1, "Greeting"),
            ev(DISPUTED, 1, "Empathy"),
            ev(DISPUTE_ACCEPTED, 1, "Greeting"),
            ev(DISPUTE_DENIED, 1, "Empathy"),
        )
    )
    assert state.review_status == PENDING_AGENT
    assert state.dispute_rounds == 1
    assert state.awaiting_response == []
    assert state.disputed_metrics == ["Greeting", "Empathy"]
    assert state.status_since == at(4)
    assert state.completed_at is None
    assert state.metric_outcomes == {"Greeting": "Accepted", "Empathy": "Denied"}


def test_re_evaluation_after_the_responses_adds_a_score():
    state = derive(
        log(
            audit(55),
            ev(DISPUTED, 1, "Greeting"),
            ev(DISPUTE_ACCEPTED, 1, "Greeting"),
            ev(RE_EVALUATED, 1, score=70),
        )
    )
    assert state.review_status == PENDING_AGENT
    assert state.audit_score_history == [55, 70]
    assert state.final_audit_score == 70
    assert state.status_since == at(3)  # the agent sees the re-evaluation from then on


def test_re_evaluation_while_responses_are_under_way():
    state = derive(
        log(
            audit(55),
            ev(DISPUTED, 1, "Greeting"),
            ev(DISPUTED, 1, "Empathy"),
            ev(DISPUTE_ACCEPTED, 1, "Greeting"),
            ev(RE_EVALUATED, 1, "Greeting", score=65),
        )
    )
    assert state.review_status == PENDING_SUPERVISOR
    assert state.awaiting_response == ["Empathy"]
    assert state.audit_score_history == [55, 65]
    assert state.final_audit_score == 65


def test_re_evaluations_in_several_rounds_build_the_history():
    state = derive(
        log(
            audit(40),
            *dispute_round(1, "Greeting", answer=DISPUTE_ACCEPTED),
            ev(RE_EVALUATED, 1, score=50),
            *dispute_round(2, "Empathy", answer=DISPUTE_ACCEPTED),
            ev(RE_EVALUATED, 2, score=-10.5),
        )
    )
    assert state.audit_score_history == [40, 50, -10.5]
    assert state.final_audit_score == -10.5
    assert state.dispute_rounds == 2


def test_round_two_and_three_disputes():
    round2 = derive(log(audit(), *dispute_round(1, "Greeting"), ev(DISPUTED, 2, "Greeting")))
    assert round2.review_status == PENDING_SUPERVISOR
    assert round2.dispute_rounds == 1
    assert round2.awaiting_response == ["Greeting"]

    round3 = derive(
        log(audit(), *dispute_round(1, "Greeting"), *dispute_round(2, "Greeting"), ev(DISPUTED, 3, "Empathy"))
    )
    assert round3.review_status == PENDING_SUPERVISOR
    assert round3.dispute_rounds == 2
    assert round3.awaiting_response == ["Empathy"]
    assert round3.disputed_metrics == ["Greeting", "Empathy"]


def test_closed_after_the_maximum_round_is_answered():
    events = log(
        audit(),
        *dispute_round(1, "Greeting"),
        *dispute_round(2, "Greeting"),
        *dispute_round(3, "Greeting", "Empathy"),
    )
    state = derive(events, max_rounds=3)
    assert state.review_status == CLOSED
    assert state.dispute_rounds == 3
    assert state.awaiting_response == []
    assert state.completed_at == events[-1].timestamp
    assert state.status_since == events[-1].timestamp


def test_the_same_log_stays_open_with_a_higher_maximum():
    rounds = [e for r in (1, 2, 3) for e in dispute_round(r, "Greeting")]
    events = log(audit(), *rounds)
    assert derive(events, max_rounds=4).review_status == PENDING_AGENT
    assert derive(events, max_rounds=4).dispute_rounds == 3


def test_max_rounds_one_closes_after_the_first_round():
    state = derive(log(audit(), *dispute_round(1, "Greeting")), max_rounds=1)
    assert state.review_status == CLOSED
    assert state.dispute_rounds == 1


def test_re_evaluation_is_still_allowed_right_after_the_automatic_close():
    round1 = dispute_round(1, "Greeting", answer=DISPUTE_ACCEPTED)
    events = log(audit(50), *round1, ev(RE_EVALUATED, 1, score=80))
    state = derive(events, max_rounds=1)
    assert state.review_status == CLOSED
    assert state.final_audit_score == 80
    assert state.completed_at == at(2)  # the close, not the re-evaluation


def test_explicit_closed_confirms_the_automatic_close():
    events = log(audit(), *dispute_round(1, "Greeting"), ev(CLOSE, 1))
    state = derive(events, max_rounds=1)
    assert state.review_status == CLOSED
    assert state.completed_at == at(2)  # the automatic close, not the confirmation


def test_explicit_resolved_confirms_the_agents_acceptance():
    state = derive(log(audit(), ev(ACCEPTED, 1), ev(RESOLVE, 1, actor="Supervisor")))
    assert state.review_status == RESOLVED
    assert state.completed_at == at(1)


def test_explicit_resolved_ends_a_review_waiting_for_the_agent():
    state = derive(log(audit(), *dispute_round(1, "Greeting"), ev(RESOLVE, 2)))
    assert state.review_status == RESOLVED
    assert state.dispute_rounds == 1
    assert state.completed_at == at(3)


@pytest.mark.parametrize("tail", ["audit", "agent answers", "partial responses", "round done"])
def test_explicit_closed_ends_any_open_review(tail):
    events = {
        "audit": [audit(), ev(CLOSE, 1)],
        "agent answers": [audit(), ev(DISPUTED, 1, "Greeting"), ev(CLOSE, 1, actor="QA")],
        "partial responses": [
            audit(),
            ev(DISPUTED, 1, "Greeting"),
            ev(DISPUTED, 1, "Empathy"),
            ev(DISPUTE_DENIED, 1, "Greeting"),
            ev(CLOSE, 1, actor="Supervisor"),
        ],
        "round done": [audit(), *dispute_round(1, "Greeting"), ev(CLOSE, 1)],
    }[tail]
    state = derive(log(*events))
    assert state.review_status == CLOSED
    assert state.awaiting_response == []
    assert state.completed_at == at(len(events) - 1)


def test_initial_audit_score_is_used_when_the_audit_has_none():
    state = derive(log(audit(score=None)), initial=42.0)
    assert state.audit_score_history == [42.0]
    assert state.final_audit_score == 42.0


def test_audit_events_score_wins_over_the_initial_score():
    assert derive(log(audit(score=30.0)), initial=42.0).final_audit_score == 30.0


def test_no_score_anywhere_means_no_final_score():
    state = derive(log(audit(score=None)))
    assert state.audit_score_history == []
    assert state.final_audit_score is None


def test_events_are_taken_in_order_of_round_then_timestamp():
    events = log(
        audit(55),
        ev(DISPUTED, 1, "Greeting"),
        ev(DISPUTE_ACCEPTED, 1, "Greeting"),
        ev(RE_EVALUATED, 1, score=70),
    )
    assert derive(list(reversed(events))) == derive(events)


def test_ties_on_timestamp_are_broken_in_the_order_a_review_happens():
    same = at(5)
    events = [
        audit(55),
        ev(DISPUTED, 1, "Greeting", at=at(1)),
        ev(RE_EVALUATED, 1, score=70, at=same),
        ev(DISPUTE_ACCEPTED, 1, "Greeting", at=same),
    ]
    state = derive(events)
    assert state.review_status == PENDING_AGENT
    assert state.final_audit_score == 70


def test_ties_come_out_the_same_whatever_order_the_rows_arrive_in():
    same = at(1)
    events = [
        audit(),
        ev(DISPUTED, 1, "Hold", at=same),
        ev(DISPUTED, 1, "Empathy", at=same),
        ev(ACCEPTED, 1, "Greeting", at=same),
        ev(DISPUTED, 1, "Closing", at=same),
    ]
    expected = derive(events)
    rng = random.Random(7)
    for _ in range(20):
        shuffled = events[:]
        rng.shuffle(shuffled)
        assert derive(shuffled) == expected


def test_the_template_file_is_a_valid_log():
    path = Path(__file__).resolve().parent.parent / "data" / "templates" / "review-events.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    events = [
        ReviewEvent(
            r["ConversationID"],
            r["Metric"] or None,
            int(r["Round"]),
            r["Actor"],
            r["Action"],
            r["Comment"] or None,
            datetime.fromisoformat(r["Timestamp"].replace("Z", "+00:00")),
            float(r["Audit Score"]) if r["Audit Score"] else None,
        )
        for r in rows
    ]
    state = derive(events)
    assert state.review_status == RESOLVED
    assert state.dispute_rounds == 1
    assert state.audit_score_history == [55, 70]
    assert state.disputed_metrics == ["Empathy - Tone"]


# -- rejections ------------------------------------------------------------------------------------


def test_a_dispute_without_an_audit_is_rejected():
    state, rejection = reject(log(ev(DISPUTED, 1, "Greeting")))
    assert state is None
    assert rejection.column == "Action"
    assert "Audit Submitted" in rejection.expected


def test_a_dispute_timestamped_before_the_audit_is_rejected():
    events = [ev(AUDIT_SUBMITTED, 0, score=50, at=at(5)), ev(DISPUTED, 1, "Greeting", at=at(1))]
    state, rejection = reject(events)
    assert rejection.column == "Timestamp"
    assert rejection.value == at(1)
    assert "Audit Submitted" in rejection.expected
    assert state.review_status == PENDING_AGENT


def test_audit_submitted_in_a_round_other_than_zero_is_rejected():
    state, rejection = reject(log(ev(AUDIT_SUBMITTED, 1, score=50)))
    assert state is None
    assert rejection.column == "Round"
    assert rejection.value == 1
    assert "0" in rejection.expected


def test_a_second_audit_is_rejected():
    _, rejection = reject(log(audit(), ev(AUDIT_SUBMITTED, 0, score=80)))
    assert rejection.column == "Action"
    assert "one Audit Submitted" in rejection.expected


def test_a_non_audit_event_in_round_zero_is_rejected():
    _, rejection = reject(log(audit(), ev(DISPUTED, 0, "Greeting")))
    assert rejection.column == "Round"
    assert "round 0 holds the audit" in rejection.expected


@pytest.mark.parametrize("comment", [None, "", "   "])
def test_a_dispute_without_a_comment_is_rejected(comment):
    state, rejection = reject(log(audit(), ev(DISPUTED, 1, "Greeting", comment=comment)))
    assert rejection.column == "Comment"
    assert "reason" in rejection.expected
    assert state.disputed_metrics == []


@pytest.mark.parametrize("metric", [None, ""])
def test_a_dispute_without_a_metric_is_rejected(metric):
    _, rejection = reject(log(audit(), ev(DISPUTED, 1, metric, comment="wrong score")))
    assert rejection.column == "Metric"
    assert "metric" in rejection.expected


def test_disputing_a_metric_twice_in_a_round_is_rejected():
    events = log(audit(), ev(DISPUTED, 1, "Greeting"), ev(DISPUTED, 1, "Greeting", comment="again"))
    _, rejection = reject(events)
    assert rejection.column == "Metric"
    assert "not yet answered" in rejection.expected


def test_accepting_a_disputed_metric_in_the_same_round_is_rejected():
    _, rejection = reject(log(audit(), ev(DISPUTED, 1, "Greeting"), ev(ACCEPTED, 1, "Greeting")))
    assert rejection.column == "Metric"
    assert "not disputed" in rejection.expected


def test_a_response_for_a_metric_not_disputed_in_that_round_is_rejected():
    state, rejection = reject(log(audit(), ev(DISPUTED, 1, "Greeting"), ev(DISPUTE_ACCEPTED, 1, "Empathy")))
    assert rejection.column == "Metric"
    assert rejection.value == "Empathy"
    assert "Greeting" in rejection.expected  # says which metrics were disputed
    assert state.review_status == PENDING_SUPERVISOR


def test_a_response_for_a_metric_disputed_only_in_an_earlier_round_is_rejected():
    events = log(
        audit(), *dispute_round(1, "Greeting"), ev(DISPUTED, 2, "Empathy"), ev(DISPUTE_DENIED, 2, "Greeting")
    )
    _, rejection = reject(events)
    assert rejection.column == "Metric"
    assert "round 2" in rejection.expected and "Empathy" in rejection.expected


def test_a_second_response_to_the_same_dispute_is_rejected():
    events = log(
        audit(), ev(DISPUTED, 1, "Greeting"), ev(DISPUTED, 1, "Empathy"),
        ev(DISPUTE_ACCEPTED, 1, "Greeting"), ev(DISPUTE_DENIED, 1, "Greeting", actor="Supervisor"),
    )
    _, rejection = reject(events)
    assert rejection.column == "Metric"
    assert "one response" in rejection.expected


def test_a_response_without_a_dispute_is_rejected():
    _, rejection = reject(log(audit(), ev(DISPUTE_ACCEPTED, 1, "Greeting")))
    assert rejection.column == "Action"
    assert "dispute to answer" in rejection.expected


def test_a_response_in_the_wrong_round_is_rejected():
    _, rejection = reject(log(audit(), ev(DISPUTED, 1, "Greeting"), ev(DISPUTE_ACCEPTED, 2, "Greeting")))
    assert rejection.column == "Round"
    assert "1" in rejection.expected


@pytest.mark.parametrize("max_rounds", [1, 2, 3, 5])
def test_a_dispute_past_the_maximum_round_is_rejected(max_rounds):
    rounds = [e for r in range(1, max_rounds + 1) for e in dispute_round(r, "Greeting")]
    events = log(audit(), *rounds, ev(DISPUTED, max_rounds + 1, "Greeting"))
    state, rejection = reject(events, max_rounds=max_rounds)
    assert state.review_status == CLOSED
    assert rejection.column == "Round"
    assert rejection.value == max_rounds + 1
    assert f"at most {max_rounds}" in rejection.expected
    assert "maximum" in rejection.expected


def test_a_dispute_far_past_the_maximum_is_rejected_even_while_the_review_is_open():
    events = log(audit(), *dispute_round(1, "Greeting"), ev(DISPUTED, 4, "Greeting"))
    _, rejection = reject(events, max_rounds=3)
    assert rejection.column == "Round"
    assert "maximum" in rejection.expected


@pytest.mark.parametrize("confirmed", [False, True], ids=["by the agent", "confirmed"])
@pytest.mark.parametrize(
    "late, says",
    [
        (ev(DISPUTED, 2, "Greeting"), "the review is resolved"),
        (ev(ACCEPTED, 2), "the review is resolved"),
        (ev(DISPUTE_ACCEPTED, 1, "Greeting"), "the review is resolved"),
        (ev(RE_EVALUATED, 1, score=90), "re-evaluation in the round of a dispute"),
        (ev(CLOSE, 1), "the review is resolved"),
        (ev(CLOSE, 2), "the review is resolved"),
    ],
    ids=lambda x: f"{x.action}-round{x.round}" if isinstance(x, ReviewEvent) else "",
)
def test_any_event_after_resolved_is_rejected(late, says, confirmed):
    events = log(audit(), ev(ACCEPTED, 1), *([ev(RESOLVE, 1)] if confirmed else []), late)
    state, rejection = reject(events)
    assert state.review_status == RESOLVED
    assert rejection.event == events[-1]
    assert rejection.column == "Action"
    assert says in rejection.expected


def test_an_answer_in_the_same_round_after_a_confirmed_resolve_is_rejected():
    _, rejection = reject(log(audit(), ev(ACCEPTED, 1), ev(RESOLVE, 1), ev(DISPUTED, 1, "Greeting")))
    assert rejection.column == "Action"
    assert "resolved" in rejection.expected


def test_a_dispute_after_a_whole_acceptance_in_the_same_round_still_counts():
    # The agent's answers for a round end only at the first event that is not one of them,
    # and then any dispute wins over acceptances.
    state = derive(log(audit(), ev(ACCEPTED, 1), ev(DISPUTED, 1, "Greeting")))
    assert state.review_status == PENDING_SUPERVISOR
    assert state.awaiting_response == ["Greeting"]


def test_a_second_resolved_confirmation_is_rejected():
    _, rejection = reject(log(audit(), ev(ACCEPTED, 1), ev(RESOLVE, 1), ev(RESOLVE, 1, actor="QA")))
    assert rejection.column == "Action"
    assert "resolved" in rejection.expected


def test_an_event_after_an_explicit_close_is_rejected():
    _, rejection = reject(log(audit(), ev(CLOSE, 1), ev(DISPUTED, 1, "Greeting")))
    assert rejection.column == "Action"
    assert "closed" in rejection.expected


def test_a_confirmation_past_the_maximum_round_is_rejected():
    events = log(audit(), *dispute_round(1, "Greeting"), ev(CLOSE, 2))
    state, rejection = reject(events, max_rounds=1)
    assert state.review_status == CLOSED
    assert rejection.column == "Round"
    assert "maximum" in rejection.expected


def test_a_confirmation_of_a_different_end_is_rejected():
    _, rejection = reject(log(audit(), *dispute_round(1, "Greeting"), ev(RESOLVE, 1)), max_rounds=1)
    assert rejection.column == "Action"
    assert "closed" in rejection.expected


@pytest.mark.parametrize(
    "action, actor",
    [
        (DISPUTE_ACCEPTED, "Agent"),
        (DISPUTE_DENIED, "System"),
        (DISPUTED, "QA"),
        (ACCEPTED, "Supervisor"),
        (AUDIT_SUBMITTED, "Agent"),
        (RE_EVALUATED, "Agent"),
        (RESOLVE, "Agent"),
        (CLOSE, "Agent"),
    ],
)
def test_the_wrong_actor_is_rejected(action, actor):
    events = log(audit(), ev(DISPUTED, 1, "Greeting"), ev(action, 1, "Greeting", actor=actor, score=50))
    _, rejection = reject(events)
    assert rejection.column == "Actor"
    assert rejection.value == actor
    assert action in rejection.expected
    for allowed in ACTORS_BY_ACTION[action]:
        assert allowed in rejection.expected


def test_an_unknown_action_is_rejected():
    _, rejection = reject(log(audit(), ev("Escalated", 1, actor="QA")))
    assert rejection.column == "Action"
    assert "Disputed" in rejection.expected


def test_a_timestamp_earlier_than_the_event_before_is_rejected():
    events = [
        ev(AUDIT_SUBMITTED, 0, score=50, at=at(0)),
        ev(DISPUTED, 1, "Greeting", at=at(3)),
        ev(DISPUTE_DENIED, 1, "Greeting", at=at(4)),
        ev(CLOSE, 2, at=at(2)),
    ]
    state, rejection = reject(events)
    assert rejection.column == "Timestamp"
    assert rejection.event == events[3]
    assert rejection.value == at(2)
    assert "not earlier" in rejection.expected
    assert "Dispute Denied" in rejection.expected and "round 1" in rejection.expected
    assert state.review_status == PENDING_AGENT


def test_within_a_round_events_are_taken_in_timestamp_order():
    # A response timestamped before its dispute is taken first, so there is nothing to answer yet.
    events = [
        ev(AUDIT_SUBMITTED, 0, score=50, at=at(0)),
        ev(DISPUTED, 1, "Greeting", at=at(3)),
        ev(DISPUTE_DENIED, 1, "Greeting", at=at(2)),
    ]
    _, rejection = reject(events)
    assert rejection.event == events[2]
    assert rejection.column == "Action"
    assert "dispute to answer" in rejection.expected


def test_a_later_round_with_an_earlier_timestamp_is_rejected():
    events = [
        ev(AUDIT_SUBMITTED, 0, score=50, at=at(0)),
        ev(DISPUTED, 1, "Greeting", at=at(1)),
        ev(DISPUTE_DENIED, 1, "Greeting", at=at(5)),
        ev(DISPUTED, 2, "Greeting", at=at(4)),
    ]
    _, rejection = reject(events)
    assert rejection.column == "Timestamp"
    assert rejection.event == events[3]


def test_resolved_while_disputes_await_a_response_is_rejected():
    events = log(
        audit(),
        ev(DISPUTED, 1, "Greeting"),
        ev(DISPUTED, 1, "Empathy"),
        ev(DISPUTE_ACCEPTED, 1, "Greeting"),
        ev(RESOLVE, 1, actor="Supervisor"),
    )
    state, rejection = reject(events)
    assert rejection.column == "Action"
    assert "Empathy" in rejection.expected and "await" in rejection.expected
    assert state.review_status == PENDING_SUPERVISOR


def test_the_agent_answering_in_the_wrong_round_is_rejected():
    _, rejection = reject(log(audit(), ev(DISPUTED, 2, "Greeting")))
    assert rejection.column == "Round"
    assert rejection.value == 2
    assert "1" in rejection.expected

    _, rejection = reject(log(audit(), *dispute_round(1, "Greeting"), ev(DISPUTED, 1, "Empathy")))
    assert rejection.column == "Round"
    assert rejection.expected.startswith("2")
    assert "1 completed dispute round" in rejection.expected


def test_the_agent_answering_while_a_response_is_due_is_rejected():
    events = log(audit(), ev(DISPUTED, 1, "Greeting"), ev(DISPUTE_DENIED, 1, "Greeting"),
                 ev(DISPUTED, 2, "Greeting"), ev(RE_EVALUATED, 2, score=50), ev(ACCEPTED, 2, "Empathy"))
    _, rejection = reject(events)
    assert rejection.column == "Action"
    assert "response" in rejection.expected


def test_a_re_evaluation_without_a_score_is_rejected():
    _, rejection = reject(log(audit(), ev(DISPUTED, 1, "Greeting"), ev(RE_EVALUATED, 1)))
    assert rejection.column == "Audit Score"


def test_a_second_re_evaluation_in_a_round_is_rejected():
    events = log(audit(), ev(DISPUTED, 1, "Greeting"), ev(RE_EVALUATED, 1, score=50),
                 ev(DISPUTE_ACCEPTED, 1, "Greeting"), ev(RE_EVALUATED, 1, score=60))
    _, rejection = reject(events)
    assert rejection.column == "Action"
    assert "one re-evaluation" in rejection.expected


@pytest.mark.parametrize(
    "events",
    [
        [audit(), ev(RE_EVALUATED, 1, score=50)],
        [audit(), ev(ACCEPTED, 1), ev(RE_EVALUATED, 1, score=50)],
        [audit(), *dispute_round(1, "Greeting"), ev(CLOSE, 1), ev(RE_EVALUATED, 1, score=50)],
        [audit(), *dispute_round(1, "Greeting"), ev(RE_EVALUATED, 2, score=50)],
    ],
    ids=["no dispute", "after resolved", "after explicit close", "next round"],
)
def test_a_re_evaluation_outside_a_dispute_is_rejected(events):
    _, rejection = reject(log(*events))
    assert rejection.column == "Action"
    assert "re-evaluation" in rejection.expected


def test_events_after_a_rejected_one_are_not_considered():
    events = log(audit(), ev(DISPUTED, 1, "Greeting", comment=None), ev(DISPUTED, 1, "Empathy"))
    state, rejection = reject(events)
    assert rejection.event == events[1]
    assert state.review_status == PENDING_AGENT
    assert state.disputed_metrics == []


# -- property tests --------------------------------------------------------------------------------

def expectations(events, max_rounds, initial):
    """What any valid log (in time order) says, read straight off its rows."""
    disputes, responses, answer_rounds = defaultdict(set), defaultdict(set), []
    history = []
    for e in events:
        if e.action == AUDIT_SUBMITTED:
            score = e.audit_score if e.audit_score is not None else initial
            if score is not None:
                history.append(score)
        elif e.action == RE_EVALUATED:
            history.append(e.audit_score)
        elif e.action in (ACCEPTED, DISPUTED):
            answer_rounds.append(e.round)
            if e.action == DISPUTED:
                disputes[e.round].add(e.metric)
        elif e.action in (DISPUTE_ACCEPTED, DISPUTE_DENIED):
            responses[e.round].add(e.metric)
    completed = {r for r, metrics in disputes.items() if metrics == responses[r]}
    explicit_closed = any(e.action == CLOSE for e in events)
    last_round = max(answer_rounds, default=None)
    awaiting = disputes[last_round] - responses[last_round] if last_round else set()
    if explicit_closed or max_rounds in completed:
        status = CLOSED
    elif any(e.action == RESOLVE for e in events) or (last_round and not disputes[last_round]):
        status = RESOLVED
    elif awaiting:
        status = PENDING_SUPERVISOR
    else:
        status = PENDING_AGENT
    return {
        "status": status,
        "rounds": len(completed),
        "closed": explicit_closed or max_rounds in completed,
        "disputed": {e.metric for e in events if e.action == DISPUTED},
        "awaiting": awaiting if status == PENDING_SUPERVISOR else set(),
        "history": history,
    }


def check_valid(events, max_rounds, initial):
    """Every property a valid log must have; returns the state."""
    state, rejection = derive_review(events, max_rounds, initial)
    assert rejection is None, rejection
    if not events:
        assert state is None
        return None
    want = expectations(events, max_rounds, initial)
    assert state.review_status in REVIEW_STATUSES
    assert state.review_status == want["status"]
    assert state.dispute_rounds == want["rounds"]
    assert 0 <= state.dispute_rounds <= max_rounds
    assert (state.review_status == CLOSED) == want["closed"]
    assert set(state.disputed_metrics) == want["disputed"]
    assert len(state.disputed_metrics) == len(set(state.disputed_metrics))
    assert state.audit_score_history == want["history"]
    assert state.final_audit_score == (want["history"][-1] if want["history"] else None)
    assert (state.review_status == PENDING_SUPERVISOR) == bool(state.awaiting_response)
    assert set(state.awaiting_response) == want["awaiting"]
    assert state.audited_at == events[0].timestamp
    assert state.audited_at <= state.status_since <= events[-1].timestamp
    assert (state.completed_at is not None) == (state.review_status in (RESOLVED, CLOSED))
    if state.completed_at is not None:
        assert state.completed_at == state.status_since
    return state


SETTINGS = settings(max_examples=200, deadline=None)


@SETTINGS
@given(walks())
def test_valid_logs_are_accepted_and_consistent(walk):
    state = check_valid(walk.events, walk.max_rounds, walk.initial)
    assert state.review_status == walk.status
    assert state.dispute_rounds == walk.rounds


@SETTINGS
@given(walks())
def test_every_prefix_of_a_valid_log_is_accepted(walk):
    for n in range(len(walk.events) + 1):
        check_valid(walk.events[:n], walk.max_rounds, walk.initial)


@SETTINGS
@given(walks(), st.data())
def test_the_order_events_are_passed_in_does_not_matter(walk, data):
    expected = derive_review(walk.events, walk.max_rounds, walk.initial)
    shuffled = data.draw(st.permutations(walk.events))
    assert derive_review(shuffled, walk.max_rounds, walk.initial) == expected


@SETTINGS
@given(walks(), st.data())
def test_a_dispute_past_the_maximum_round_is_always_rejected(walk, data):
    events = walk.events[: data.draw(st.integers(0, len(walk.events)))]
    seconds = data.draw(st.integers(-86_400, 400 * 86_400))
    extra = ReviewEvent(CID, data.draw(st.sampled_from(METRICS)), walk.max_rounds + 1, "Agent", DISPUTED,
                        "one more time", T0 + timedelta(seconds=seconds))
    before, _ = derive_review(events, walk.max_rounds, walk.initial)
    state, rejection = derive_review(events + [extra], walk.max_rounds, walk.initial)
    assert rejection is not None
    assert rejection.event == extra
    assert state == before
    in_order = not events or extra.timestamp >= events[-1].timestamp
    if before is not None and in_order and before.review_status != PENDING_SUPERVISOR:
        assert rejection.column == "Round"
        assert f"at most {walk.max_rounds}" in rejection.expected


@settings(max_examples=100, deadline=None)
@given(walks(), st.data())
def test_any_event_past_the_maximum_round_is_rejected(walk, data):
    events = walk.events[: data.draw(st.integers(0, len(walk.events)))]
    action = data.draw(st.sampled_from([a for a in ACTORS_BY_ACTION if a != AUDIT_SUBMITTED]))
    extra = ReviewEvent(
        CID,
        data.draw(st.none() | st.sampled_from(METRICS)),
        walk.max_rounds + data.draw(st.integers(1, 3)),
        data.draw(st.sampled_from(ACTORS_BY_ACTION[action])),
        action,
        "a comment",
        T0 + timedelta(seconds=data.draw(st.integers(-86_400, 400 * 86_400))),
        data.draw(SCORES),
    )
    before, _ = derive_review(events, walk.max_rounds, walk.initial)
    state, rejection = derive_review(events + [extra], walk.max_rounds, walk.initial)
    assert rejection is not None
    assert rejection.event == extra
    assert state == before
