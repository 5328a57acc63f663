"""The team view: one row per agent in the viewer's scope, the figures a lead scans to see who is slipping,
on what, and whether their coaching is under way. docs/team.md defines each figure for people.

For the evaluations of interactions that *started* in the chosen dates (by default the last 30 days),
each compared with the period of equal length just before:

* the **Kore Evaluation Score**, the current **Supervisor Audit Score** (:data:`coaching.scores.AUDIT_SQL`)
  and the **Sentiment Score**: each average with its count (evaluations with that score: an audit score
  counts whether or not its audit is in the review log) and its change against the previous period,
  NULL where either side rests on fewer than :data:`~coaching.scores.FEW`; the weekly Kore averages
  (oldest first, for a sparkline); the **pass rate** (Kore scores passing,
  :func:`coaching.scores.verdict_sql`); **fatal** interactions;
* **disputed** evaluations (a metric disputed in any round, :data:`coaching.review_machine.DISPUTED_SQL`)
  and the **share overturned** (the reviewer's accepted answers over all answers to those evaluations'
  disputes, :func:`coaching.review_machine.dispute_answers_sql`), whenever the audit, the dispute or the
  answer was. (Score Trends' Disputes per period takes the audits *submitted* in the dates instead.)

As of ``today``, whatever the dates: **open reviews** (Pending Agent Review and Pending Supervisor
Review: :data:`coaching.review_machine.OPEN_STATUSES`); and, of the assignments assigned on or before
``today``, **open sessions** (not completed), **overdue** follow-ups
(:data:`coaching.assignments.FOLLOW_UP_SQL`) and the date **last assigned** (the newest assigned date).

A **flag** marks an agent whose Kore average *fell* by more than :data:`FALL_STANDARD_ERRORS` standard
errors of the change (:func:`coaching.scores.change_se_sql`), and one whose Kore average is *below the
pass score*; either needs at least :data:`~coaching.scores.FEW` Kore scores in the dates (a fall, in the
previous period too). :func:`flag_reason` says why in words.

The table is computed in SQL over every agent at once, sorted by a column of :data:`SORTS` and cut to a
page there (:func:`team_page`): only the rows a page shows reach pandas. :func:`team_table` has every row
(the CSV). Agents are who they are (``person_id``: an email or Kore's Agent ID), shown by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

import duckdb
import pandas as pd

from coaching import people, scores
from coaching.access import AGENT, Viewer
from coaching.assignments import COMPLETED, FOLLOW_UP_SQL, OVERDUE
from coaching.review_machine import DISPUTED_SQL, OPEN_STATUSES, PENDING_AGENT, PENDING_SUPERVISOR, dispute_answers_sql
from coaching.scores import AUDIT_SQL, FEW, PASS, change_se_sql, mean_sql, verdict_sql
from coaching.settings import DEFAULT_PASS_SCORE
from coaching.sql import Params, Where, in_list, merge, scalar, scope, sql_str

#: The default span of the view: the last 30 days (compared with the 30 before).
DEFAULT_DAYS: Final = 30
#: A Kore average that fell by more than this many standard errors of the difference is "falling".
FALL_STANDARD_ERRORS: Final = 2.0
#: Agents a page shows.
PAGE_SIZE: Final = 25
#: The flags, and what an agent with both shows.
FALLING, BELOW_PASS = "Falling", "Below pass"
BOTH_FLAGS: Final = f"{FALLING}, {BELOW_PASS.lower()}"

#: What the table can be sorted by: each column's SQL over the table's rows, by the column's name. Only
#: these are ever written into a query. Ties fall back to ``person_id``, so every order is total.
SORTS: Final[dict[str, str]] = {
    "flag": "flag_level",
    "agent": "lower(agent)",
    "person_id": "person_id",
    "team": "lower(team)",
    "kore_avg": "kore_avg",
    "kore_change": "kore_change",
    "kore_n": "kore_n",
    "audit_avg": "audit_avg",
    "audit_change": "audit_change",
    "audit_n": "audit_n",
    "sentiment_avg": "sentiment_avg",
    "sentiment_change": "sentiment_change",
    "sentiment_n": "sentiment_n",
    "pass_rate": "pass_rate",
    "fatal": "fatal",
    "pending_agent": "pending_agent",
    "pending_supervisor": "pending_supervisor",
    "disputed": "disputed",
    "overturn_share": "overturn_share",
    "open_sessions": "open_sessions",
    "overdue": "overdue",
    "last_assigned": "last_assigned",
}
#: Each sortable column by the words a viewer reads it by: the "Sort by" choices, the table's headings and
#: docs/team.md's names, one name per figure.
LABELS: Final[dict[str, str]] = {
    "flag": "Flag",
    "agent": "Agent",
    "person_id": "Email or Agent ID",
    "team": "Team",
    "kore_avg": "Kore average",
    "kore_change": "Kore change",
    "kore_n": "Kore scores",
    "audit_avg": "Audit average",
    "audit_change": "Audit change",
    "audit_n": "Audit scores",
    "sentiment_avg": "Sentiment average",
    "sentiment_change": "Sentiment change",
    "sentiment_n": "Sentiment scores",
    "pass_rate": "Pass rate",
    "fatal": "Fatal",
    "pending_agent": "Pending Agent",
    "pending_supervisor": "Pending Supervisor",
    "disputed": "Disputed",
    "overturn_share": "Share overturned",
    "open_sessions": "Open sessions",
    "overdue": "Overdue follow-ups",
    "last_assigned": "Last assigned",
}
#: The scores compared between the periods: column prefix and the SQL of the score on ``e`` and ``r``.
_MEASURES = {"kore": "e.kore_score", "audit": AUDIT_SQL, "sentiment": "e.sentiment_score"}


@dataclass(frozen=True)
class TeamFilters:
    """What the view covers. Dates are inclusive and apply to the interaction's start; the previous
    period is as long and ends the day before ``start``."""

    start: date
    end: date
    teams: tuple[str, ...] = ()

    @classmethod
    def last_days(cls, today: date, days: int = DEFAULT_DAYS, teams: tuple[str, ...] = ()) -> TeamFilters:
        return cls(start=today - timedelta(days=days - 1), end=today, teams=teams)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> tuple[date, date]:
        """The first and last day of the previous period."""
        return self.start - timedelta(days=self.days), self.start - timedelta(days=1)


def agents_where(viewer: Viewer, teams: tuple[str, ...] = ()) -> Where:
    """The agents (``p``, in people) of the view: the viewer's scope and the teams chosen."""
    return Where().add(f"p.role = {sql_str(AGENT)}").scope(viewer, "p.person_id").one_of("p.team", "teams", teams)


def _enough(prefix: str) -> str:
    """SQL: both periods have at least :data:`~coaching.scores.FEW` of one score (``now``, ``before``)."""
    return f"now.{prefix}_n >= {FEW} AND before.{prefix}_n >= {FEW}"


def _compared(prefix: str) -> str:
    """SQL columns of one score in the table: mean and count of each period, and the change (NULL where
    either side has fewer than :data:`~coaching.scores.FEW`)."""
    now, before = mean_sql(f"now.{prefix}"), mean_sql(f"before.{prefix}")
    return (f"{now} AS {prefix}_avg, coalesce(now.{prefix}_n, 0) AS {prefix}_n, "
            f"CASE WHEN {_enough(prefix)} THEN {now} - {before} END AS {prefix}_change, "
            f"{before} AS {prefix}_prev_avg, coalesce(before.{prefix}_n, 0) AS {prefix}_prev_n")


def _team_sql(viewer: Viewer, filters: TeamFilters, pass_score: float, today: date | None) -> tuple[str, Params]:
    """The whole table (``SELECT …``, unordered), one row per agent, and its parameters."""
    if filters.end < filters.start:
        raise ValueError("the view's dates end before they start")
    agents = agents_where(viewer, filters.teams)
    evaluations_scope, scope_params = scope(viewer, "e.person_id")
    previous_start, _ = filters.previous
    enough = _enough("kore")
    kore_change = f"{mean_sql('now.kore')} - {mean_sql('before.kore')}"
    spread = change_se_sql("before.kore", "now.kore")  # the standard error of the Kore change
    sums = ",\n                       ".join(
        f"count({score}) AS {prefix}_n, sum({score}) AS {prefix}_sum, sum(({score}) * ({score})) AS {prefix}_squares"
        for prefix, score in _MEASURES.items())
    # Sums of counts are counts (DuckDB sums integers to a 128-bit integer, pandas reads it as a float).
    totals = ", ".join(f"sum({prefix}_{part}){'::BIGINT' if part == 'n' else ''} AS {prefix}_{part}"
                       for prefix in _MEASURES for part in ("n", "sum", "squares"))
    sql = f"""WITH agents AS (
                SELECT p.person_id, {people.LABEL} AS agent, p.team FROM people p WHERE {agents.sql}),
            -- The reviewer's answers to disputes, per evaluation (only disputed evaluations have any).
            answers AS ({dispute_answers_sql()}),
            -- Every figure of the two periods from one pass over their evaluations: counts and sums per
            -- agent, week and period (the weeks draw the sparkline; the sums make the means and spreads).
            weeks AS (
                SELECT e.person_id, date_trunc('week', e.start_time) AS week, e.start_time >= $start::DATE AS current,
                       {sums},
                       count(*) FILTER (WHERE {verdict_sql("e.kore_score")} = {sql_str(PASS)}) AS passed,
                       count(*) FILTER (WHERE e.is_fatal) AS fatal,
                       count(*) FILTER (WHERE {DISPUTED_SQL}) AS disputed,
                       sum(x.accepted) AS accepted, sum(x.answered) AS answered
                FROM evaluations e LEFT JOIN evaluation_reviews r USING (conversation_id)
                LEFT JOIN answers x USING (conversation_id)
                WHERE e.person_id IN (SELECT person_id FROM agents) AND {evaluations_scope}
                  AND e.start_time >= $previous_start::DATE AND e.start_time < $end::DATE + 1
                GROUP BY ALL),
            sides AS (
                SELECT person_id, current, {totals},
                       sum(passed)::BIGINT AS passed, sum(fatal)::BIGINT AS fatal,
                       sum(disputed)::BIGINT AS disputed, sum(accepted)::BIGINT AS accepted,
                       sum(answered)::BIGINT AS answered,
                       list(kore_sum / kore_n ORDER BY week) FILTER (WHERE kore_n > 0) AS kore_weekly
                FROM weeks GROUP BY person_id, current),
            reviews AS (
                SELECT e.person_id,
                       count(*) FILTER (WHERE r.review_status = {sql_str(PENDING_AGENT)}) AS pending_agent,
                       count(*) FILTER (WHERE r.review_status = {sql_str(PENDING_SUPERVISOR)}) AS pending_supervisor
                FROM evaluation_reviews r JOIN evaluations e USING (conversation_id)
                WHERE {in_list("r.review_status", OPEN_STATUSES)}
                  AND e.person_id IN (SELECT person_id FROM agents) AND {evaluations_scope}
                GROUP BY e.person_id),
            -- Coaching as of today: the assignments assigned by then (one assigned later is not yet open).
            coaching AS (
                SELECT a.person_id,
                       count(*) FILTER (WHERE a.status IS DISTINCT FROM {sql_str(COMPLETED)}) AS open_sessions,
                       count(*) FILTER (WHERE ({FOLLOW_UP_SQL}) = {sql_str(OVERDUE)}) AS overdue,
                       max(a.assigned_date) AS last_assigned
                FROM assignments a
                WHERE a.person_id IN (SELECT person_id FROM agents) AND a.assigned_date <= $today::DATE
                GROUP BY a.person_id),
            rows AS (
                SELECT a.person_id, a.agent, a.team,
                       {_compared("kore")},
                       CASE WHEN {enough} THEN {spread} END AS kore_change_se,
                       {_compared("audit")},
                       {_compared("sentiment")},
                       coalesce(now.kore_weekly, []::DOUBLE[]) AS kore_weekly,
                       now.passed / nullif(now.kore_n, 0) AS pass_rate, coalesce(now.fatal, 0) AS fatal,
                       coalesce(now.disputed, 0) AS disputed, now.accepted / nullif(now.answered, 0) AS overturn_share,
                       coalesce(r.pending_agent, 0) AS pending_agent,
                       coalesce(r.pending_supervisor, 0) AS pending_supervisor,
                       coalesce(c.open_sessions, 0) AS open_sessions, coalesce(c.overdue, 0) AS overdue,
                       c.last_assigned,
                       coalesce({enough} AND {kore_change} < -{FALL_STANDARD_ERRORS} * {spread}, false) AS falling,
                       coalesce(now.kore_n >= {FEW} AND {mean_sql('now.kore')} < $pass_score, false) AS below_pass
                FROM agents a LEFT JOIN sides now ON now.person_id = a.person_id AND now.current
                LEFT JOIN sides before ON before.person_id = a.person_id AND NOT before.current
                LEFT JOIN reviews r ON r.person_id = a.person_id LEFT JOIN coaching c ON c.person_id = a.person_id)
            SELECT *,
                   CASE WHEN falling AND below_pass THEN {sql_str(BOTH_FLAGS)} WHEN falling THEN {sql_str(FALLING)}
                        WHEN below_pass THEN {sql_str(BELOW_PASS)} END AS flag,
                   falling::INT * 2 + below_pass::INT AS flag_level
            FROM rows"""
    params = merge(agents.params, scope_params, scores.pass_score(pass_score), {
        "start": filters.start, "end": filters.end, "previous_start": previous_start,
        "today": today or date.today(),
    })
    return sql, params


def _order_by(sort: str, descending: bool) -> str:
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; expected one of {', '.join(SORTS)}")
    return f"ORDER BY {SORTS[sort]} {'DESC' if descending else 'ASC'} NULLS LAST, person_id"


#: Columns of the table in the order a CSV has them (the page shows some of them).
COLUMNS: Final = (
    "person_id", "agent", "team", "flag", "flag_reason",
    "kore_avg", "kore_n", "kore_change", "kore_prev_avg", "kore_prev_n", "kore_change_se",
    "audit_avg", "audit_n", "audit_change", "audit_prev_avg", "audit_prev_n",
    "sentiment_avg", "sentiment_n", "sentiment_change", "sentiment_prev_avg", "sentiment_prev_n",
    "pass_rate", "fatal", "pending_agent", "pending_supervisor", "disputed", "overturn_share",
    "open_sessions", "overdue", "last_assigned", "falling", "below_pass",
)


def _times(factor: float) -> str:
    return "twice" if factor == 2 else f"{factor:g} times"


def flag_reason(row: pd.Series | dict[str, Any], pass_score: float = DEFAULT_PASS_SCORE) -> str:
    """Why an agent is flagged, in words ("" when not): "Kore average fell 12.3 points (71.0 → 58.7), more
    than twice its standard error (4.1)"; "Kore average 31.2 is below the pass score (40) over 14
    evaluations"; both joined by "; "."""
    reasons = []
    if row["falling"]:
        reasons.append(
            f"Kore average fell {-row['kore_change']:.1f} points ({row['kore_prev_avg']:.1f} → "
            f"{row['kore_avg']:.1f}), more than {_times(FALL_STANDARD_ERRORS)} its standard error "
            f"({row['kore_change_se']:.1f})")
    if row["below_pass"]:
        n = int(row["kore_n"])
        reasons.append(f"Kore average {row['kore_avg']:.1f} is below the pass score ({pass_score:g}) over {n} "
                       f"evaluation{'' if n == 1 else 's'}")
    return "; ".join(reasons)


def change_text(change: float | None) -> str:
    """A change as a table shows it: "▲ 4.0", "▼ 12.3", "0.0"; "" where there is none (a side too thin)."""
    if change is None or pd.isna(change):
        return ""
    shown = round(float(change), 1)
    if shown > 0:
        return f"▲ {shown:.1f}"
    if shown < 0:
        return f"▼ {-shown:.1f}"
    return "0.0"


def _with_reasons(frame: pd.DataFrame, pass_score: float) -> pd.DataFrame:
    """``frame`` with ``flag_reason`` after ``flag``, and its text columns typed as text."""
    reasons = [flag_reason(row, pass_score) for _, row in frame.iterrows()] if not frame.empty else []
    frame.insert(list(frame.columns).index("flag") + 1, "flag_reason", pd.Series(reasons, index=frame.index,
                                                                                   dtype="object"))
    return frame.astype({c: "str" for c in ("person_id", "agent")})


@dataclass(frozen=True)
class TeamPage:
    """One page of the team view: its rows, which page it is, and how many agents there are."""

    rows: pd.DataFrame  # the page's rows: :data:`COLUMNS` and ``kore_weekly`` (weekly Kore means, oldest first)
    page: int  # 1-based; the last page when the one asked for is past the end
    pages: int  # at least 1
    total: int  # agents in the view


def team_page(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer,
    filters: TeamFilters,
    sort: str = "flag",
    descending: bool = True,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    pass_score: float = DEFAULT_PASS_SCORE,
    today: date | None = None,
) -> TeamPage:
    """Page ``page`` of the team view sorted by ``sort`` (a key of :data:`SORTS`; missing values last
    either way, ties by person_id), cut in SQL: only the page's rows reach pandas. ``pass_score`` is
    the evaluation form's pass score; ``today`` the day of the open reviews and coaching (the real day if
    not given). A page past the end gives the last one."""
    if page_size < 1:
        raise ValueError("a page holds at least one agent")
    sql, params = _team_sql(viewer, filters, pass_score, today)
    page = max(1, int(page))
    limit, offset = int(page_size), (page - 1) * int(page_size)
    frame = con.execute(
        f"SELECT *, count(*) OVER () AS total FROM ({sql}) {_order_by(sort, descending)} "
        f"LIMIT {limit} OFFSET {offset}",
        params,
    ).df()
    if frame.empty and page > 1:  # past the end (the view shrank under the page): the last page
        total = int(scalar(con, f"SELECT count(*) FROM ({sql})", params))
        if total:
            return team_page(con, viewer, filters, sort, descending, -(-total // page_size), page_size, pass_score,
                             today)
    total = int(frame["total"].iloc[0]) if not frame.empty else 0
    rows = _with_reasons(frame.drop(columns=["total", "flag_level"]), pass_score)
    return TeamPage(rows[[*COLUMNS, "kore_weekly"]], page if total else 1, max(1, -(-total // page_size)), total)


def team_table(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer,
    filters: TeamFilters,
    sort: str = "flag",
    descending: bool = True,
    pass_score: float = DEFAULT_PASS_SCORE,
    today: date | None = None,
) -> pd.DataFrame:
    """Every row of the team view (what its CSV holds), in the order of :func:`team_page`: the columns of
    :data:`COLUMNS` (the weekly means are left to the page's sparkline)."""
    sql, params = _team_sql(viewer, filters, pass_score, today)
    frame = con.execute(f"SELECT * EXCLUDE (kore_weekly, flag_level) FROM ({sql}) {_order_by(sort, descending)}",
                        params).df()
    return _with_reasons(frame, pass_score)[list(COLUMNS)]


def team_choices(con: duckdb.DuckDBPyConnection, viewer: Viewer) -> list[str]:
    """The teams of the agents in the viewer's scope, A to Z: what the Team filter offers."""
    where = agents_where(viewer)
    return [team for (team,) in con.execute(
        f"SELECT DISTINCT p.team FROM people p WHERE {where.sql} AND p.team IS NOT NULL ORDER BY p.team",
        where.params,
    ).fetchall()]
