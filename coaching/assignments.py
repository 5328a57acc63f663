"""Coaching assignments as a viewer may see them: the list and one session's detail.

An agent sees their own assignments, each exactly like an individual one (no group name, no other
members); a lead sees their team's; QA and admins everyone's. Scope is applied in SQL here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import duckdb
import pandas as pd

from coaching import people, scores
from coaching.access import AGENT, Viewer
from coaching.audit import ANOTHER_AGENT
from coaching.review_machine import OPEN_STATUSES, PENDING_AGENT, PENDING_SUPERVISOR
from coaching.review_tabs import STATUS_MARKERS as REVIEW_STATUS_MARKERS
from coaching.review_tabs import StatusMarker
from coaching.settings import DEFAULT_PASS_SCORE
from coaching.sql import Params, Where, in_list, scalar, scope, sql_str

#: An assignment's stored statuses (Kore's).
YET_TO_START, IN_PROGRESS, COMPLETED = "Yet to Start", "In Progress", "Completed"
#: The status an agent sees for each stored status (Kore shows agents "Start Coaching").
AGENT_STATUS = {YET_TO_START: "Start Coaching", IN_PROGRESS: "In Progress", COMPLETED: "Completed"}


#: Each session status's look (in either role's words): a state in colour with an icon, never a tag that
#: reads like a button. Pending Agent / Supervisor Review look as the review statuses do.
STATUS_MARKERS = {
    YET_TO_START: StatusMarker("gray", ":material/radio_button_unchecked:",
                               "Not started yet: the session is assigned and waits to begin"),
    AGENT_STATUS[YET_TO_START]: StatusMarker("gray", ":material/radio_button_unchecked:",
                                             "Not started yet: the session is assigned and waits to begin"),
    IN_PROGRESS: StatusMarker("blue", ":material/clock_loader_40:", "The coaching has started"),
    COMPLETED: StatusMarker("green", ":material/check_circle:", "The coaching is done"),
    PENDING_AGENT: replace(REVIEW_STATUS_MARKERS[PENDING_AGENT],
                           meaning="An evaluation of this session waits for the agent's review"),
    PENDING_SUPERVISOR: replace(REVIEW_STATUS_MARKERS[PENDING_SUPERVISOR],
                                meaning="An evaluation of this session waits for a reviewer's answer"),
}
#: A status no rule knows (an export's own word): shown plainly.
UNKNOWN_STATUS = StatusMarker("gray", ":material/help:", "")


def status_marker(status: str) -> StatusMarker:
    """How a session's status (in either role's words) is shown, or a linked evaluation's review status
    (a session lists those too)."""
    return STATUS_MARKERS.get(status) or REVIEW_STATUS_MARKERS.get(status) or UNKNOWN_STATUS


#: Coaching areas shown as tags in a list before the rest collapse into one "+N" tag.
SHOWN_AREAS = 3
#: Sessions a list shows per page.
LIST_PAGE_SIZE = 25
#: A follow-up this many days away (or fewer) is "due soon".
DUE_SOON_DAYS = 7
#: Follow-up markers of a session not completed (besides "Due in N days").
OVERDUE, DUE_TODAY = "Overdue", "Due today"

#: SQL: the follow-up marker of an assignment ``a`` on the day ``$today``: Overdue (the follow-up date
#: has passed), Due today, Due in N days (within :data:`DUE_SOON_DAYS`), or NULL (later, none, or the
#: session is completed). The one rule for overdue: the list, its count and a session use it.
FOLLOW_UP_SQL = f"""CASE WHEN a.status = {sql_str(COMPLETED)} OR a.follow_up_date IS NULL THEN NULL
        WHEN a.follow_up_date < $today::DATE THEN {sql_str(OVERDUE)}
        WHEN a.follow_up_date = $today::DATE THEN {sql_str(DUE_TODAY)}
        WHEN a.follow_up_date <= $today::DATE + {DUE_SOON_DAYS}
            THEN 'Due in ' || (a.follow_up_date - $today::DATE)
                 || CASE WHEN a.follow_up_date - $today::DATE = 1 THEN ' day' ELSE ' days' END
    END"""

#: The orders a list can be sorted in, by the words a viewer chooses them by; the first is the default.
#: Ties fall back to the newest assignment first, so every order is total and stable.
LIST_ORDERS = {
    "Newest assigned": "assigned_date DESC",
    "Oldest assigned": "assigned_date",
    "Earliest follow-up": "follow_up_date NULLS LAST",
    "Name (A to Z)": "lower(name), name",
}


@dataclass(frozen=True)
class AssignmentFilters:
    """What the list is narrowed to. Statuses are in the viewer's words (see :func:`status_for`); agents
    are who they are (``person_id``), and only ever narrow the viewer's scope."""

    statuses: tuple[str, ...] = ()
    coaching_areas: tuple[str, ...] = ()
    assigned_from: date | None = None
    assigned_to: date | None = None
    agents: tuple[str, ...] = ()


def area_tags(areas: list[str], shown: int = SHOWN_AREAS) -> list[str]:
    """The tags a list shows for ``areas``: the first ``shown``, then "+N" for the rest."""
    if len(areas) <= shown:
        return list(areas)
    return [*areas[:shown], f"+{len(areas) - shown}"]


#: Sessions with a linked evaluation waiting on a review, per (assignment, person): joined as ``w``.
_WAITS_JOIN = f"""LEFT JOIN (
        SELECT c.assignment_id, e.person_id,
               bool_or(r.review_status = {sql_str(PENDING_AGENT)}) AS agent_waits,
               bool_or(r.review_status = {sql_str(PENDING_SUPERVISOR)}) AS supervisor_waits
        FROM evaluation_reviews r JOIN coaching_interactions c USING (conversation_id)
        JOIN evaluations e USING (conversation_id)
        WHERE {in_list("r.review_status", OPEN_STATUSES)}
        GROUP BY ALL) w ON w.assignment_id = a.assignment_id AND w.person_id = a.person_id"""


def _session_status_sql(viewer: Viewer, accept_dispute: bool) -> tuple[str, str]:
    """SQL for a session's status as the viewer sees it (``a`` is the assignment row): the join it needs
    after ``FROM assignments a``, and the expression.

    With Accept & Dispute on, a session waiting on a linked evaluation's review shows that wait,
    the agent's first: Pending Agent Review, else Pending Supervisor Review.
    """
    agent_words = " ".join(
        f"WHEN {sql_str(saved)} THEN {sql_str(shown)}" for saved, shown in AGENT_STATUS.items()
    )
    stored = f"CASE a.status {agent_words} ELSE a.status END" if viewer.role == AGENT else "a.status"
    if not accept_dispute:
        return "", stored
    return _WAITS_JOIN, f"""CASE WHEN w.agent_waits THEN {sql_str(PENDING_AGENT)}
        WHEN w.supervisor_waits THEN {sql_str(PENDING_SUPERVISOR)} ELSE {stored} END"""


def _listed_sql(
    viewer: Viewer, filters: AssignmentFilters, today: date | None, accept_dispute: bool, order: str
) -> tuple[str, str, Params]:
    """The list's rows (``SELECT … WHERE …``, unordered) and its ORDER BY, with their parameters."""
    if order not in LIST_ORDERS:
        raise ValueError(f"unknown order {order!r}; expected one of {', '.join(LIST_ORDERS)}")
    in_scope = Where().scope(viewer, "a.person_id")
    # The filters apply to the rows as the viewer sees them (a status in the viewer's words).
    wanted = (
        Where()
        .one_of("status", "statuses", filters.statuses)
        .any_of("coaching_areas", "areas", filters.coaching_areas)
        .on_or_after("assigned_date", "assigned_from", filters.assigned_from)
        .on_or_before("assigned_date", "assigned_to", filters.assigned_to)
        .one_of("person_id", "agents", filters.agents)
    )
    group_columns = "" if viewer.role == AGENT else ", a.coaching_type, a.group_name"
    waits, status = _session_status_sql(viewer, accept_dispute)
    sql = f"""SELECT * FROM (
                SELECT a.assignment_id, a.agent, a.person_id, a.name, a.coaching_areas, a.assigned_date,
                       a.follow_up_date,
                       {status} AS status, {FOLLOW_UP_SQL} AS follow_up{group_columns}
                FROM assignments a {waits} WHERE {in_scope.sql})
            WHERE {wanted.sql}"""
    order_by = f"ORDER BY {LIST_ORDERS[order]}, assigned_date DESC, assignment_id, person_id"
    return sql, order_by, {**in_scope.params, **wanted.params, "today": today or date.today()}


_TEXT_COLUMNS = (
    "assignment_id", "agent", "person_id", "name", "status", "follow_up", "coaching_type", "group_name",
)


def _with_area_tags(frame: pd.DataFrame) -> pd.DataFrame:
    """The list's frame: area tags added, and text columns typed as text even when all empty (as they
    can be on one page)."""
    frame.insert(list(frame.columns).index("coaching_areas") + 1, "area_tags",
                 [area_tags(list(areas)) for areas in frame["coaching_areas"]])
    return frame.astype({c: "str" for c in _TEXT_COLUMNS if c in frame.columns})


def assignment_list(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer,
    filters: AssignmentFilters = AssignmentFilters(),
    today: date | None = None,
    accept_dispute: bool = True,
    order: str = next(iter(LIST_ORDERS)),
) -> pd.DataFrame:
    """The coaching assignments in the viewer's scope that pass ``filters``, in ``order`` (one of
    :data:`LIST_ORDERS`; newest first by default). A page shows one :func:`assignment_page` of them.

    Columns: assignment_id, agent, name, coaching_areas (all), area_tags (for a list), assigned_date,
    follow_up_date, status (in the viewer's words), follow_up ("Overdue", "Due in N days", "Due today"
    or None; only for sessions not completed), and for viewers other than agents coaching_type and
    group_name.
    """
    sql, order_by, params = _listed_sql(viewer, filters, today, accept_dispute, order)
    return _with_area_tags(con.execute(f"{sql} {order_by}", params).df())


@dataclass(frozen=True)
class ListChoices:
    """What the viewer's list can be narrowed to, whatever is chosen now."""

    sessions: int  # every session in the viewer's scope
    statuses: list[str]  # the statuses they are in (the viewer's words), A to Z
    coaching_areas: list[str]  # every coaching area they name, A to Z
    #: For a lead, QA or admin: every agent in their scope (person_id -> label, by label), sessions or
    #: not, so that a link to any of them can narrow the list; empty for an agent.
    agents: dict[str, str] = field(default_factory=dict)


def list_choices(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, today: date | None = None, accept_dispute: bool = True
) -> ListChoices:
    """How many sessions the viewer has, and the statuses, coaching areas and (for a lead) agents to filter
    them by."""
    sql, _, params = _listed_sql(viewer, AssignmentFilters(), today, accept_dispute, next(iter(LIST_ORDERS)))
    sessions, statuses, areas = con.execute(
        f"""SELECT count(*), list_sort(list_distinct(list(status))),
                   list_sort(list_distinct(flatten(list(coaching_areas))))
            FROM ({sql})""",
        params,
    ).fetchone() or (0, None, None)  # an aggregate: always one row
    agents: dict[str, str] = {}
    if viewer.role != AGENT:
        listed = people.agents_in_scope(con, viewer)
        agents = dict(zip(listed["person_id"], listed["label"], strict=True))
    return ListChoices(sessions, statuses or [], areas or [], agents)


@dataclass(frozen=True)
class AssignmentPage:
    """One page of the list: its rows, which page it is, and counts over every matching session."""

    sessions: pd.DataFrame  # the page's rows, with :func:`assignment_list`'s columns
    page: int  # 1-based; the last page when the one asked for is past the end
    pages: int  # at least 1
    matching: int  # sessions that pass the filters
    overdue: int  # of those, overdue


def assignment_page(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer,
    filters: AssignmentFilters = AssignmentFilters(),
    today: date | None = None,
    accept_dispute: bool = True,
    order: str = next(iter(LIST_ORDERS)),
    page: int = 1,
    page_size: int = LIST_PAGE_SIZE,
) -> AssignmentPage:
    """Page ``page`` of :func:`assignment_list` (``page_size`` rows), cut in SQL: only the page's rows
    reach pandas, whatever the scope. A page past the end gives the last one (filters can shrink the
    list under a page someone is on)."""
    if page_size < 1:
        raise ValueError("a page holds at least one session")
    sql, order_by, params = _listed_sql(viewer, filters, today, accept_dispute, order)
    page = max(1, int(page))
    # Not count(*) FILTER (…) OVER (): DuckDB takes a slow path for a filtered window (1.4 s for an
    # admin's list against 0.1 s).
    counts = f"count(*) OVER () AS matching, coalesce(sum((follow_up = {sql_str(OVERDUE)})::INT) OVER (), 0) AS overdue"
    limit, offset = int(page_size), (page - 1) * int(page_size)
    frame = con.execute(f"SELECT *, {counts} FROM ({sql}) {order_by} LIMIT {limit} OFFSET {offset}", params).df()
    rows = _with_area_tags(frame.drop(columns=["matching", "overdue"]))
    if frame.empty:  # nothing matches, or the page is past the end: then the last page
        matching = int(scalar(con, f"SELECT count(*) FROM ({sql})", params))
        if matching:
            last = -(-matching // page_size)
            return assignment_page(con, viewer, filters, today, accept_dispute, order, last, page_size)
        return AssignmentPage(rows, 1, 1, 0, 0)
    matching, overdue = int(frame["matching"].iloc[0]), int(frame["overdue"].iloc[0])
    return AssignmentPage(rows, page, -(-matching // page_size), matching, overdue)


@dataclass(frozen=True)
class AssignmentDetail:
    """One coaching session as the viewer may see it."""

    assignment_id: str
    agent: str  # the agent's name, as exported
    person_id: str  # who the agent is (coaching/people.py)
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
    #: The follow-up marker on the day asked about (:data:`FOLLOW_UP_SQL`): Overdue, Due today, Due in N
    #: days, or None.
    follow_up: str | None = None


def assignment_detail(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer,
    assignment_id: str,
    person_id: str | None = None,
    today: date | None = None,
) -> AssignmentDetail | None:
    """The session ``assignment_id`` (for ``person_id``, when a lead picks one member of a group), or
    None when it does not exist *or* is outside the viewer's scope: both are "not found". Its
    ``follow_up`` marker is the one of ``today`` (the real day if not given)."""
    where = Where().add("a.assignment_id = $assignment", {"assignment": assignment_id}).scope(viewer, "a.person_id")
    if person_id is not None:
        where.add("a.person_id = $person", {"person": person_id})
    row = con.execute(
        f"SELECT a.assignment_id, a.agent, a.person_id, a.name, a.coaching_type, a.group_name, a.coaching_areas, "
        f"a.assigned_date, a.follow_up_date, a.status, a.assigned_by, a.feedback, a.action_plan, "
        f"{FOLLOW_UP_SQL} AS follow_up "
        f"FROM assignments a WHERE {where.sql} ORDER BY a.person_id LIMIT 1",
        {**where.params, "today": today or date.today()},
    ).fetchone()
    if row is None:
        return None
    values = list(row)
    values[6] = list(values[6] or [])  # coaching areas
    detail = AssignmentDetail(*values)
    if viewer.role == AGENT:  # a group assignment looks individual to an agent
        return replace(detail, coaching_type=None, group_name=None)
    return detail


def marked_interactions(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer,
    assignment_id: str,
    person_id: str,
    pass_score: float = DEFAULT_PASS_SCORE,
) -> pd.DataFrame:
    """The interactions marked for coaching in one session, limited to the session's agent's own
    (a group session marks several members' interactions; each member sees only theirs).

    Besides the scores (the audit score is the current one, :data:`coaching.scores.AUDIT_SQL`):
    ``kore_result`` and ``audit_result`` (Pass or Fail against ``pass_score``, or why there is no score:
    "Below threshold", "Not evaluated", "Not audited"; :mod:`coaching.scores`) and the linked
    evaluation's ``review_status`` (None when it has no audit in the review log).
    """
    if assignment_detail(con, viewer, assignment_id, person_id) is None:
        return pd.DataFrame()
    condition, params = scope(viewer, "e.person_id")
    return con.execute(
        f"""SELECT c.conversation_id, c.date, c.coaching_area, e.scored_agent AS agent, e.queues,
                   e.topics, e.intent, e.kore_score, {scores.KORE_RESULT_SQL} AS kore_result,
                   {scores.AUDIT_SQL} AS audit_score, {scores.audit_result_sql()} AS audit_result,
                   e.sentiment_score, r.review_status, e.duration_status, e.start_time
            FROM coaching_interactions c JOIN evaluations e USING (conversation_id)
            LEFT JOIN evaluation_reviews r USING (conversation_id)
            WHERE c.assignment_id = $assignment AND e.person_id = $person AND {condition}
            ORDER BY c.date, e.start_time""",
        {**params, **scores.pass_score(pass_score), "assignment": assignment_id, "person": person_id},
    ).df()


def best_response_examples(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, assignment_id: str, person_id: str
) -> pd.DataFrame:
    """The session's best response examples: reference interactions chosen by the supervisor.

    An example by another agent is shared deliberately, but without that agent's name.
    """
    if assignment_detail(con, viewer, assignment_id, person_id) is None:
        return pd.DataFrame()
    condition, params = scope(viewer, "e.person_id")
    return con.execute(
        f"""SELECT b.conversation_id, b.note, e.start_time, e.queues, e.topics, e.intent, e.kore_score,
                   e.sentiment_score, CASE WHEN {condition} THEN e.scored_agent ELSE $another END AS agent
            FROM best_responses b JOIN evaluations e USING (conversation_id)
            WHERE b.assignment_id = $assignment
            ORDER BY e.start_time""",
        {**params, "another": ANOTHER_AGENT, "assignment": assignment_id},
    ).df()


def status_for(viewer: Viewer, status: str) -> str:
    """A session's status in the words the viewer's role sees."""
    return AGENT_STATUS.get(status, status) if viewer.role == AGENT else status


def session_status(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, assignment_id: str, person_id: str,
    accept_dispute: bool = True,
) -> str | None:
    """One session's status as the viewer sees it (with pending reviews), or None if not found."""
    condition, params = scope(viewer, "a.person_id")
    waits, status = _session_status_sql(viewer, accept_dispute)
    row = con.execute(
        f"SELECT {status} FROM assignments a {waits} "
        f"WHERE a.assignment_id = $assignment AND a.person_id = $person AND {condition}",
        {**params, "assignment": assignment_id, "person": person_id},
    ).fetchone()
    return None if row is None else row[0]
