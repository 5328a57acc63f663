"""The metric heatmap: each agent in the viewer's scope against each evaluation metric, the share of their
scored interactions where the metric was *not adhered*, beside their team's rate for that metric.

* :func:`metric_heatmap`: one row per (agent, metric) cell, computed in one query from the evaluations'
  own lists of scored and not-adhered metrics (``scored_metrics``, ``not_adhered_metrics``), never from
  the long ``evaluation_metrics`` rows.
* :func:`arrange`: which agents a chart draws, and in what order (furthest above their team's rate, by
  name, or on one metric): beyond :data:`MOST_AGENTS` a heatmap is a wall, not a picture.
* :func:`not_adhered_interactions`: the drill-down, one agent's interactions where one metric was not
  adhered: the candidates a lead would mark for coaching.

What it covers is the Team view's (:class:`coaching.team.TeamFilters`: dates and teams, the teams offered by
:func:`coaching.team.team_choices`), and so are its agents: the roster's agents (``role = 'Agent'``) in the
viewer's scope and the chosen teams, here those with a scored interaction in the dates.

Definitions (the words the page uses):

* **Scored**: interactions where the metric has a result (Adhered, Not Adhered or Not Applicable), as
  the Score Trends' "Scored" counts them. **Not adhered**: those whose result is Not Adhered. **Share not
  adhered** = not adhered ÷ scored.
* **Team rate** of a metric, for an agent: the share not adhered over the agents of *their* team in the
  heatmap (the viewer's scope, narrowed by the chosen teams) in the same dates, i.e. Σ not adhered ÷ Σ
  scored. Each agent is compared with their own team, however many teams are shown; agents without a team
  are compared with the other agents without a team.
* **Against the team rate** (``above_team``): the cell's share minus the team rate, in percentage points;
  above zero the agent misses the metric more often than their team does. The colour shows it.
* An agent's **overall** figure (``agent_above_team``): their not-adhered results minus what their team's
  rate of each metric would give for the same scored results, over all their scored results, in points.
* A cell is **thin** when it rests on fewer than :data:`FEW` scored interactions.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from coaching import people
from coaching.access import Viewer
from coaching.scores import AUDIT_SQL, FEW
from coaching.sql import Where
from coaching.team import TeamFilters, agents_where

__all__ = [
    "BY_ABOVE_TEAM", "BY_METRIC", "BY_NAME", "FEW", "MOST_AGENTS", "ORDERS", "arrange", "metric_heatmap",
    "not_adhered_interactions", "one_team",
]

#: Most agents (rows) a heatmap draws; the page says when some are left out, and its CSV has every cell.
MOST_AGENTS = 40
#: How :func:`arrange` orders the agents: furthest above their team's rate overall, by name, or furthest
#: above it on one metric.
BY_ABOVE_TEAM, BY_NAME, BY_METRIC = "above team", "name", "metric"
ORDERS = (BY_ABOVE_TEAM, BY_NAME, BY_METRIC)


def _where(viewer: Viewer, filters: TeamFilters) -> Where:
    """The conditions on ``e`` (evaluations) joined to ``p`` (the scored agent in people): the Team view's
    agents (``coaching.team``: roster agents, the viewer's scope, the chosen teams) and the dates."""
    return agents_where(viewer, filters.teams).between_days("e.start_time", filters.start, filters.end)


_FROM = "FROM evaluations e JOIN people p USING (person_id)"


def one_team(cells: pd.DataFrame) -> bool:
    """Whether the cells are of one team's agents (agents without a team counting as one): then a metric has
    one team rate, and the chart shows it above the metric's column."""
    return bool(cells["team"].nunique(dropna=False) == 1)


def metric_heatmap(con: duckdb.DuckDBPyConnection, viewer: Viewer, filters: TeamFilters) -> pd.DataFrame:
    """Every (agent, metric) cell with at least one scored interaction, in the viewer's scope and the
    filters' dates and teams.

    Columns: person_id (who the agent is), agent (their name, with their email where two shown share
    it: only a label), team, metric, scored, not_adhered, share (not_adhered ÷ scored), team_rate (of the
    metric over the agents here of the agent's team; agents without a team count as one), above_team
    ((share − team_rate) × 100, percentage points), thin (scored < :data:`FEW`), agent_above_team (the
    agent's overall figure, points), agent_thin (every cell of theirs is thin), agent_rank (1 = furthest
    above their team's rate overall; agents whose every cell is thin come last). Ordered by agent_rank,
    then metric.
    """
    where = _where(viewer, filters)
    return con.execute(
        f"""WITH cells AS (
                -- Each evaluation's own lists (never the long metric rows): a metric it scored counts
                -- as not adhered when its list of those names it too.
                SELECT person_id, metric, count(*) AS scored,
                       count(*) FILTER (WHERE list_contains(missed, metric)) AS not_adhered
                FROM (SELECT e.person_id, e.not_adhered_metrics AS missed, unnest(e.scored_metrics) AS metric
                      {_FROM} WHERE {where.sql})
                GROUP BY person_id, metric),
            rated AS (
                -- Each agent against their own team (agents without a team, a NULL team, against each
                -- other). The team joins the cells, not the unnested rows (quicker over everyone).
                SELECT c.*, p.team, p.name, p.email, p.agent_id, c.not_adhered / c.scored AS share,
                       sum(c.not_adhered) OVER per_team / sum(c.scored) OVER per_team AS team_rate
                FROM cells c JOIN people p USING (person_id) WINDOW per_team AS (PARTITION BY p.team, c.metric)),
            agents AS (
                SELECT person_id, any_value(coalesce(name, person_id)) AS name, any_value(email) AS email,
                       any_value(agent_id) AS agent_id, any_value(team) AS team,
                       100 * (sum(not_adhered) - sum(scored * team_rate)) / sum(scored) AS agent_above_team,
                       max(scored) < {FEW} AS agent_thin
                FROM rated GROUP BY person_id),
            labelled AS (SELECT *, {people.LABEL} AS agent FROM agents),
            ranked AS (
                -- Rounded for the order: a sum of fractions may differ in its last bits from run to run
                -- (in parallel), and agents level with each other go by name.
                SELECT *, row_number() OVER (ORDER BY agent_thin, round(agent_above_team, 9) DESC, agent,
                                                      person_id) AS agent_rank
                FROM labelled)
            SELECT a.person_id, a.agent, a.team, r.metric, r.scored, r.not_adhered, r.share, r.team_rate,
                   100 * (r.share - r.team_rate) AS above_team, r.scored < {FEW} AS thin,
                   a.agent_above_team, a.agent_thin, a.agent_rank
            FROM rated r JOIN ranked a USING (person_id)
            ORDER BY a.agent_rank, r.metric""",
        where.params,
    ).df()


def arrange(cells: pd.DataFrame, order: str = BY_ABOVE_TEAM, metric: str | None = None,
            rows: int = MOST_AGENTS) -> pd.DataFrame:
    """The cells of the ``rows`` agents a chart draws, with ``row`` (1 = top) saying their order.

    ``order``: :data:`BY_ABOVE_TEAM`, the agents furthest above their team's rate overall (``agent_rank``);
    :data:`BY_NAME`, A to Z; :data:`BY_METRIC`, the agents furthest above their team's rate on ``metric``
    (those without it, or thin on it, after them, in overall order). Agents whose every cell is thin come
    after the others in the first and last orders.
    """
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; expected one of {', '.join(ORDERS)}")
    if order == BY_METRIC and metric is None:
        raise ValueError("ordering by a metric needs the metric")
    # Agents are told apart by their rank (a number, one each): quicker than their ids over 65,000 cells.
    agents = cells.loc[~cells["agent_rank"].duplicated(), ["agent_rank", "agent", "person_id"]]
    if order == BY_NAME:
        agents = agents.sort_values(["agent", "person_id"], key=lambda c: c.str.casefold())
    elif order == BY_METRIC:
        on_metric = cells.loc[cells["metric"] == metric, ["agent_rank", "above_team", "thin"]]
        agents = agents.merge(on_metric, on="agent_rank", how="left")
        missing = agents["above_team"].isna() | agents["thin"].eq(True)
        agents = agents.assign(missing=missing, score=agents["above_team"].where(~missing, 0.0))
        agents = agents.sort_values(["missing", "score", "agent_rank"], ascending=[True, False, True])
    else:
        agents = agents.sort_values("agent_rank")
    place = pd.Series(range(1, min(rows, len(agents)) + 1), index=agents["agent_rank"].head(rows), dtype="int64")
    shown = cells[cells["agent_rank"].isin(place.index)]
    return (shown.assign(row=shown["agent_rank"].map(place).astype("int64"))
            .sort_values(["row", "metric"]).reset_index(drop=True))


def not_adhered_interactions(con: duckdb.DuckDBPyConnection, viewer: Viewer, filters: TeamFilters,
                             person_id: str, metric: str) -> pd.DataFrame:
    """The interactions of the agent ``person_id`` in the filters' dates where ``metric`` was not adhered,
    newest first: conversation_id, date (when it started), queues (joined with ", "), kore_score,
    audit_score (the current Supervisor Audit Score, NaN until audited). An agent the heatmap does not
    show (outside the viewer's scope or the chosen teams, or not a roster agent) has none."""
    where = _where(viewer, filters)
    where.add("e.person_id = $person AND list_contains(e.not_adhered_metrics, $metric)",
              {"person": person_id, "metric": metric})
    return con.execute(
        f"""SELECT e.conversation_id, e.start_time AS date, array_to_string(e.queues, ', ') AS queues,
                   e.kore_score, {AUDIT_SQL} AS audit_score
            {_FROM} LEFT JOIN evaluation_reviews r USING (conversation_id)
            WHERE {where.sql}
            ORDER BY e.start_time DESC, e.conversation_id""",
        where.params,
    ).df()
