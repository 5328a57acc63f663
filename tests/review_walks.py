"""Random valid review logs for property tests: a walk through the Accept & Dispute workflow in which
every step is one the rules of coaching/review_machine.py allow, with the outcome the walk itself predicts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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
    ReviewEvent,
)

CID = "c-0001"
T0 = datetime(2026, 7, 29, 10, 0)
METRICS = ("Greeting", "Empathy - Tone", "Hold Etiquette", "Resolution")
SCORES = st.floats(min_value=-100, max_value=100, allow_nan=False)


@dataclass
class Walk:
    """A valid log (in time order) and what the walk that made it says the outcome is."""

    events: list[ReviewEvent]
    max_rounds: int
    initial: float | None
    status: str
    rounds: int


@st.composite
def walks(draw):
    """A random walk through the workflow; every step is one the rules allow."""
    max_rounds = draw(st.integers(1, 5))
    initial = draw(st.none() | SCORES)
    events: list[ReviewEvent] = []
    clock = [T0]

    def add(action, rnd, metric=None, comment=None, score=None):
        clock[0] += timedelta(seconds=draw(st.integers(1, 3 * 86_400)))
        actor = draw(st.sampled_from(ACTORS_BY_ACTION[action]))
        events.append(ReviewEvent(CID, metric, rnd, actor, action, comment, clock[0], score))

    add(AUDIT_SUBMITTED, 0, score=draw(st.none() | SCORES))
    status, rounds = PENDING_AGENT, 0
    for rnd in range(1, max_rounds + 1):
        move = draw(st.sampled_from(["dispute"] * 6 + ["accept", "stop", "resolve", "close"]))
        if move == "stop":
            break
        if move in ("resolve", "close"):
            end_round = draw(st.sampled_from(sorted({max(rnd - 1, 1), rnd})))  # completed or next round
            add(RESOLVE if move == "resolve" else CLOSE, end_round)
            status = RESOLVED if move == "resolve" else CLOSED
            break
        if move == "accept":
            if draw(st.booleans()):
                add(ACCEPTED, rnd)  # the whole evaluation
            else:
                for metric in draw(st.lists(st.sampled_from(METRICS), min_size=1, unique=True)):
                    add(ACCEPTED, rnd, metric)
            status = RESOLVED
            if draw(st.booleans()):
                add(RESOLVE, draw(st.integers(rnd, max_rounds)))
            break
        disputed = draw(st.lists(st.sampled_from(METRICS), min_size=1, unique=True))
        others = [m for m in METRICS if m not in disputed]
        accepted = draw(st.lists(st.sampled_from(others), unique=True)) if others else []
        answers = [(DISPUTED, m) for m in disputed] + [(ACCEPTED, m) for m in accepted]
        for action, metric in draw(st.permutations(answers)):
            add(action, rnd, metric, comment=f"reason {rnd}" if action == DISPUTED else None)
        status = PENDING_SUPERVISOR
        responses = draw(st.permutations(disputed))
        # Mostly every dispute gets its answer, so that walks reach later rounds and the maximum.
        partial = draw(st.integers(0, 3)) == 3  # (hypothesis leans towards small integers)
        answered = draw(st.integers(0, len(disputed))) if partial else len(disputed)
        re_evaluate_after = draw(st.none() | st.integers(0, answered))
        for i in range(answered + 1):
            if i == re_evaluate_after:
                add(RE_EVALUATED, rnd, draw(st.none() | st.sampled_from(disputed)), score=draw(SCORES))
            if i < answered:
                add(draw(st.sampled_from([DISPUTE_ACCEPTED, DISPUTE_DENIED])), rnd, responses[i])
        if answered < len(disputed):
            if draw(st.booleans()):
                add(CLOSE, rnd)
                status = CLOSED
            break
        rounds = rnd
        if rnd == max_rounds:
            status = CLOSED
            if draw(st.booleans()):
                add(CLOSE, rnd)
            break
        status = PENDING_AGENT
    return Walk(events, max_rounds, initial, status, rounds)
