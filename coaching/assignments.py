"""Coaching assignments as a viewer may see them: the list and one session's detail.

An agent sees their own assignments, each exactly like an individual one (no group name, no other
members); a lead sees their team's; QA and admins everyone's. Scope is applied in SQL here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from coaching.access import AGENT, Viewer, agent_filter
from coaching.evaluations import ANOTHER_AGENT


def assignment_list(con: duckdb.DuckDBPyConnection, viewer: Viewer) -> pd.DataFrame:
    """Every coaching assignment in the viewer's scope, newest first.

    Columns: assignment_id, agent, name, coaching_areas, assigned_date, follow_up_date, status, and for
    viewers other than agents also coaching_type and group_name.
    """
    condition, params = agent_filter(viewer, "a.agent")
    group_columns = "" if viewer.role == AGENT else ", a.coaching_type, a.group_name"
    return con.execute(
        f"SELECT a.assignment_id, a.agent, a.name, a.coaching_areas, a.assigned_date, a.follow_up_date, "
        f"a.status{group_columns} FROM assignments a WHERE {condition} "
        f"ORDER BY a.assigned_date DESC, a.assignment_id, a.agent",
        params,
    ).df()


@dataclass(frozen=True)
class AssignmentDetail:
    """One coaching session as the viewer may see it."""

    assignment_id: str
    agent: str
    name: str
    coaching_type: str | None  # None for agents: a group assignment looks individual to them
    group_name: str | None
    coaching_areas: list[str]
    assigned_date: date
    follow_up_date: date | None
    status: str
    assigned_by: str | None
    feedback: str | None
    action_plan: str | None


def assignment_detail(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, assignment_id: str, agent: str | None = None
) -> AssignmentDetail | None:
    """The session ``assignment_id`` (for ``agent``, when a lead picks one member of a group), or
    None when it does not exist *or* is outside the viewer's scope: both are "not found"."""
    condition, params = agent_filter(viewer, "a.agent")
    agent_condition = "" if agent is None else " AND a.agent = ?"
    row = con.execute(
        f"SELECT a.assignment_id, a.agent, a.name, a.coaching_type, a.group_name, a.coaching_areas, "
        f"a.assigned_date, a.follow_up_date, a.status, a.assigned_by, a.feedback, a.action_plan "
        f"FROM assignments a WHERE a.assignment_id = ? AND {condition}{agent_condition} "
        f"ORDER BY a.agent LIMIT 1",
        [assignment_id, *params, *([] if agent is None else [agent])],
    ).fetchone()
    if row is None:
        return None
    detail = AssignmentDetail(*row[:5], list(row[5] or []), *row[6:])
    if viewer.role == AGENT:
        return AssignmentDetail(
            **{**detail.__dict__, "coaching_type": None, "group_name": None}
        )
    return detail


def marked_interactions(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, assignment_id: str, agent: str
) -> pd.DataFrame:
    """The interactions marked for coaching in one session, limited to the session's agent's own
    (a group session marks several members' interactions; each member sees only theirs)."""
    if assignment_detail(con, viewer, assignment_id, agent) is None:
        return pd.DataFrame()
    condition, params = agent_filter(viewer, "e.scored_agent")
    return con.execute(
        f"""SELECT c.conversation_id, c.date, c.coaching_area, e.scored_agent AS agent, e.queues,
                   e.topics, e.intent, e.kore_score, coalesce(r.final_audit_score, e.audit_score)
                   AS audit_score, e.sentiment_score, e.duration_status, e.start_time
            FROM coaching_interactions c JOIN evaluations e USING (conversation_id)
            LEFT JOIN evaluation_reviews r USING (conversation_id)
            WHERE c.assignment_id = ? AND e.scored_agent = ? AND {condition}
            ORDER BY c.date, e.start_time""",
        [assignment_id, agent, *params],
    ).df()


def best_response_examples(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, assignment_id: str, agent: str
) -> pd.DataFrame:
    """The session's best response examples: reference interactions chosen by the supervisor.

    An example by another agent is shared deliberately, but without that agent's name.
    """
    if assignment_detail(con, viewer, assignment_id, agent) is None:
        return pd.DataFrame()
    condition, params = agent_filter(viewer, "e.scored_agent")
    return con.execute(
        f"""SELECT b.conversation_id, b.note, e.start_time, e.queues, e.topics, e.intent, e.kore_score,
                   e.sentiment_score, CASE WHEN {condition} THEN e.scored_agent ELSE ? END AS agent
            FROM best_responses b JOIN evaluations e USING (conversation_id)
            WHERE b.assignment_id = ?
            ORDER BY e.start_time""",
        [*params, ANOTHER_AGENT, assignment_id],
    ).df()


#: The status an agent sees for each stored status (Kore shows agents "Start Coaching").
AGENT_STATUS = {"Yet to Start": "Start Coaching", "In Progress": "In Progress", "Completed": "Completed"}


def status_for(viewer: Viewer, status: str) -> str:
    """A session's status in the words the viewer's role sees."""
    return AGENT_STATUS.get(status, status) if viewer.role == AGENT else status
