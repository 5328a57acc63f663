"""The Review tabs: the evaluations a viewer follows through review and dispute, read-only.

Which tab an evaluation is on follows from its review state (the state machine's outcome, stored in
``evaluation_reviews``; docs/review.md, "The Review tabs", says the same for people):

* **Pending Review**: the review is open: Pending Agent Review or Pending Supervisor Review.
* **Disputes**: at least one metric was disputed, in any round, whether the review is open or over.
* **Resolved**: the review is over: Resolved or Closed.

An evaluation without an audit in the review log has no review and is on no tab. Pending Review and
Resolved never share an evaluation; a disputed one is on Disputes as well as on one of those two.

Aging counts business time (Monday to Friday, in UTC, the store's clock) since an evaluation entered
its current status; a pending one that has waited longer than the service level is flagged.

A tab is sorted (:data:`ORDERS`, newest first by default) and paged in SQL (:func:`review_page`): only
the rows a page shows reach pandas, whatever the scope. Each review status has one look wherever it is
shown (:data:`STATUS_MARKERS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from coaching import scores
from coaching.access import Viewer
from coaching.review_machine import (
    CLOSED,
    DISPUTED_SQL,
    DONE_STATUSES,
    OPEN_STATUSES,
    PENDING_AGENT,
    PENDING_SUPERVISOR,
    RESOLVED,
)
from coaching.sql import Params, Where, in_list, scalar

PENDING_TAB, DISPUTES_TAB, RESOLVED_TAB = "pending", "disputes", "resolved"
#: The tabs in the order shown, by the name used in URLs (``?tab=``), with the label people read.
TABS = {PENDING_TAB: "Pending Review", DISPUTES_TAB: "Disputes", RESOLVED_TAB: "Resolved"}




@dataclass(frozen=True)
class StatusMarker:
    """How a status is shown: in ``colour`` after a Material ``icon``, with its ``meaning`` on hover."""

    colour: str
    icon: str
    meaning: str


#: Each review status's look, here and on a coaching session: who it waits on, or how it ended.
STATUS_MARKERS = {
    PENDING_AGENT: StatusMarker("orange", ":material/hourglass_top:",
                                "Waiting for the agent to accept the audit or dispute metrics"),
    PENDING_SUPERVISOR: StatusMarker("violet", ":material/hourglass_top:",
                                     "Waiting for a reviewer to answer the disputed metrics"),
    RESOLVED: StatusMarker("green", ":material/check_circle:", "Over: the agent accepted the evaluation"),
    CLOSED: StatusMarker("gray", ":material/lock:", "Over: the maximum of dispute rounds was reached"),
}

#: The orders a tab can be sorted in, by the words people choose them by, as SQL over the tab's rows;
#: ties go newest first. Not every order is offered on every tab (:func:`orders_for`).
NEWEST, OLDEST, LONGEST_WAITING, LOWEST_SCORE, MOST_ROUNDS = (
    "Newest first", "Oldest first", "Longest waiting", "Lowest audit score", "Most dispute rounds")
ORDERS = {
    NEWEST: "date DESC",
    OLDEST: "date",
    LONGEST_WAITING: "status_since NULLS LAST",
    LOWEST_SCORE: "audit_score NULLS LAST",
    MOST_ROUNDS: "dispute_rounds DESC",
}
_TAB_ORDERS = {
    PENDING_TAB: (NEWEST, OLDEST, LONGEST_WAITING, LOWEST_SCORE),
    DISPUTES_TAB: (NEWEST, OLDEST, MOST_ROUNDS, LOWEST_SCORE),
    RESOLVED_TAB: (NEWEST, OLDEST, MOST_ROUNDS, LOWEST_SCORE),
}
#: Evaluations a tab shows per page.
PAGE_SIZE = 25


def orders_for(tab: str) -> tuple[str, ...]:
    """The orders ``tab`` offers, the default first."""
    return _TAB_ORDERS[tab]


#: Each tab's rule in SQL over an ``evaluation_reviews`` row ``r``: the same rule as :func:`tabs_for`.
_TAB_RULES = {
    PENDING_TAB: in_list("r.review_status", OPEN_STATUSES),
    DISPUTES_TAB: DISPUTED_SQL,
    RESOLVED_TAB: in_list("r.review_status", DONE_STATUSES),
}


def tabs_for(review_status: str | None, disputed_metrics: Sequence[str] = ()) -> set[str]:
    """The tabs an evaluation is on, given its review status (None: no review) and disputed metrics."""
    if review_status is None:
        return set()
    tabs = set()
    if review_status in OPEN_STATUSES:
        tabs.add(PENDING_TAB)
    if review_status in DONE_STATUSES:
        tabs.add(RESOLVED_TAB)
    if len(disputed_metrics) > 0:
        tabs.add(DISPUTES_TAB)
    return tabs


@dataclass(frozen=True)
class ReviewFilters:
    """What the tabs are narrowed to: for a lead, some of their team's agents (by person_id)."""

    agents: tuple[str, ...] = ()


def _where(viewer: Viewer, filters: ReviewFilters) -> tuple[str, Params]:
    where = Where().scope(viewer, "e.person_id").one_of("e.person_id", "agents", filters.agents)
    return where.sql, where.params


def review_counts(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, filters: ReviewFilters = ReviewFilters()
) -> dict[str, int]:
    """How many evaluations in the viewer's scope are on each tab."""
    condition, params = _where(viewer, filters)
    counts = ", ".join(f"count(*) FILTER (WHERE {rule})" for rule in _TAB_RULES.values())
    row = con.execute(
        f"SELECT {counts} FROM evaluation_reviews r JOIN evaluations e USING (conversation_id) "
        f"WHERE {condition}",
        params,
    ).fetchone()
    return dict(zip(_TAB_RULES, (int(n) for n in row or (0, 0, 0)), strict=True))


def _tab_sql(viewer: Viewer, tab: str, filters: ReviewFilters) -> tuple[str, Params]:
    """The rows of ``tab`` in the viewer's scope (``SELECT … WHERE …``, unordered)."""
    if tab not in _TAB_RULES:
        raise ValueError(f"unknown tab {tab!r}; expected one of {', '.join(_TAB_RULES)}")
    condition, params = _where(viewer, filters)
    date = "r.completed_at" if tab == RESOLVED_TAB else "e.start_time"
    return (
        f"""SELECT r.conversation_id, e.scored_agent AS agent, e.person_id, {date} AS date, e.start_time,
                   r.completed_at,
                   e.queues, {scores.AUDIT_SQL} AS audit_score, r.review_status,
                   r.dispute_rounds, r.disputed_metrics, r.awaiting_response, r.audit_score_history,
                   r.status_since
            FROM evaluation_reviews r JOIN evaluations e USING (conversation_id)
            WHERE {_TAB_RULES[tab]} AND {condition}""",
        params,
    )


def _order_by(order: str) -> str:
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; expected one of {', '.join(ORDERS)}")
    return f"ORDER BY {ORDERS[order]}, date DESC, conversation_id"


def review_tab(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer,
    tab: str,
    filters: ReviewFilters = ReviewFilters(),
    limit: int | None = None,
    order: str = NEWEST,
) -> pd.DataFrame:
    """The evaluations on ``tab`` in the viewer's scope, in ``order`` (one of :data:`ORDERS`; newest
    first by default), only the first ``limit`` if given. A page shows one :func:`review_page` of them.

    ``date`` is when the evaluated interaction started, except on Resolved, where it is when the
    review was completed. Columns: conversation_id, agent, date, start_time, completed_at, queues,
    audit_score (the current one: the last re-evaluation's, else the audit's), review_status,
    dispute_rounds (completed), disputed_metrics, awaiting_response, audit_score_history (the audit,
    then each re-evaluation), status_since.
    """
    sql, params = _tab_sql(viewer, tab, filters)
    return con.execute(f"SELECT * FROM ({sql}) {_order_by(order)} LIMIT $limit", {**params, "limit": limit}).df()


@dataclass(frozen=True)
class ReviewPage:
    """One page of a tab: its rows (:func:`review_tab`'s columns), which page it is, and how many
    evaluations the tab has in all."""

    rows: pd.DataFrame
    page: int  # 1-based; the last page when the one asked for is past the end
    pages: int  # at least 1
    total: int


def review_page(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer,
    tab: str,
    filters: ReviewFilters = ReviewFilters(),
    order: str = NEWEST,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> ReviewPage:
    """Page ``page`` of ``tab`` in ``order`` (``page_size`` rows), cut in SQL. A page past the end gives
    the last one (a filter or an import can shrink a tab under the page someone is on)."""
    if page_size < 1:
        raise ValueError("a page holds at least one evaluation")
    sql, params = _tab_sql(viewer, tab, filters)
    total = int(scalar(con, f"SELECT count(*) FROM ({sql})", params))
    pages = max(1, -(-total // page_size))
    page = min(max(1, int(page)), pages)
    rows = con.execute(
        f"SELECT * FROM ({sql}) {_order_by(order)} LIMIT {int(page_size)} OFFSET {(page - 1) * int(page_size)}",
        params,
    ).df()
    return ReviewPage(rows, page, pages, total)


def past_service_level(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer,
    now: datetime,
    service_level_days: float,
    filters: ReviewFilters = ReviewFilters(),
) -> int:
    """How many evaluations on Pending Review have waited longer than the service level (over every page:
    only their Status since reaches pandas)."""
    sql, params = _tab_sql(viewer, PENDING_TAB, filters)
    since = con.execute(f"SELECT status_since, review_status FROM ({sql})", params).df()
    return int(with_aging(since, now, service_level_days)["past_service_level"].sum())


_DAY = np.timedelta64(1, "D")


def business_days(starts: pd.Series, end: datetime) -> pd.Series:
    """The business time from each of ``starts`` to ``end``, in days: Saturdays and Sundays do not
    count, every other hour does. A start after ``end`` waited 0 days; a missing start gives NaN."""
    end64 = pd.Timestamp(end).as_unit("ns").to_datetime64()
    given = pd.to_datetime(starts).to_numpy(dtype="datetime64[ns]")
    missing = np.isnat(given)
    start = np.minimum(np.where(missing, end64, given), end64)
    start_day, end_day = start.astype("datetime64[D]"), end64.astype("datetime64[D]")
    same_day = start_day == end_day
    # Whole business days strictly between the two days, then the parts of the first and the last.
    between = np.busday_count(np.minimum(start_day + 1, end_day), end_day)
    first = np.where(np.is_busday(start_day), (start_day.astype("datetime64[ns]") + _DAY - start) / _DAY, 0.0)
    last = (end64 - end_day.astype("datetime64[ns]")) / _DAY if np.is_busday(end_day) else 0.0
    within = np.where(np.is_busday(start_day), (end64 - start).astype("timedelta64[ns]") / _DAY, 0.0)
    waited = np.where(same_day, within, between + first + last)
    return pd.Series(np.where(missing, np.nan, waited), index=starts.index, dtype=float)


def with_aging(rows: pd.DataFrame, now: datetime, service_level_days: float) -> pd.DataFrame:
    """``rows`` of a tab with ``waiting_days`` (business days in the current status, for open reviews;
    NaN for completed ones) and ``past_service_level`` (an open review waiting longer than
    ``service_level_days``)."""
    open_review = rows["review_status"].isin(OPEN_STATUSES)
    waited = business_days(rows["status_since"], now).where(open_review)
    return rows.assign(waiting_days=waited, past_service_level=open_review & (waited > service_level_days))


def score_movement(history: Sequence[float] | None) -> str:
    """How the audit score moved: the audit's, then each re-evaluation's ("55 → 70"); "—" for none."""
    scores = [] if history is None else [s for s in history if s is not None and not pd.isna(s)]
    return " → ".join(f"{s:g}" for s in scores) or "—"
