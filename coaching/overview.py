"""The start page's figures: what the viewer's part of the store holds (:func:`store_overview`, a lead's
overview), and for an agent what needs them today (:func:`agent_today`).

An agent's day, from the rules that decide each thing elsewhere:

* **reviews waiting on them**: their evaluations in Pending Agent Review (the Review page's Pending Review
  tab, :func:`coaching.review_tabs.review_tab`), oldest first, each with the business days it has waited
  and whether that is past the service level (:func:`coaching.review_tabs.with_aging`, in
  :func:`oldest_first`); and how many wait on the reviewer instead;
* **follow-ups**: their sessions marked Overdue, Due today or Due in N days
  (:data:`coaching.assignments.FOLLOW_UP_SQL`), earliest first;
* **the latest coaching**: their newest session as the Coaching Assignments page shows it;
* **their scores** over the last :data:`SCORE_DAYS` days against the days before, the pass score and
  their team's: :func:`coaching.trends.own_headline`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pandas as pd

from coaching.access import Viewer
from coaching.assignments import AssignmentDetail, assignment_detail, assignment_list
from coaching.review_machine import OPEN_STATUSES, PENDING_AGENT, PENDING_SUPERVISOR
from coaching.review_tabs import PENDING_TAB, review_tab, with_aging
from coaching.sql import in_list, scalar, scope

#: The agent's scores on the start page: the last 30 days (against the 30 before).
SCORE_DAYS = 30
#: What an agent does about a review waiting on them: answer the audit, or the reviewer's answer.
ANSWER_AUDIT, ANSWER_REVIEWER = "Accept or dispute the audit", "Accept the answer or dispute again"


@dataclass(frozen=True)
class StoreOverview:
    evaluations: int
    audited: int
    agents: int
    assignments: int
    pending_reviews: int
    first_interaction: datetime | None
    last_interaction: datetime | None
    last_import_at: datetime | None
    last_import_files: int

    @property
    def is_empty(self) -> bool:
        return self.evaluations == 0 and self.assignments == 0


def store_overview(con: duckdb.DuckDBPyConnection, viewer: Viewer) -> StoreOverview:
    """Counts over the viewer's scope only (an agent's are their own)."""
    on_evaluations, params = scope(viewer, "e.person_id")
    on_assignments, _ = scope(viewer, "a.person_id")  # the same parameters
    evaluations, audited, agents, first, last = con.execute(
        "SELECT count(*), count(e.audit_score), count(DISTINCT e.person_id), min(e.start_time), "
        f"max(e.start_time) FROM evaluations e WHERE {on_evaluations}",
        params,
    ).fetchone() or (0, 0, 0, None, None)
    assignments = scalar(con, f"SELECT count(*) FROM assignments a WHERE {on_assignments}", params)
    pending = scalar(
        con,
        "SELECT count(*) FROM evaluation_reviews r JOIN evaluations e USING (conversation_id) "
        f"WHERE {in_list('r.review_status', OPEN_STATUSES)} AND {on_evaluations}",
        params,
    )
    last_import = con.execute(
        "SELECT imported_at, summary FROM imports ORDER BY import_id DESC LIMIT 1"
    ).fetchone()
    files = len(json.loads(last_import[1])["files"]) if last_import else 0
    return StoreOverview(
        evaluations=evaluations,
        audited=audited,
        agents=agents,
        assignments=assignments,
        pending_reviews=pending,
        first_interaction=first,
        last_interaction=last,
        last_import_at=last_import[0] if last_import else None,
        last_import_files=files,
    )


@dataclass(frozen=True)
class AgentToday:
    """What needs an agent today (the scores are :func:`coaching.trends.own_headline`'s)."""

    #: Their evaluations waiting on them (Pending Agent Review): the Review page's Pending Review rows
    #: (:func:`coaching.review_tabs.review_tab`'s columns), to age with :func:`oldest_first`.
    waiting: pd.DataFrame
    #: How many of their evaluations wait on the reviewer (Pending Supervisor Review).
    waiting_on_reviewer: int
    #: Their sessions with a follow-up marker (Overdue, Due today, Due in N days), earliest follow-up first:
    #: :func:`coaching.assignments.assignment_list`'s columns.
    follow_ups: pd.DataFrame
    #: Their newest session (the latest assigned, as of the day asked about), or None.
    latest: AssignmentDetail | None
    #: Its status as they see it (with a linked evaluation's pending review), or None.
    latest_status: str | None


def agent_today(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, today: date, accept_dispute: bool = True
) -> AgentToday:
    """What needs the viewer today, over their scope (an agent's own), on the day ``today``: their reviews
    waiting on them and on the reviewer, their follow-ups, and their latest coaching session."""
    pending = review_tab(con, viewer, PENDING_TAB)
    sessions = assignment_list(con, viewer, today=today, accept_dispute=accept_dispute,
                               order="Earliest follow-up")
    follow_ups = sessions[sessions["follow_up"].notna()]
    started = sessions[pd.to_datetime(sessions["assigned_date"]).dt.date <= today]
    latest = latest_status = None
    if not started.empty:
        newest = started.sort_values(["assigned_date", "assignment_id"], ascending=[False, True],
                                     kind="stable").iloc[0]
        latest = assignment_detail(con, viewer, newest["assignment_id"], newest["person_id"], today)
        latest_status = str(newest["status"])
    return AgentToday(
        waiting=pending[pending["review_status"] == PENDING_AGENT].reset_index(drop=True),
        waiting_on_reviewer=int((pending["review_status"] == PENDING_SUPERVISOR).sum()),
        follow_ups=follow_ups.reset_index(drop=True),
        latest=latest,
        latest_status=latest_status,
    )


def oldest_first(waiting: pd.DataFrame, now: datetime, service_level_days: float) -> pd.DataFrame:
    """Reviews waiting (:attr:`AgentToday.waiting`) as of ``now``, the longest waiting first: with the Review
    page's ``waiting_days`` and ``past_service_level`` (:func:`coaching.review_tabs.with_aging`) and ``to_do``
    (:func:`to_do`)."""
    aged = with_aging(waiting, now, service_level_days)
    aged = aged.assign(to_do=[to_do(rounds) for rounds in aged["dispute_rounds"]])
    return aged.sort_values(["status_since", "conversation_id"], na_position="last", kind="stable").reset_index(
        drop=True)


def to_do(dispute_rounds: int | None) -> str:
    """What an agent does about an evaluation waiting on them: answer the audit (no dispute round completed
    yet), or the reviewer's answer to their dispute."""
    return ANSWER_REVIEWER if dispute_rounds is not None and not pd.isna(dispute_rounds) and dispute_rounds > 0 \
        else ANSWER_AUDIT
