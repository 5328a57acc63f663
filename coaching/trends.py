"""Score trends and the figures team leads scan: each a tidy DataFrame computed in SQL over the viewer's
scope (charts for them are in :mod:`coaching.charts`).

* :func:`score_trends`: Kore Evaluation Score, Supervisor Audit Score and Sentiment Score per day, week
  or month, each average with its count; :func:`agent_score_trends`: the same per chosen agent (up to
  :data:`MAX_COMPARED`), for comparing them.
* :func:`kore_vs_audit` and :func:`audit_gap_by_agent`: audited interactions, Kore against audit, and
  the gap (audit − Kore) per agent; :func:`metric_overturns`: the metrics disputes overturn most.
* :func:`coaching_monitor`: Kore's lead view of coaching (7 days before assignment against the last 7).
* :func:`coaching_effect` and :func:`coaching_effect_summary`: before/after each assignment against
  uncoached agents over the same dates.
* :func:`dispute_trends`: dispute rate, rounds, share overturned and time to resolve per period of the
  audit (the audits submitted in the dates). The other figures that choose evaluations by the dates,
  :func:`metric_overturns` too, choose those of interactions that started in them (the coaching views
  choose assignments by their assigned date).
* :func:`own_trends`: an agent's scores against their team's average (an aggregate only), seen by the
  agent or, for one agent in their scope (:func:`agent_in_scope`), by a lead, QA or an admin; and
  :func:`own_headline`, its headline figures: each average over the dates against the period before,
  the pass score and the team's.

The Supervisor Audit Score is the current one: after the last re-evaluation, else as exported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from coaching import people, scores
from coaching.access import AGENT, AccessDenied, Viewer
from coaching.review_machine import DISPUTED_SQL, dispute_answers_sql
from coaching.scores import AUDIT_SQL, change_se_sql, mean_sql, verdict_sql
from coaching.scores import FEW as FEW  # an average on fewer evaluations is thin (the rule is the scores')
from coaching.settings import DEFAULT_PASS_SCORE
from coaching.sql import Params, Where, merge, scope, sql_str

KORE, AUDIT, SENTIMENT = "Kore Evaluation Score", "Supervisor Audit Score", "Sentiment Score"
MEASURES = (KORE, AUDIT, SENTIMENT)
#: The views of the Score Trends page a lead sees, in order (docs/trends.md has a section for each).
VIEWS = ("Score trends", "Kore vs audit", "Coaching", "Disputes")
#: The labels of the span of dates (:class:`TrendFilters`' start and end) and of the grain.
DATES_LABEL, GRAIN_LABEL = "Interactions between", "Average per"
#: The filters that narrow the evaluations (:class:`TrendFilters`' fields), by the label a viewer reads.
FILTER_LABELS = {
    "teams": "Team", "agents": "Agent", "queues": "Queue", "forms": "Evaluation form",
    "coaching_areas": "Coaching area",
}
#: The two series of an agent's own trends.
YOU, TEAM_AVERAGE = "You", "Team average"
#: The coaching monitor's markers of a change of :data:`MONITOR_CHANGE` points or more.
SPIKE, DIP = "Spike", "Dip"
#: How a trend groups time; the SQL ``date_trunc`` part of each.
GRAINS = ("day", "week", "month")
#: The default span of the trends: the last 90 days.
DEFAULT_DAYS = 90
#: A team average of a score is shown to an agent only when at least this many agents of the team have
#: that score, so that it never stands for one colleague's scores.
MIN_TEAM_AGENTS = 3
#: Most agents Score trends draws a line each for; with more chosen it shows them as one.
MAX_COMPARED = 10
#: With the day grain, each average also has the average of the days ending on it (a rolling mean).
ROLLING_DAYS = 7
#: The coaching monitor's windows (Kore's): 7 days before assignment, and the last 7 days.
MONITOR_DAYS = 7
#: A change of the 7-day Kore average this large (points) is a spike or a dip.
MONITOR_CHANGE = 10.0
#: Most points a scatter draws (the most recent): beyond that a chart is unreadable and slow.
MAX_POINTS = 5_000


@dataclass(frozen=True)
class TrendFilters:
    """What the figures are narrowed to. Dates are inclusive and apply to the interaction's start."""

    start: date
    end: date
    teams: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    #: Evaluations of agents who have an assignment in any of these coaching areas.
    coaching_areas: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()

    @classmethod
    def last_days(cls, today: date, days: int = DEFAULT_DAYS, **narrowed: tuple[str, ...]) -> TrendFilters:
        return cls(start=today - timedelta(days=days - 1), end=today, **narrowed)

    @property
    def days(self) -> int:
        """How many days the dates span, both ends included."""
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> tuple[date, date]:
        """The first and last day of the period as long as the dates, just before them."""
        return self.start - timedelta(days=self.days), self.start - timedelta(days=1)


def _evaluations_where(viewer: Viewer, filters: TrendFilters, *, dates: bool = True) -> Where:
    """The conditions on ``e`` (evaluations) joined to ``p`` (the scored agent in people): the
    viewer's scope, the interaction's dates (unless ``dates`` is false) and the filters."""
    where = Where().scope(viewer, "e.person_id")
    if dates:
        where.between_days("e.start_time", filters.start, filters.end)
    where.one_of("p.team", "teams", filters.teams).one_of("e.person_id", "agents", filters.agents)
    where.any_of("e.queues", "queues", filters.queues).one_of("e.evaluation_form", "forms", filters.forms)
    if filters.coaching_areas:
        where.add("e.person_id IN (SELECT person_id FROM assignments WHERE list_has_any(coaching_areas, $areas))",
                  {"areas": list(filters.coaching_areas)})
    return where


#: The evaluations (``e``) with their agent (``p``), for :func:`_evaluations_where`.
_FROM_EVALUATIONS = "FROM evaluations e LEFT JOIN people p USING (person_id)"
#: The same with each evaluation's review (``r``), for the final audit score (:data:`AUDIT_SQL`).
_FROM = f"{_FROM_EVALUATIONS} LEFT JOIN evaluation_reviews r USING (conversation_id)"


def _grain(grain: str) -> str:
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}; expected one of {', '.join(GRAINS)}")
    return grain


def filter_options(con: duckdb.DuckDBPyConnection, viewer: Viewer) -> dict[str, Any]:
    """What each filter can offer in the viewer's scope: teams, agents (person_ids, by label), their
    ``agent_labels`` (name, with the email where two share it), queues, coaching areas, forms."""
    in_scope, params = scope(viewer, "e.person_id")
    row = con.execute(
        f"""SELECT list_sort(list(DISTINCT p.team) FILTER (WHERE p.team IS NOT NULL)),
                   list_sort(list(DISTINCT e.evaluation_form) FILTER (WHERE e.evaluation_form IS NOT NULL))
            FROM evaluations e LEFT JOIN people p USING (person_id) WHERE {in_scope}""",
        params,
    ).fetchone() or (None, None)
    queues = con.execute(
        f"SELECT DISTINCT unnest(e.queues) AS q FROM evaluations e WHERE {in_scope} ORDER BY q", params
    ).fetchall()
    area_scope, area_params = scope(viewer, "a.person_id")
    areas = con.execute(
        f"SELECT DISTINCT unnest(a.coaching_areas) AS area FROM assignments a WHERE {area_scope} "
        "ORDER BY area",
        area_params,
    ).fetchall()
    # Agents are chosen by who they are; a name two of them share is told apart by email (or Agent ID).
    agents = con.execute(
        f"""SELECT person_id, {people.LABEL} AS label
            FROM (SELECT DISTINCT e.person_id, coalesce(p.name, e.scored_agent) AS name, p.email, p.agent_id
                  FROM evaluations e LEFT JOIN people p USING (person_id) WHERE {in_scope})
            ORDER BY label, person_id""",
        params,
    ).fetchall()
    teams, forms = (list(v or []) for v in row)
    return {"teams": teams, "agents": [a for a, _ in agents], "agent_labels": dict(agents),
            "queues": [q for (q,) in queues], "coaching_areas": [a for (a,) in areas], "forms": forms}


#: SQL: the three scores' averages and counts of the evaluations ``e`` (with their reviews ``r``) grouped.
_MEASURES_SQL = (f"avg(e.kore_score) AS kore, count(e.kore_score) AS kore_n, avg({AUDIT_SQL}) AS audit, "
                 f"count({AUDIT_SQL}) AS audit_n, avg(e.sentiment_score) AS sentiment, "
                 "count(e.sentiment_score) AS sentiment_n")


def _tidy_sql(keys: tuple[str, ...], grain: str) -> str:
    """SQL: the rows of ``per`` (one per ``keys`` and period, with :data:`_MEASURES_SQL`' columns) as one
    row per measure: keys, period, measure, mean, n, thin, rolling_mean, rolling_n, and ``o`` (the
    measure's place, to order by). A measure with no score in a period has no row.

    With the day grain, ``rolling_mean`` is the average of every evaluation in the :data:`ROLLING_DAYS`
    days ending on the row's day (``rolling_n`` of them), for the same keys and measure; with week or
    month both are NULL."""
    listed = "".join(f"{key}, " for key in keys)
    if _grain(grain) == "day":
        window = (f"OVER (PARTITION BY {listed}measure ORDER BY period "
                  f"RANGE BETWEEN INTERVAL {ROLLING_DAYS - 1} DAYS PRECEDING AND CURRENT ROW)")
        rolling = f"sum(mean * n) {window} / sum(n) {window} AS rolling_mean, (sum(n) {window})::BIGINT AS rolling_n"
    else:
        rolling = "NULL::DOUBLE AS rolling_mean, NULL::BIGINT AS rolling_n"
    return f"""SELECT {listed}period, measure, mean, n, n < {FEW} AS thin, {rolling}, o FROM (
                   SELECT {listed}period, '{KORE}' AS measure, kore AS mean, kore_n AS n, 0 AS o FROM per
                   UNION ALL SELECT {listed}period, '{AUDIT}', audit, audit_n, 1 FROM per
                   UNION ALL SELECT {listed}period, '{SENTIMENT}', sentiment, sentiment_n, 2 FROM per)
               WHERE n > 0"""


def score_trends(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, filters: TrendFilters, grain: str = "week"
) -> pd.DataFrame:
    """The three scores per period, tidy: period, measure, mean, n (evaluations behind the mean),
    thin (n < :data:`FEW`), rolling_mean and rolling_n (day grain only: :func:`_tidy_sql`). A period
    with no score of a measure has no row for it."""
    where = _evaluations_where(viewer, filters)
    return con.execute(
        f"""WITH per AS (
                SELECT date_trunc('{_grain(grain)}', e.start_time)::DATE AS period, {_MEASURES_SQL}
                {_FROM} WHERE {where.sql} GROUP BY ALL)
            SELECT * EXCLUDE (o) FROM ({_tidy_sql((), grain)}) ORDER BY period, o""",
        where.params,
    ).df()


def compares_agents(filters: TrendFilters) -> bool:
    """Whether Score trends draws a line per agent (:func:`agent_score_trends`): 2 to
    :data:`MAX_COMPARED` agents chosen. With one it is their line; with more, one line for them all."""
    return 2 <= len(filters.agents) <= MAX_COMPARED


def _labels_sql(viewer: Viewer) -> tuple[str, Params]:
    """SQL: the people in the viewer's scope (person_id, label, team), each labelled by name, with their
    email (or Agent ID) where another of them has the same name (:data:`coaching.people.LABEL`)."""
    in_scope, params = scope(viewer, "p.person_id")
    return f"SELECT person_id, {people.LABEL} AS label, team FROM people p WHERE {in_scope}", params


def agent_score_trends(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, filters: TrendFilters, grain: str = "week"
) -> pd.DataFrame:
    """:func:`score_trends` for each agent chosen in ``filters.agents`` (1 to :data:`MAX_COMPARED`) and
    in the viewer's scope: person_id, agent (their name, with their email where another agent the
    viewer sees has it too), period, measure, mean, n, thin, rolling_mean, rolling_n. By agent, then
    period. An agent with no scores in the dates has no rows."""
    if not 1 <= len(filters.agents) <= MAX_COMPARED:
        raise ValueError(f"a line per agent is drawn for 1 to {MAX_COMPARED} agents, not {len(filters.agents)}")
    where = _evaluations_where(viewer, filters)
    labels, label_params = _labels_sql(viewer)
    return con.execute(
        f"""WITH per AS (
                SELECT e.person_id, date_trunc('{_grain(grain)}', e.start_time)::DATE AS period, {_MEASURES_SQL}
                {_FROM} WHERE {where.sql} GROUP BY ALL),
            tidy AS ({_tidy_sql(("person_id",), grain)})
            SELECT t.person_id, l.label AS agent, t.* EXCLUDE (person_id, o)
            FROM tidy t JOIN ({labels}) l USING (person_id)
            ORDER BY agent, t.person_id, t.period, t.o""",
        merge(where.params, label_params),  # the scope binds the same names and values in both
    ).df()


@dataclass(frozen=True)
class ScopedAgent:
    """An agent a viewer may see: who they are, how they are shown, their roster team."""

    person_id: str
    label: str
    team: str | None


def agent_in_scope(con: duckdb.DuckDBPyConnection, viewer: Viewer, person_id: str) -> ScopedAgent:
    """The person ``person_id`` (from a link: anything) if the viewer may see them, labelled as
    :func:`agent_score_trends` labels them. :class:`~coaching.access.AccessDenied` otherwise, with the
    same message whether they are someone else's or no one, so a link tells nothing of who exists."""
    labels, params = _labels_sql(viewer)
    row = con.execute(f"SELECT person_id, label, team FROM ({labels}) WHERE person_id = $person",
                      {**params, "person": person_id}).fetchone()
    if row is None:
        raise AccessDenied(f"No agent “{person_id}” is among the agents you can see, so there are no score "
                           "trends to show. Check the link, or choose an agent from your team's Score Trends.")
    return ScopedAgent(*row)


#: SQL: for the evaluations ``e`` (with their reviews ``r``) grouped, how many agents have each score
#: (``kore_agents``, ``audit_agents``, ``sentiment_agents``): a team's average of a score is shown only where
#: :data:`MIN_TEAM_AGENTS` or more have it.
_TEAM_AGENTS_SQL = ", ".join(
    f"count(DISTINCT e.person_id) FILTER (WHERE {score} IS NOT NULL) AS {prefix}_agents"
    for prefix, score in (("kore", "e.kore_score"), ("audit", AUDIT_SQL), ("sentiment", "e.sentiment_score")))


def _team_shown_sql() -> str:
    """SQL: :data:`_MEASURES_SQL`' columns of a team's group, each score's left out (NULL, counted 0) where
    fewer than :data:`MIN_TEAM_AGENTS` agents have it (:data:`_TEAM_AGENTS_SQL`)."""
    return ", ".join(
        f"CASE WHEN {prefix}_agents >= {MIN_TEAM_AGENTS} THEN {prefix} END AS {prefix}, "
        f"CASE WHEN {prefix}_agents >= {MIN_TEAM_AGENTS} THEN {prefix}_n ELSE 0 END AS {prefix}_n"
        for prefix in ("kore", "audit", "sentiment"))


def _whose(con: duckdb.DuckDBPyConnection, viewer: Viewer, agent: str | None) -> tuple[str, str | None, str]:
    """Whose own trends the viewer asks for (``agent``: a person_id, or None for an agent's own): their
    person_id, roster team and series name ("You" for an agent, else their label). An agent sees only their
    own; a lead, QA or an admin names an agent in their scope (:func:`agent_in_scope`, else AccessDenied)."""
    if viewer.role == AGENT:
        if agent not in (None, viewer.person_id):
            raise AccessDenied("Agents see their own score trends only.")
        return viewer.person_id, viewer.team, YOU
    if agent is None:
        raise ValueError("own trends are an agent's view: name the agent")
    seen = agent_in_scope(con, viewer, agent)
    return seen.person_id, seen.team, seen.label


def own_trends(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, filters: TrendFilters, grain: str = "week",
    agent: str | None = None,
) -> pd.DataFrame:
    """An agent's own scores per period beside their team's average: series ("You", or the agent's label
    when someone else looks, or "Team average"), period, measure, mean, n, thin, rolling_mean, rolling_n.
    The team average covers the agent's roster team (themself included); a score's is left out of any
    period where fewer than :data:`MIN_TEAM_AGENTS` agents have that score (three agents evaluated in a
    week, two of them audited, give no team audit average: it would tell each of the two the other's).
    Only aggregates leave the store: never another agent's rows.

    An agent sees their own (``agent`` None or themself); a lead, QA or an admin names the ``agent``
    (a person_id), who must be in their scope (:func:`agent_in_scope`, else AccessDenied)."""
    person, team, series = _whose(con, viewer, agent)
    period = f"date_trunc('{_grain(grain)}', e.start_time)::DATE"
    dates = Where().between_days("e.start_time", filters.start, filters.end)
    mine = Where().scope(viewer, "e.person_id").add("e.person_id = $person", {"person": person})
    return con.execute(
        f"""WITH mine AS (
                SELECT $series AS series, {period} AS period, {_MEASURES_SQL}, 1 AS agents_n
                {_FROM} WHERE {mine.sql} AND {dates.sql} GROUP BY ALL),
            team AS (
                SELECT series, period, {_team_shown_sql()}, agents_n FROM (
                    SELECT {sql_str(TEAM_AVERAGE)} AS series, {period} AS period, {_MEASURES_SQL},
                           {_TEAM_AGENTS_SQL}, count(DISTINCT e.person_id) AS agents_n
                    {_FROM} WHERE p.team = $team AND p.team IS NOT NULL AND {dates.sql} GROUP BY ALL)),
            per AS (SELECT * FROM mine UNION ALL SELECT * FROM team)
            SELECT * EXCLUDE (o) FROM ({_tidy_sql(("series",), grain)})
            ORDER BY series = {sql_str(TEAM_AVERAGE)}, period, o""",
        merge(dates.params, mine.params, {"team": team, "series": series}),
    ).df()


#: The scores of the headline figures: their column prefix in :data:`_MEASURES_SQL`, by measure.
_PREFIXES = {KORE: "kore", AUDIT: "audit", SENTIMENT: "sentiment"}


def own_headline(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, filters: TrendFilters, agent: str | None = None,
    pass_score: float = DEFAULT_PASS_SCORE,
) -> pd.DataFrame:
    """The headline figures of an agent's own trends (whose: as :func:`own_trends`), one row per measure in
    :data:`MEASURES`' order, each row there even without scores: the agent's average over ``filters``'
    dates (mean, n), over the period as long just before them (previous_mean, previous_n), the change
    (NULL where either side rests on fewer than :data:`FEW`), the average's verdict against ``pass_score``
    (Pass or Fail, :func:`coaching.scores.verdict_sql`; NULL for sentiment, which has no pass score, and
    without scores), and their team's average over the dates (team_mean, team_n, team_agents: NULL where
    fewer than :data:`MIN_TEAM_AGENTS` agents have that score in the dates, so that it never stands for
    one colleague's scores). Only aggregates leave the store."""
    person, team, _ = _whose(con, viewer, agent)
    previous_start, _ = filters.previous
    mine = Where().scope(viewer, "e.person_id").add("e.person_id = $person", {"person": person})
    dates = Where().between_days("e.start_time", filters.start, filters.end)
    rows = " UNION ALL ".join(
        f"""SELECT {sql_str(measure)} AS measure, {order} AS o, n.{prefix} AS mean, coalesce(n.{prefix}_n, 0) AS n,
                   b.{prefix} AS previous_mean, coalesce(b.{prefix}_n, 0) AS previous_n,
                   CASE WHEN t.{prefix}_agents >= {MIN_TEAM_AGENTS} THEN t.{prefix} END AS team_mean,
                   CASE WHEN t.{prefix}_agents >= {MIN_TEAM_AGENTS} THEN t.{prefix}_n END AS team_n,
                   CASE WHEN t.{prefix}_agents >= {MIN_TEAM_AGENTS} THEN t.{prefix}_agents END AS team_agents,
                   {'NULL' if measure == SENTIMENT else 'true'} AS judged
            FROM team t LEFT JOIN now n ON true LEFT JOIN before b ON true"""
        for order, (measure, prefix) in enumerate(_PREFIXES.items()))
    return con.execute(
        f"""WITH sides AS (
                SELECT e.start_time >= $start::DATE AS current, {_MEASURES_SQL}
                {_FROM} WHERE {mine.sql} AND e.start_time >= $previous_start::DATE AND e.start_time < $end::DATE + 1
                GROUP BY ALL),
            now AS (SELECT * FROM sides WHERE current),
            before AS (SELECT * FROM sides WHERE NOT current),
            team AS (
                SELECT {_MEASURES_SQL}, {_TEAM_AGENTS_SQL}
                {_FROM} WHERE p.team = $team AND p.team IS NOT NULL AND {dates.sql}),
            measures AS ({rows})
            SELECT measure, mean, n, previous_mean, previous_n,
                   CASE WHEN n >= {FEW} AND previous_n >= {FEW} THEN mean - previous_mean END AS change,
                   CASE WHEN judged THEN {verdict_sql("mean")} END AS verdict,
                   team_mean, coalesce(team_n, 0) AS team_n, coalesce(team_agents, 0) AS team_agents
            FROM measures ORDER BY o""",
        merge(dates.params, mine.params, scores.pass_score(pass_score),
              {"team": team, "previous_start": previous_start}),
    ).df()


#: The headline's name of each measure's average.
HEADLINE_LABELS = {KORE: "Kore average", AUDIT: "Audit average", SENTIMENT: "Sentiment average"}


@dataclass(frozen=True)
class HeadlineFigure:
    """One headline figure as a page writes it (:func:`headline_figures`)."""

    measure: str
    label: str  # "Kore average"
    value: str  # "54.6", or "—" without scores
    change: str | None  # "+3.2" against the period before; None where a side has too few scores
    #: What the value rests on and how it compares: "52 evaluations · at or above the pass score (40) · team
    #: 56.5 (12 agents)"; and why there is no change though there are scores ("too few to compare").
    details: str


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def headline_figures(headline: pd.DataFrame, pass_score: float = DEFAULT_PASS_SCORE) -> list[HeadlineFigure]:
    """:func:`own_headline`'s rows in words, one figure per row in its order; ``pass_score`` is the one it
    judged the averages by."""
    figures = []
    for row in headline.to_dict("records"):
        n = int(row["n"])
        noun = "audit" if row["measure"] == AUDIT else "evaluation"
        parts = [_plural(n, noun) if n else "no scores in these dates"]
        if n and row["verdict"] is not None and not pd.isna(row["verdict"]):
            passes = row["verdict"] == scores.PASS
            parts.append(f"{'at or above' if passes else 'below'} the pass score ({pass_score:g})")
        if not pd.isna(row["team_mean"]):
            parts.append(f"team {row['team_mean']:.1f} ({_plural(int(row['team_agents']), 'agent')})")
        elif n:
            parts.append(f"no team average (fewer than {MIN_TEAM_AGENTS} agents)")
        change = None if pd.isna(row["change"]) else f"{row['change']:+.1f}"
        before = int(row["previous_n"])
        if n and change is None:
            parts.append(f"too few to compare (fewer than {FEW})" if n < FEW
                         else "none in the period before to compare with" if before == 0
                         else f"only {before} in the period before: too few to compare")
        figures.append(HeadlineFigure(
            measure=row["measure"], label=HEADLINE_LABELS[row["measure"]],
            value="—" if pd.isna(row["mean"]) else f"{row['mean']:.1f}", change=change, details=" · ".join(parts)))
    return figures


def kore_vs_audit(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, filters: TrendFilters, limit: int = MAX_POINTS
) -> pd.DataFrame:
    """Audited interactions with a Kore score, the most recent ``limit``: conversation_id, agent,
    start_time, kore_score, audit_score, gap (audit − Kore)."""
    where = _evaluations_where(viewer, filters)
    return con.execute(
        f"""SELECT e.conversation_id, e.scored_agent AS agent, e.person_id, e.start_time, e.kore_score,
                   {AUDIT_SQL} AS audit_score, {AUDIT_SQL} - e.kore_score AS gap
            {_FROM} WHERE {where.sql} AND e.kore_score IS NOT NULL AND {AUDIT_SQL} IS NOT NULL
            ORDER BY e.start_time DESC, e.conversation_id LIMIT $limit""",
        {**where.params, "limit": limit},
    ).df()


def audit_gap_by_agent(con: duckdb.DuckDBPyConnection, viewer: Viewer, filters: TrendFilters) -> pd.DataFrame:
    """Per agent (person_id): agent (their name, with their email where two share it: one row each),
    n audited interactions with both scores, mean_gap (audit − Kore), sd_gap (NaN below 2), mean_kore,
    mean_audit; largest disagreement first."""
    where = _evaluations_where(viewer, filters)
    return con.execute(
        f"""SELECT {people.LABEL} AS agent, * EXCLUDE (name, email, agent_id) FROM (
                SELECT coalesce(any_value(p.name), any_value(e.scored_agent)) AS name, any_value(p.email) AS email,
                       any_value(p.agent_id) AS agent_id, e.person_id, count(*) AS n,
                       avg({AUDIT_SQL} - e.kore_score) AS mean_gap,
                       stddev_samp({AUDIT_SQL} - e.kore_score) AS sd_gap, avg(e.kore_score) AS mean_kore,
                       avg({AUDIT_SQL}) AS mean_audit
                {_FROM} WHERE {where.sql} AND e.kore_score IS NOT NULL AND {AUDIT_SQL} IS NOT NULL
                GROUP BY e.person_id)
            ORDER BY abs(mean_gap) DESC, agent, person_id""",
        where.params,
    ).df()


def metric_overturns(con: duckdb.DuckDBPyConnection, viewer: Viewer, filters: TrendFilters) -> pd.DataFrame:
    """Per metric scored in scope (at least once), over the evaluations of interactions that started in
    ``filters``' dates (whenever they were audited, disputed or answered): evaluated (times it was scored),
    not_adhered, audited (audited evaluations that scored it: the audit is in the review log), disputed
    (evaluations where it was disputed, in any round), dispute_rate (disputed / audited: the same ratio
    as :func:`dispute_trends`' rate, over other evaluations: that one takes the audits *submitted* in the
    dates), overturned (disputes of it the reviewer accepted), overturn_share (overturned / answered
    disputes of it), mean_rounds (completed dispute rounds of the evaluations that disputed it) and
    median_days_to_resolve (audit to completion, of those evaluations that are completed); most
    overturned first."""
    where = _evaluations_where(viewer, filters)
    return con.execute(
        f"""WITH chosen AS (SELECT e.conversation_id {_FROM_EVALUATIONS} WHERE {where.sql}),
            -- From the evaluations' own lists of scored and not-adhered metrics (a join to the long
            -- metric rows cost a second over everyone's), each read straight from the table: keeping
            -- the lists in ``chosen`` for a second read cost more than reading them again.
            -- An evaluation is audited when the review log has its audit (an evaluation_reviews row), as
            -- dispute_trends counts audits.
            scored AS (
                SELECT metric, count(*) FILTER (WHERE NOT not_adhered) AS evaluated,
                       count(*) FILTER (WHERE not_adhered) AS not_adhered,
                       count(*) FILTER (WHERE NOT not_adhered AND audited) AS audited
                FROM (SELECT unnest(e.scored_metrics) AS metric, false AS not_adhered,
                             e.conversation_id IN (SELECT conversation_id FROM evaluation_reviews) AS audited
                      {_FROM_EVALUATIONS} WHERE {where.sql}
                      UNION ALL SELECT unnest(e.not_adhered_metrics), true, false {_FROM_EVALUATIONS}
                      WHERE {where.sql})
                GROUP BY metric),
            events AS ({dispute_answers_sql("chosen", per_metric=True)}),
            disputes AS (
                SELECT d.metric, count(*) FILTER (WHERE d.was_disputed) AS disputed,
                       sum(d.accepted) AS overturned, sum(d.answered) AS answered,
                       avg(r.dispute_rounds) FILTER (WHERE d.was_disputed) AS mean_rounds,
                       median(epoch(r.completed_at - r.audited_at) / 86400.0) FILTER (WHERE d.was_disputed)
                           AS median_days_to_resolve
                FROM events d JOIN evaluation_reviews r USING (conversation_id) GROUP BY ALL)
            SELECT s.metric, s.evaluated, s.not_adhered, s.audited, coalesce(d.disputed, 0) AS disputed,
                   coalesce(d.disputed, 0) / nullif(s.audited, 0) AS dispute_rate,
                   coalesce(d.overturned, 0) AS overturned,
                   CASE WHEN d.answered > 0 THEN d.overturned / d.answered END AS overturn_share,
                   d.mean_rounds, d.median_days_to_resolve
            FROM scored s LEFT JOIN disputes d USING (metric)
            ORDER BY overturned DESC, disputed DESC, s.metric""",
        where.params,  # bound once for chosen and the two lists
    ).df()


def dispute_trends(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, filters: TrendFilters, grain: str = "week"
) -> pd.DataFrame:
    """Per period of the audit, over the audits *submitted* in ``filters``' dates (the review log's
    Audit Submitted, whenever the interaction was; the other filters as everywhere): audited, disputed
    (evaluations with a disputed metric, :data:`~coaching.review_machine.DISPUTED_SQL`), dispute_rate,
    mean_rounds (completed dispute rounds of the disputed ones), overturn_share (accepted / answered
    disputes), resolved (reviews completed), median_days_to_resolve (from audit to completion, completed
    reviews only). :func:`metric_overturns` and the Team view take evaluations by the interaction's start
    instead."""
    where = _evaluations_where(viewer, filters, dates=False).between_days("r.audited_at", filters.start, filters.end)
    return con.execute(
        f"""WITH reviewed AS (
                SELECT r.*, date_trunc('{_grain(grain)}', r.audited_at)::DATE AS period
                {_FROM} WHERE {where.sql}),
            answers AS ({dispute_answers_sql("reviewed")})
            SELECT r.period, count(*) AS audited,
                   count(*) FILTER (WHERE {DISPUTED_SQL}) AS disputed,
                   count(*) FILTER (WHERE {DISPUTED_SQL}) / count(*) AS dispute_rate,
                   avg(r.dispute_rounds) FILTER (WHERE {DISPUTED_SQL}) AS mean_rounds,
                   sum(a.accepted) / nullif(sum(a.answered), 0) AS overturn_share,
                   count(r.completed_at) AS resolved,
                   median(epoch(r.completed_at - r.audited_at) / 86400.0) AS median_days_to_resolve
            FROM reviewed r LEFT JOIN answers a USING (conversation_id)
            GROUP BY r.period ORDER BY r.period""",
        where.params,
    ).df()


def _assignments_where(viewer: Viewer, filters: TrendFilters | None) -> Where:
    """The conditions on ``a`` (assignments): the viewer's scope and, given ``filters``, assignments made
    in their dates to their agents, coaching areas and teams."""
    where = Where().scope(viewer, "a.person_id")
    if filters is not None:
        where.between_days("a.assigned_date", filters.start, filters.end)
        where.one_of("a.person_id", "agents", filters.agents)
        where.any_of("a.coaching_areas", "areas", filters.coaching_areas)
        if filters.teams:
            where.add("a.person_id IN (SELECT person_id FROM people WHERE list_contains($teams, team))",
                      {"teams": list(filters.teams)})
    return where


def coaching_monitor(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, today: date, filters: TrendFilters | None = None
) -> pd.DataFrame:
    """The assignments in scope (assigned within ``filters``' dates, if given) with the agent's Kore
    average over the 7 days before the assigned date (kore_before, n_before) and over the last 7 days to
    ``today`` (kore_recent, n_recent), the change, and a marker: "Spike" or "Dip" when it moved by
    :data:`MONITOR_CHANGE` points or more. Newest assignment first."""
    chosen = _assignments_where(viewer, filters)
    return con.execute(
        f"""WITH chosen AS (
                SELECT a.assignment_id, a.agent, a.person_id, a.name, a.assigned_date, a.follow_up_date,
                       a.coaching_areas, a.status FROM assignments a WHERE {chosen.sql}),
            before AS (
                SELECT c.assignment_id, c.person_id, avg(e.kore_score) AS kore_before,
                       count(e.kore_score) AS n_before
                FROM chosen c JOIN evaluations e ON e.person_id = c.person_id
                 AND e.start_time >= c.assigned_date - {MONITOR_DAYS} AND e.start_time < c.assigned_date
                GROUP BY ALL),
            recent AS (
                SELECT e.person_id, avg(e.kore_score) AS kore_recent,
                       count(e.kore_score) AS n_recent
                FROM evaluations e WHERE e.person_id IN (SELECT person_id FROM chosen)
                 AND e.start_time >= $today::DATE - {MONITOR_DAYS - 1} AND e.start_time < $today::DATE + 1
                GROUP BY ALL)
            SELECT c.*, b.kore_before, coalesce(b.n_before, 0) AS n_before, r.kore_recent,
                   coalesce(r.n_recent, 0) AS n_recent, r.kore_recent - b.kore_before AS change,
                   CASE WHEN r.kore_recent - b.kore_before >= {MONITOR_CHANGE} THEN {sql_str(SPIKE)}
                        WHEN r.kore_recent - b.kore_before <= -{MONITOR_CHANGE} THEN {sql_str(DIP)} END AS marker
            FROM chosen c LEFT JOIN before b USING (assignment_id, person_id) LEFT JOIN recent r USING (person_id)
            ORDER BY c.assigned_date DESC, c.assignment_id, c.person_id""",
        {**chosen.params, "today": today},
    ).df()


def _coaching_effect_sql(viewer: Viewer, filters: TrendFilters, window_days: int) -> tuple[str, Params]:
    if window_days < 1:
        raise ValueError("the window is at least 1 day")
    chosen = _assignments_where(viewer, filters)
    agents_scope, _ = scope(viewer, "e.person_id")  # the same parameters as the assignments' scope
    w = int(window_days)
    return (
        f"""WITH chosen AS (
                SELECT a.assignment_id, a.agent, a.person_id, a.name, a.assigned_date, a.coaching_areas
                FROM assignments a WHERE {chosen.sql}),
            dates AS (SELECT DISTINCT assigned_date AS d FROM chosen),
            -- Each agent's Kore sums per day, read once: the coached agent's two sides and the uncoached
            -- agents' change both come from them (a look-up of evaluations per assignment cost more).
            days AS (
                SELECT e.person_id, e.start_time::DATE AS day, sum(e.kore_score) AS total,
                       sum(e.kore_score * e.kore_score) AS squares, count(e.kore_score) AS n
                FROM evaluations e
                WHERE {agents_scope} AND e.start_time >= (SELECT min(d) FROM dates) - {w}
                  AND e.start_time < (SELECT max(d) FROM dates) + {w}
                GROUP BY ALL),
            -- The coached agent's two sides, from the days' sums: count, sum and sum of squares of each,
            -- for the means and the change's standard error (coaching.scores.change_se_sql).
            sides AS (
                SELECT c.assignment_id, c.person_id,
                       sum(y.total) FILTER (WHERE y.day < c.assigned_date) AS before_sum,
                       sum(y.squares) FILTER (WHERE y.day < c.assigned_date) AS before_squares,
                       coalesce(sum(y.n) FILTER (WHERE y.day < c.assigned_date), 0)::BIGINT AS before_n,
                       sum(y.total) FILTER (WHERE y.day >= c.assigned_date) AS after_sum,
                       sum(y.squares) FILTER (WHERE y.day >= c.assigned_date) AS after_squares,
                       coalesce(sum(y.n) FILTER (WHERE y.day >= c.assigned_date), 0)::BIGINT AS after_n
                FROM chosen c JOIN days y ON y.person_id = c.person_id
                 AND y.day >= c.assigned_date - {w} AND y.day < c.assigned_date + {w}
                GROUP BY ALL),
            moments AS (
                SELECT assignment_id, person_id, before_n, after_n,
                       {mean_sql("before")} AS before_mean, {mean_sql("after")} AS after_mean,
                       {change_se_sql("before", "after")} AS change_se
                FROM sides),
            everyone AS (
                SELECT t.d, sum(y.total) FILTER (WHERE y.day < t.d) AS before_total,
                       sum(y.n) FILTER (WHERE y.day < t.d) AS before_n,
                       sum(y.total) FILTER (WHERE y.day >= t.d) AS after_total,
                       sum(y.n) FILTER (WHERE y.day >= t.d) AS after_n
                FROM dates t JOIN (SELECT day, sum(total) AS total, sum(n) AS n FROM days GROUP BY day) y
                  ON y.day >= t.d - {w} AND y.day < t.d + {w}
                GROUP BY t.d),
            coached AS (
                SELECT DISTINCT t.d, x.person_id FROM dates t JOIN assignments x
                  ON x.assigned_date > t.d - {w} AND x.assigned_date < t.d + {w}),
            coached_days AS (
                SELECT k.d, sum(y.total) FILTER (WHERE y.day < k.d) AS before_total,
                       sum(y.n) FILTER (WHERE y.day < k.d) AS before_n,
                       sum(y.total) FILTER (WHERE y.day >= k.d) AS after_total,
                       sum(y.n) FILTER (WHERE y.day >= k.d) AS after_n
                FROM coached k JOIN days y ON y.person_id = k.person_id AND y.day >= k.d - {w} AND y.day < k.d + {w}
                GROUP BY k.d),
            uncoached AS (
                SELECT a.d AS assigned_date,
                       (a.after_total - coalesce(c.after_total, 0))
                           / nullif(a.after_n - coalesce(c.after_n, 0), 0)
                       - (a.before_total - coalesce(c.before_total, 0))
                           / nullif(a.before_n - coalesce(c.before_n, 0), 0) AS uncoached_change
                FROM everyone a LEFT JOIN coached_days c USING (d)),
            SELECT c.assignment_id, c.agent, c.person_id, c.name, c.assigned_date, c.coaching_areas,
                   lead.name AS lead, s.before_mean, coalesce(s.before_n, 0) AS before_n,
                   s.after_mean, coalesce(s.after_n, 0) AS after_n,
                   s.after_mean - s.before_mean AS change,
                   s.after_mean - s.before_mean - 1.96 * s.change_se AS change_low,
                   s.after_mean - s.before_mean + 1.96 * s.change_se AS change_high,
                   u.uncoached_change, s.after_mean - s.before_mean - u.uncoached_change AS effect
            FROM chosen c LEFT JOIN moments s USING (assignment_id, person_id)
            LEFT JOIN uncoached u USING (assigned_date)
            LEFT JOIN people p USING (person_id) LEFT JOIN people lead ON lead.person_id = p.team_lead_email
            ORDER BY c.assigned_date DESC, c.assignment_id, c.person_id""",
        chosen.params,
    )


def coaching_effect(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, filters: TrendFilters, window_days: int = 7
) -> pd.DataFrame:
    """For each assignment assigned within ``filters``' dates: the coached agent's Kore scores in the
    ``window_days`` before the assigned date against the ``window_days`` from it (mean, n and sd on each
    side), the change with a 95% interval (normal approximation; NaN when a side has fewer than 2), and
    the same change for uncoached agents (agents in scope with no assignment within ``window_days`` of
    the date, pooled) over the same dates, and ``effect``: the coached change minus the uncoached one.

    Columns: assignment_id, agent, name, assigned_date, coaching_areas, lead (the agent's team lead),
    before_mean, before_n, after_mean, after_n, change, change_low, change_high, uncoached_change,
    effect."""
    sql, params = _coaching_effect_sql(viewer, filters, window_days)
    return con.execute(sql, params).df()


def coaching_effect_report(
    con: duckdb.DuckDBPyConnection, viewer: Viewer, filters: TrendFilters, window_days: int = 7
) -> dict[str, pd.DataFrame]:
    """What the Coaching view shows, in one call a page can cache: ``effects`` (:func:`coaching_effect`)
    and its summaries per ``coaching_area`` and per ``lead`` (:func:`coaching_effect_summary`)."""
    effects = coaching_effect(con, viewer, filters, window_days)
    return {"effects": effects,
            **{by: coaching_effect_summary(effects, by, con) for by in ("coaching_area", "lead")}}


#: The columns of :func:`coaching_effect_summary`, after the grouping one.
SUMMARY_COLUMNS = ("assignments", "measured", "mean_change", "mean_uncoached_change", "mean_effect")


def coaching_effect_summary(
    effects: pd.DataFrame, by: str, con: duckdb.DuckDBPyConnection | None = None
) -> pd.DataFrame:
    """The rows of :func:`coaching_effect` summarised in SQL per coaching area (``by="coaching_area"``:
    an assignment counts once for each of its areas) or per lead (``by="lead"``): assignments, measured
    (a change on both sides), mean_change, mean_uncoached_change, mean_effect; largest effect first.

    It takes the rows a page already has rather than querying the store again, so the effect (the
    expensive part) is computed once for the rows and both summaries. ``con``: a connection to run on
    (the store's, which only reads the rows handed to it); else a new in-memory one."""
    if by not in ("coaching_area", "lead"):
        raise ValueError("summaries are per coaching_area or per lead")
    if effects.empty:
        return pd.DataFrame(columns=[by, *SUMMARY_COLUMNS])
    rows = "SELECT unnest(coaching_areas) AS coaching_area, * FROM effect_rows" if by == "coaching_area" \
        else "SELECT * FROM effect_rows"
    grouped = "coaching_areas" if by == "coaching_area" else by
    runner = duckdb.connect() if con is None else con.cursor()  # a cursor of its own: the name stays local
    try:
        runner.register("effect_rows", effects[[grouped, "change", "uncoached_change", "effect"]])
        return runner.execute(
            f"""SELECT {by}, count(*) AS assignments, count(change) AS measured, avg(change) AS mean_change,
                       avg(uncoached_change) AS mean_uncoached_change, avg(effect) AS mean_effect
                FROM ({rows}) GROUP BY {by} ORDER BY mean_effect DESC NULLS LAST, {by}"""
        ).df()
    finally:
        runner.unregister("effect_rows")
        runner.close()
