"""Replaying review logs: each affected evaluation's events, stored and new, run through the review state
machine (:mod:`coaching.review_machine`), whose verdicts replace the stored review states.

An event the machine rejects is a problem: on its line when the run brought it, else on "the store"
(a stored event that no longer fits: the run's events, or a new maximum of dispute rounds, conflict).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import duckdb
import pyarrow as pa

from coaching import review_machine, store
from coaching.importer.problems import Problem, Problems
from coaching.importer.progress import Progress
from coaching.importer.references import label

#: The state machine's column names (as rejections name them) and the review events' fields.
_REVIEW_FIELDS = {
    "Action": "action",
    "Round": "round",
    "Metric": "metric",
    "Actor": "actor",
    "Comment": "comment",
    "Timestamp": "timestamp",
    "Audit Score": "audit_score",
}


def replay_reviews(
    con: duckdb.DuckDBPyConnection, problems: Problems, max_dispute_rounds: int, progress: Progress
) -> None:
    """Replay the review logs the run touches (every log, when the maximum of dispute rounds changed) and
    store the resulting review states; raises :class:`ImportFailed` when the machine rejects an event."""
    previous_rounds = store.meta(con, "max_dispute_rounds")
    everything = previous_rounds != str(max_dispute_rounds)
    logs, initial = _review_logs(con, everything)
    states: list[tuple[str, review_machine.ReviewState]] = []
    for cid, events in logs.items():
        state, rejection = review_machine.derive_review(events, max_dispute_rounds, initial[cid])
        if rejection is not None:
            _report(problems, cid, rejection, everything, max_dispute_rounds, previous_rounds)
        elif state is not None:
            states.append((cid, state))
    progress.report("Replaying review events", 0.03)
    problems.fail_if_any()
    _store_states(con, states)
    store.set_meta(con, "max_dispute_rounds", str(max_dispute_rounds))


def _review_logs(
    con: duckdb.DuckDBPyConnection, everything: bool
) -> tuple[dict[str, list[review_machine.ReviewEvent]], dict[str, float | None]]:
    """``affected``: the evaluations whose logs are replayed; their events in order (each tied to its row
    of the run, if any) and their exported audit scores."""
    if everything:
        affected = "SELECT DISTINCT conversation_id FROM review_events"
    else:
        affected = (
            "SELECT conversation_id FROM stage_review_events UNION "
            "SELECT conversation_id FROM stage_evaluations WHERE conversation_id IN "
            "(SELECT conversation_id FROM review_events)"
        )
    con.execute(f"CREATE OR REPLACE TEMP TABLE affected AS {affected}")
    rows = con.execute(
        "SELECT e.conversation_id, e.metric, e.round, e.actor, e.action, e.comment, e.timestamp, "
        "e.audit_score, v.audit_score, s.src, s.ordinal FROM review_events e "
        "JOIN affected USING (conversation_id) "
        "LEFT JOIN evaluations v USING (conversation_id) "
        "LEFT JOIN stage_review_events s ON s.conversation_id = e.conversation_id "
        "AND s.metric IS NOT DISTINCT FROM e.metric AND s.round = e.round AND s.action = e.action "
        "ORDER BY e.conversation_id"
    ).fetchall()
    logs: dict[str, list[review_machine.ReviewEvent]] = defaultdict(list)
    initial: dict[str, float | None] = {}
    for cid, metric, rnd, actor, action, comment, ts, score, exported, src, ordinal in rows:
        logs[cid].append(
            review_machine.ReviewEvent(cid, metric, rnd, actor, action, comment, ts, score, (src, ordinal))
        )
        initial[cid] = exported
    return logs, initial


def _report(
    problems: Problems,
    cid: str,
    rejection: review_machine.Rejection,
    everything: bool,
    max_dispute_rounds: int,
    previous_rounds: str | None,
) -> None:
    """A rejected event: on its line when the run brought it, else on the store, saying why it conflicts."""
    src, ordinal = rejection.event.source
    value = rejection.value
    if isinstance(value, datetime):
        value = value.isoformat(sep=" ")
    if src is None:
        if everything and previous_rounds is not None:
            cause = (
                f"the maximum of dispute rounds is now {max_dispute_rounds} "
                f"(it was {previous_rounds}), and this event of {cid} in the store does not fit it"
            )
        else:
            cause = f"an event of {cid} already in the store conflicts with this import's events for it"
        problems.add(
            Problem(
                "the store",
                None,
                rejection.column,
                None if value is None else str(value),
                f"{rejection.expected}: {cause}",
            )
        )
    else:
        column = label(problems.files[src], _REVIEW_FIELDS.get(rejection.column, "action"))
        problems.add_row(src, ordinal, column, value, rejection.expected)


def _store_states(con: duckdb.DuckDBPyConnection, states: list[tuple[str, review_machine.ReviewState]]) -> None:
    """The replayed evaluations' review states replace their stored ones."""
    con.execute("DELETE FROM evaluation_reviews WHERE conversation_id IN (SELECT conversation_id FROM affected)")
    if not states:
        return
    table = pa.table(
        {
            "conversation_id": [c for c, _ in states],
            "review_status": [s.review_status for _, s in states],
            "dispute_rounds": pa.array([s.dispute_rounds for _, s in states], pa.int32()),
            "disputed_metrics": pa.array([s.disputed_metrics for _, s in states], pa.list_(pa.string())),
            "awaiting_response": pa.array([s.awaiting_response for _, s in states], pa.list_(pa.string())),
            "audit_score_history": pa.array([s.audit_score_history for _, s in states], pa.list_(pa.float64())),
            "final_audit_score": pa.array([s.final_audit_score for _, s in states], pa.float64()),
            "audited_at": pa.array([s.audited_at for _, s in states], pa.timestamp("us")),
            "status_since": pa.array([s.status_since for _, s in states], pa.timestamp("us")),
            "completed_at": pa.array([s.completed_at for _, s in states], pa.timestamp("us")),
        }
    )
    con.register("derived_reviews", table)
    con.execute("INSERT INTO evaluation_reviews SELECT * FROM derived_reviews")
    con.unregister("derived_reviews")
