"""The metric heatmap (coaching/metric_heatmap.py) against hand-written pandas over the exported rows, its
scope, its drill-down, and its chart spec (coaching.charts.metric_heatmap_chart).

The small store: team Billing East (lead Sam Ortiz) with Priya (many interactions), Tom and Vic (three:
every cell of his thin), team Claims (lead Zoe Zimmer) with Uma and Carl, and Nia and Dee, agents the roster
does not name (no team: only QA and admins see them). Sam himself was scored on a few interactions: a
supervisor, not an agent, so no heatmap (and no Team view) lists him. Three metrics, one with " - " in its
name; results 1, 0, NA, '-' and empty (not on the form) drawn from a seeded generator, and rows in September
that October leaves out.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import pytest

from coaching import charts, store
from coaching.metric_heatmap import (
    BY_ABOVE_TEAM,
    BY_METRIC,
    BY_NAME,
    FEW,
    arrange,
    metric_heatmap,
    not_adhered_interactions,
)
from coaching.team import TeamFilters, team_table

from exports import (
    IE_COLUMNS,
    ROSTER_HEADER,
    ROSTER_ROWS,
    build_store,
    csv_text,
    metric_columns,
    who,
)

METRICS = ("Greeting", "Empathy - Tone", "Hold")
PRIYA, TOM, VIC, UMA, NIA = "Priya Nair", "Tom Becker", "Vic Vance", "Uma Ueda", "Nia Noroster"
CARL, DEE, SAM_ORTIZ = "Carl Chen", "Dee Dorsey", "Sam Ortiz"
#: The agents, each with the person the heatmap shows them as (Sam Ortiz, scored but a supervisor, is none).
PEOPLE = {PRIYA: "priya.nair@example.com", TOM: "tom.becker@example.com", VIC: "vic.vance@example.com",
          UMA: "uma.ueda@example.com", NIA: "name:Nia Noroster", CARL: "carl.chen@example.com",
          DEE: "name:Dee Dorsey"}
TEAMS = {PRIYA: "Billing East", TOM: "Billing East", VIC: "Billing East", UMA: "Claims", NIA: None,
         CARL: "Claims", DEE: None}
BILLING, CLAIMS, NO_TEAM = {PRIYA, TOM, VIC}, {UMA, CARL}, {NIA, DEE}
SAM, ZOE, QA = "sam.ortiz@example.com", "zoe.zimmer@example.com", "quinn.lee@example.com"
OCTOBER = TeamFilters(date(2026, 10, 1), date(2026, 10, 31))
#: Interactions per person in October (and two in September each, which October leaves out).
IN_OCTOBER = {PRIYA: 14, TOM: 9, VIC: 3, UMA: 8, NIA: 6, CARL: 12, DEE: 10, SAM_ORTIZ: 6}
ROSTER = csv_text(ROSTER_HEADER, *(ROSTER_ROWS[name] for name in (PRIYA, TOM, VIC, UMA, SAM_ORTIZ, "Zoe Zimmer",
                                                                 "Quinn Lee")),
                  f'{CARL},carl.chen@example.com,Claims,zoe.zimmer@example.com,Agent,'
                  '"Agent Dashboard, Coaching Assignments"')
#: A metric's result cell: adhered, not adhered, not applicable, not evaluated, not on the form.
RESULTS, WEIGHTS = ("1", "0", "NA", "'-'", ""), (5, 3, 1, 1, 1)
HEADER = IE_COLUMNS + "," + metric_columns(*METRICS)
#: The audit score a review event set for one of Priya's interactions (its export says 50).
RE_AUDITED = ("p-oct-03", 61.0)


def ie_row(cid: str, agent: str, when: str, results: tuple[str, ...], kore: str, audit: str, queue: str) -> str:
    cells = ",".join(f"{r},0,10,10" if r else ",,," for r in results)
    return (f"{cid},Voice,{queue},{queue},en,{agent},{agent},{when},6,refund,0,{kore},0,0,{audit},inbound,"
            f"Evaluated,Billing Voice form,Refund,{cells}")


def report_rows() -> list[str]:
    rng = random.Random(15)
    rows = []
    for agent, count in IN_OCTOBER.items():
        slug = agent.split()[0].lower()[0]
        days = [(f"sep-{i:02d}", f"2026-09-{20 + i:02d}T09:00:00Z") for i in range(2)]
        days += [(f"oct-{i:02d}", f"2026-10-{1 + 2 * i:02d}T{8 + i % 9:02d}:30:00Z") for i in range(count)]
        for tag, when in days:
            results = tuple(rng.choices(RESULTS, WEIGHTS, k=len(METRICS)))
            queue = "Claims queue" if agent == UMA else "Billing queue"
            audit = "50" if f"{slug}-{tag}" == RE_AUDITED[0] else ("40" if rng.random() < 0.3 else "")
            rows.append(ie_row(f"{slug}-{tag}", agent, when, results, str(rng.randint(-20, 90)), audit, queue))
    return rows


REPORT = csv_text(HEADER, *report_rows())
EVENTS = f"""ConversationID,Metric,Round,Actor,Action,Comment,Timestamp,Audit Score
{RE_AUDITED[0]},,0,QA,Audit Submitted,,2026-10-06T10:00:00Z,{RE_AUDITED[1]:g}
"""


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield build_store(tmp_path_factory.mktemp("heatmap"), {
        "roster.csv": ROSTER,
        "ie-report.csv": REPORT, "review-events.csv": EVENTS,
    })
    store.close_all()


# -- the figures by hand ----------------------------------------------------------------------------------


def exported() -> pd.DataFrame:
    """The report's rows, one per (interaction, metric), read as text: conversation, agent, start, metric,
    result (the cell as written)."""
    frame = pd.read_csv(io.StringIO(REPORT), dtype=str, keep_default_na=False)
    long = frame.melt(id_vars=["ConversationID", "Scored Agent", "Start Time"], value_vars=list(METRICS),
                      var_name="metric", value_name="result")
    return long.rename(columns={"ConversationID": "conversation_id", "Scored Agent": "agent",
                                "Start Time": "start"})


def by_hand(agents: set[str], filters: TeamFilters = OCTOBER) -> pd.DataFrame:
    """The heatmap's cells of ``agents`` worked out from the exported rows: scored where the result is 1, 0
    or NA; not adhered where it is 0; the team rate of each metric over those of ``agents`` in the agent's
    team (those without a team together); the agent's overall figure."""
    rows = exported()
    day = pd.to_datetime(rows["start"]).dt.date
    rows = rows[rows["agent"].isin(agents) & (day >= filters.start) & (day <= filters.end)]
    rows = rows.assign(scored=rows["result"].isin(["1", "0", "NA"]), missed=rows["result"] == "0")
    cells = rows.groupby(["agent", "metric"], as_index=False)[["scored", "missed"]].sum()
    cells = cells[cells["scored"] > 0].rename(columns={"missed": "not_adhered"})
    cells = cells.assign(team=cells["agent"].map(TEAMS).fillna("(no team)"))
    totals = cells.groupby(["team", "metric"])[["scored", "not_adhered"]].transform("sum")
    cells = cells.assign(share=cells["not_adhered"] / cells["scored"],
                         team_rate=totals["not_adhered"] / totals["scored"])
    cells = cells.assign(above_team=100 * (cells["share"] - cells["team_rate"]), thin=cells["scored"] < FEW,
                         expected=cells["scored"] * cells["team_rate"])
    per_agent = cells.groupby("agent").agg(scored=("scored", "sum"), missed=("not_adhered", "sum"),
                                           expected=("expected", "sum"), most=("scored", "max"))
    overall = 100 * (per_agent["missed"] - per_agent["expected"]) / per_agent["scored"]
    cells = cells.assign(person_id=cells["agent"].map(PEOPLE), agent_above_team=cells["agent"].map(overall),
                         agent_thin=cells["agent"].map(per_agent["most"] < FEW))
    return cells.drop(columns=["expected", "team"])


def keyed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index(["person_id", "metric"]).sort_index()


def assert_cells(found: pd.DataFrame, expected: pd.DataFrame) -> None:
    columns = ["scored", "not_adhered", "share", "team_rate", "above_team", "thin", "agent_above_team",
               "agent_thin"]
    pd.testing.assert_frame_equal(keyed(found)[columns], keyed(expected)[columns], check_dtype=False)


# -- the cells ------------------------------------------------------------------------------------------


def test_the_store_holds_what_the_test_means() -> None:
    """The generator gives every kind of result, thin and full cells, and rows outside October."""
    rows = exported()
    assert set(rows["result"]) == set(RESULTS)
    cells = by_hand(set(PEOPLE))
    assert cells["thin"].any() and (~cells["thin"]).any()
    assert cells.loc[cells["agent"] == VIC, "agent_thin"].all()
    assert (pd.to_datetime(rows["start"]).dt.month == 9).any()


def test_qa_sees_every_agents_cells_as_worked_out_by_hand(con) -> None:
    found = metric_heatmap(con, who(con, QA), OCTOBER)
    assert_cells(found, by_hand(set(PEOPLE)))
    # Who is who: the person, with the name only as a label; a team from the roster (none for Nia and Dee).
    names = dict(zip(found["person_id"], found["agent"], strict=False))
    assert names == {PEOPLE[a]: a for a in PEOPLE}
    teams = found.drop_duplicates("person_id").set_index("person_id")["team"]
    assert {p: (None if pd.isna(t) else t) for p, t in teams.items()} == {PEOPLE[a]: TEAMS[a] for a in PEOPLE}


def test_a_leads_cells_and_team_rates_are_their_teams(con) -> None:
    found = metric_heatmap(con, who(con, SAM), OCTOBER)
    assert set(found["person_id"]) == {PEOPLE[a] for a in BILLING}
    assert_cells(found, by_hand(BILLING))  # rates over Billing East only
    other = metric_heatmap(con, who(con, ZOE), OCTOBER)
    assert set(other["person_id"]) == {PEOPLE[a] for a in CLAIMS}
    assert_cells(other, by_hand(CLAIMS))


def test_qa_sees_each_agent_against_their_own_teams_rate(con) -> None:
    """Over two teams (and the agents without one) a metric has a rate per team, and each agent is coloured
    against their own: the cells QA sees of a team are the ones worked out over that team alone, and the
    ones its lead sees."""
    found = metric_heatmap(con, who(con, QA), OCTOBER)
    rates = {team: by_hand(agents).groupby("metric")["team_rate"].first()
             for team, agents in (("billing", BILLING), ("claims", CLAIMS), ("none", NO_TEAM))}
    differ = (rates["billing"] - rates["claims"]).abs()
    assert (differ > 0.05).all()  # each metric's rate differs between the teams: the test tells them apart
    for agents in (BILLING, CLAIMS, NO_TEAM):
        mine = found[found["person_id"].isin({PEOPLE[a] for a in agents})]
        assert_cells(mine, by_hand(agents))  # against that team's rate alone
    everyone = found.groupby("metric")[["not_adhered", "scored"]].sum()
    overall = everyone["not_adhered"] / everyone["scored"]
    priya = found[found["person_id"] == PEOPLE[PRIYA]].set_index("metric")
    np.testing.assert_allclose(priya["team_rate"], rates["billing"][priya.index])
    assert ((priya["team_rate"] - overall[priya.index]).abs() > 1e-9).all()  # not the rate over everyone
    lead = metric_heatmap(con, who(con, SAM), OCTOBER)
    assert_cells(found[found["person_id"].isin(lead["person_id"])], lead)  # the colours the lead sees
    # On the chart: each cell's colour is its agent's against their team; no single rate above a column.
    spec = spec_of(charts.metric_heatmap_chart(arrange(found)))
    drawn_cells = pd.DataFrame(drawn(spec, layer(spec, "rect"))).set_index(["person_id", "metric"]).sort_index()
    np.testing.assert_allclose(drawn_cells["above_team"], keyed(found)["above_team"])
    assert "team " not in layer(spec, "rect")["encoding"]["x"]["axis"]["labelExpr"]


def test_the_agents_are_the_team_views(con) -> None:
    """The roster's agents in scope, as the Team view lists them: Sam Ortiz, a supervisor scored on a few
    interactions, is not one, and his interactions count towards no team's rate."""
    found = metric_heatmap(con, who(con, QA), OCTOBER)
    assert SAM not in set(found["person_id"]) and len(by_hand({SAM_ORTIZ})) > 0  # scored, yet not shown
    assert set(found["person_id"]) == set(team_table(con, who(con, QA), OCTOBER)["person_id"])
    assert set(metric_heatmap(con, who(con, SAM), OCTOBER)["person_id"]) == set(
        team_table(con, who(con, SAM), OCTOBER)["person_id"])
    metric = next(m for m in METRICS if missed_by_hand(SAM_ORTIZ, m))
    assert not_adhered_interactions(con, who(con, QA), OCTOBER, SAM, metric).empty


def test_an_agent_sees_only_themself(con) -> None:
    found = metric_heatmap(con, who(con, PEOPLE[PRIYA]), OCTOBER)
    assert set(found["person_id"]) == {PEOPLE[PRIYA]}
    assert_cells(found, by_hand({PRIYA}))


def test_the_team_filter_and_the_dates_narrow_the_cells_and_the_rates(con) -> None:
    claims = TeamFilters(OCTOBER.start, OCTOBER.end, ("Claims",))
    assert_cells(metric_heatmap(con, who(con, QA), claims), by_hand(CLAIMS))
    # A lead choosing another team's name sees nothing of it.
    assert metric_heatmap(con, who(con, SAM), claims).empty
    first_week = TeamFilters(date(2026, 10, 1), date(2026, 10, 7))
    assert_cells(metric_heatmap(con, who(con, QA), first_week), by_hand(set(PEOPLE), first_week))
    september = TeamFilters(date(2026, 9, 1), date(2026, 9, 30))
    assert_cells(metric_heatmap(con, who(con, QA), september), by_hand(set(PEOPLE), september))


def test_no_interactions_give_no_cells_with_every_column(con) -> None:
    empty = metric_heatmap(con, who(con, QA), TeamFilters(date(2025, 1, 1), date(2025, 1, 31)))
    assert empty.empty
    assert list(empty.columns) == list(metric_heatmap(con, who(con, QA), OCTOBER).columns)


def test_agents_are_ranked_furthest_above_the_team_rate_first_thin_ones_last(con) -> None:
    found = metric_heatmap(con, who(con, QA), OCTOBER)
    agents = found.drop_duplicates("person_id")
    assert list(agents["agent_rank"]) == list(range(1, len(agents) + 1))  # the frame is in rank order
    expected = by_hand(set(PEOPLE)).drop_duplicates("agent")
    expected = expected.sort_values(["agent_thin", "agent_above_team"], ascending=[True, False])
    assert list(agents["person_id"]) == list(expected["person_id"])
    assert agents.iloc[-1]["person_id"] == PEOPLE[VIC]  # three interactions: every cell thin
    assert found.groupby("person_id")["metric"].apply(lambda m: list(m) == sorted(m)).all()


# -- which agents a chart draws ---------------------------------------------------------------------------


def test_arrange_keeps_the_agents_furthest_above_the_team_rate(con) -> None:
    cells = metric_heatmap(con, who(con, QA), OCTOBER)
    shown = arrange(cells, BY_ABOVE_TEAM, rows=2)
    order = cells.drop_duplicates("person_id")["person_id"].tolist()
    assert shown.drop_duplicates("person_id")["person_id"].tolist() == order[:2]
    assert shown.drop_duplicates("person_id")["row"].tolist() == [1, 2]
    pd.testing.assert_frame_equal(  # every cell of the agents kept, as they were
        shown.drop(columns="row"), cells[cells["person_id"].isin(order[:2])].reset_index(drop=True))


def test_arrange_by_name_and_by_one_metric(con) -> None:
    cells = metric_heatmap(con, who(con, QA), OCTOBER)
    by_name = arrange(cells, BY_NAME)
    assert by_name.drop_duplicates("person_id")["agent"].tolist() == sorted(PEOPLE, key=str.casefold)
    hold = cells[(cells["metric"] == "Hold") & ~cells["thin"]].sort_values("above_team", ascending=False)
    assert 2 <= len(hold) < len(PEOPLE)
    on_hold = arrange(cells, BY_METRIC, "Hold", rows=2)
    assert on_hold.drop_duplicates("person_id")["person_id"].tolist() == hold["person_id"].head(2).tolist()
    # Agents thin on the metric, or without it, come after the others, in their overall order.
    everyone = arrange(cells, BY_METRIC, "Hold").drop_duplicates("person_id")["person_id"].tolist()
    assert everyone[: len(hold)] == hold["person_id"].tolist() and len(everyone) == len(PEOPLE)
    rest = cells[~cells["person_id"].isin(hold["person_id"])].drop_duplicates("person_id")
    assert everyone[len(hold):] == rest.sort_values("agent_rank")["person_id"].tolist()
    with pytest.raises(ValueError, match="unknown order"):
        arrange(cells, "loudest")
    with pytest.raises(ValueError, match="needs the metric"):
        arrange(cells, BY_METRIC)


# -- the drill-down -------------------------------------------------------------------------------------------


def missed_by_hand(agent: str, metric: str) -> list[str]:
    rows = exported()
    rows = rows[(rows["agent"] == agent) & (rows["metric"] == metric) & (rows["result"] == "0")
                & (pd.to_datetime(rows["start"]).dt.month == 10)]
    return rows.sort_values("start", ascending=False)["conversation_id"].tolist()


@pytest.mark.parametrize("metric", METRICS)
def test_the_drill_down_lists_the_agents_not_adhered_interactions_newest_first(con, metric: str) -> None:
    found = not_adhered_interactions(con, who(con, SAM), OCTOBER, PEOPLE[PRIYA], metric)
    assert found["conversation_id"].tolist() == missed_by_hand(PRIYA, metric)
    assert list(found.columns) == ["conversation_id", "date", "queues", "kore_score", "audit_score"]
    cell = metric_heatmap(con, who(con, SAM), OCTOBER).set_index(["person_id", "metric"])
    assert len(found) == cell.loc[(PEOPLE[PRIYA], metric), "not_adhered"]
    assert found["date"].is_monotonic_decreasing and (found["queues"] == "Billing queue").all()


def test_the_drill_down_shows_the_current_audit_score(con) -> None:
    conversation, current = RE_AUDITED
    metric = next(m for m in METRICS if conversation in missed_by_hand(PRIYA, m))
    found = not_adhered_interactions(con, who(con, SAM), OCTOBER, PEOPLE[PRIYA], metric)
    assert found.set_index("conversation_id").loc[conversation, "audit_score"] == current  # not the export's 50


def test_the_drill_down_is_scoped(con) -> None:
    metric = next(m for m in METRICS if missed_by_hand(PRIYA, m))
    expected = missed_by_hand(PRIYA, metric)
    for viewer in (QA, SAM, PEOPLE[PRIYA]):  # QA, her lead and she herself: every one of hers
        found = not_adhered_interactions(con, who(con, viewer), OCTOBER, PEOPLE[PRIYA], metric)
        assert found["conversation_id"].tolist() == expected
    # Another team's lead, another agent, and a team filter that leaves her out see nothing of hers.
    assert not_adhered_interactions(con, who(con, ZOE), OCTOBER, PEOPLE[PRIYA], metric).empty
    assert not_adhered_interactions(con, who(con, PEOPLE[TOM]), OCTOBER, PEOPLE[PRIYA], metric).empty
    claims = TeamFilters(OCTOBER.start, OCTOBER.end, ("Claims",))
    assert not_adhered_interactions(con, who(con, QA), claims, PEOPLE[PRIYA], metric).empty


# -- against the long metric rows, on the demo -------------------------------------------------------------



def test_the_demos_cells_agree_with_the_evaluations_metric_rows(demo_db: Path) -> None:
    """The evaluations' lists of scored and not-adhered metrics against the view of every metric row."""
    october = TeamFilters(date(2026, 10, 1), date(2026, 10, 31))
    with store.open_store(demo_db).snapshot() as con:
        found = metric_heatmap(con, who(con, "admin@example.com"), october)
        rows = con.execute(
            """SELECT e.person_id, m.metric, count(*) FILTER (WHERE m.result IS NOT NULL) AS scored,
                      count(*) FILTER (WHERE m.result = 'Not Adhered') AS not_adhered
               FROM evaluation_metrics m JOIN evaluations e USING (conversation_id)
               WHERE e.start_time >= DATE '2026-10-01' AND e.start_time < DATE '2026-11-01'
               GROUP BY ALL HAVING count(*) FILTER (WHERE m.result IS NOT NULL) > 0""").df()
        lead = metric_heatmap(con, who(con, "lead@example.com"), october)
        again = metric_heatmap(con, who(con, "admin@example.com"), october)
        team_agents = set(team_table(con, who(con, "admin@example.com"), october)["person_id"])
    pd.testing.assert_frame_equal(again, found)  # the same cells in the same order, every time
    assert len(found) == len(rows) > 100
    pd.testing.assert_frame_equal(keyed(found)[["scored", "not_adhered"]], keyed(rows), check_dtype=False)
    assert found["thin"].any() and found["person_id"].nunique() == 24
    assert lead["person_id"].nunique() < 24 and set(lead["person_id"]) < set(found["person_id"])
    assert set(found["person_id"]) <= team_agents  # the Team view's agents


# -- the chart -------------------------------------------------------------------------------------------------


def chart_cells(agents: int = 3) -> pd.DataFrame:
    """What arrange gives for ``agents`` agents and the three metrics; the first agent thin on Hold."""
    rows = []
    for a in range(agents):
        for m, metric in enumerate(METRICS):
            scored = 3 if (a == 0 and metric == "Hold") else 10 + a
            missed = (a + m) % scored
            rows.append({"person_id": f"a{a}@example.com", "agent": f"Agent {a} with a rather long name",
                         "team": "Billing East", "metric": metric, "scored": scored, "not_adhered": missed,
                         "share": missed / scored, "team_rate": 0.2 + 0.05 * m,
                         "above_team": 100 * (missed / scored - 0.2 - 0.05 * m), "thin": scored < FEW,
                         "agent_above_team": 5.0 - a, "agent_thin": False, "agent_rank": a + 1, "row": a + 1})
    return pd.DataFrame(rows)


def spec_of(chart: alt.TopLevelMixin) -> dict:
    spec = chart.to_dict(validate=True)  # raises unless it is valid Vega-Lite
    json.dumps(spec, allow_nan=False)
    return spec


def layer(spec: dict, mark: str) -> dict:
    """The chart's first layer of ``mark`` (the cells' rects come before the grey ones of no cell)."""
    return next(lay for lay in spec["layer"]
                if (lay["mark"] if isinstance(lay["mark"], str) else lay["mark"]["type"]) == mark)


def gaps(spec: dict) -> dict:
    """The layer of grey rects where an agent has no scored interaction of a metric."""
    [found] = [lay for lay in spec["layer"] if "color" in lay["mark"]]
    return found


def drawn(spec: dict, lay: dict) -> list[dict]:
    data = lay.get("data") or spec["data"]
    return spec["datasets"][data["name"]]


def test_the_chart_is_valid_vega_lite_with_a_cell_selection() -> None:
    spec = spec_of(charts.metric_heatmap_chart(chart_cells()))
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")
    assert spec["width"] == "container" and spec["autosize"]["type"] == "fit-x"
    [pick] = spec.get("params", []) + [p for lay in spec["layer"] for p in lay.get("params", [])]
    assert pick["views"] == [layer(spec, "rect")["name"]]  # chosen on the cells
    assert pick["name"] == charts.CELL_PICK
    assert pick["select"]["type"] == "point" and pick["select"]["fields"] == ["person_id", "metric"]
    rects = layer(spec, "rect")
    assert rects["encoding"]["x"]["field"] == "metric" and rects["encoding"]["y"]["field"] == "agent"
    assert rects["encoding"]["y"]["sort"] == {"field": "row", "op": "min", "order": "ascending"}
    assert rects["encoding"]["stroke"]["condition"] == {"param": charts.CELL_PICK, "empty": False,
                                                         "value": "#111111"}


def test_the_colour_diverges_around_the_team_rate() -> None:
    colour = layer(spec_of(charts.metric_heatmap_chart(chart_cells())), "rect")["encoding"]["color"]
    assert colour["field"] == "above_team" and colour["type"] == "quantitative"
    low, high = colour["scale"]["domain"]
    assert low == -high and colour["scale"]["scheme"] == "redblue" and colour["scale"]["reverse"]


def test_every_mark_has_the_tooltip_of_the_cell() -> None:
    spec = spec_of(charts.metric_heatmap_chart(chart_cells()))
    for lay in (layer(spec, "rect"), layer(spec, "text")):
        tips = {t["field"]: t for t in lay["encoding"]["tooltip"]}
        assert {"agent", "team", "metric", "scored", "not_adhered", "share", "team_rate", "above_team",
                "note"} <= set(tips)
        assert tips["share"]["format"] == ".0%" and tips["team_rate"]["format"] == ".0%"


def test_thin_cells_are_faded_and_marked() -> None:
    spec = spec_of(charts.metric_heatmap_chart(chart_cells()))
    rects, text = layer(spec, "rect"), layer(spec, "text")
    assert rects["encoding"]["opacity"]["condition"]["test"] == "datum.thin"
    assert rects["encoding"]["opacity"]["condition"]["value"] < rects["encoding"]["opacity"]["value"]
    assert text["encoding"]["text"]["field"] == "text"
    rows = drawn(spec, text)
    [thin] = [r for r in rows if r["thin"]]
    assert (thin["agent"], thin["metric"], thin["text"]) == ("Agent 0 with a rather long name", "Hold", "·")
    assert thin["note"].startswith(f"Fewer than {FEW} scored")
    full = [r for r in rows if not r["thin"]]
    assert all(r["text"] == f"{r['share']:.0%}" and r["note"] == "" for r in full)


def test_the_chart_grows_a_row_per_agent_and_shows_every_metric_wrapped() -> None:
    small, large = (spec_of(charts.metric_heatmap_chart(chart_cells(n))) for n in (3, 12))
    assert small["height"] == 3 * charts.HEATMAP_ROW and large["height"] == 12 * charts.HEATMAP_ROW
    axis = layer(small, "rect")["encoding"]["x"]["axis"]
    assert axis["orient"] == "top" and axis["labelOverlap"] is False and axis["labelAngle"] == 0
    lookup = json.loads(axis["labelExpr"][1: axis["labelExpr"].index(")[datum.label]")])
    assert set(lookup) == set(METRICS)
    for metric, lines in lookup.items():
        assert " ".join(line for line in lines[:-1] if line) == metric  # the whole name, in lines
        assert all(len(line) <= charts.METRIC_LINE for line in lines if " " in line)
        assert lines[-1].startswith("team ") and lines[-1].endswith("%")
    assert len({len(lines) for lines in lookup.values()}) == 1  # blank lines first: names sit on the chart
    assert layer(small, "rect")["encoding"]["y"]["axis"]["labelLimit"] > 0  # long names cut, whole in the tooltip


def test_the_team_rate_is_above_the_columns_only_when_one_team_is_drawn() -> None:
    """With agents of several teams each metric has a rate per team: the tooltip has the agent's team's, and
    no line above the column claims one. Agents without a team, all of them, are one group."""
    def lines_above(cells: pd.DataFrame) -> dict[str, list[str]]:
        axis = layer(spec_of(charts.metric_heatmap_chart(cells)), "rect")["encoding"]["x"]["axis"]
        return json.loads(axis["labelExpr"][1: axis["labelExpr"].index(")[datum.label]")])

    cells = chart_cells()
    two_teams = cells.assign(team=np.where(cells["person_id"] == "a0@example.com", "Claims", "Billing East"))
    assert all(lines[-1].startswith("team ") for lines in lines_above(cells).values())
    assert not [line for lines in lines_above(two_teams).values() for line in lines if line.startswith("team")]
    assert {m: [line for line in lines if line] for m, lines in lines_above(two_teams).items()} == {
        "Greeting": ["Greeting"], "Empathy - Tone": ["Empathy -", "Tone"], "Hold": ["Hold"]}
    with_no_team = cells.assign(team=np.where(cells["person_id"] == "a0@example.com", None, "Billing East"))
    assert not [line for lines in lines_above(with_no_team).values() for line in lines if line.startswith("team")]
    no_team_at_all = cells.assign(team=None)
    assert all(lines[-1].startswith("team ") for lines in lines_above(no_team_at_all).values())
    tips = {t["field"]: t["title"] for t in layer(spec_of(charts.metric_heatmap_chart(two_teams)), "rect")
            ["encoding"]["tooltip"]}
    assert tips["team_rate"] == "Their team's rate" and tips["team"] == "Team"


def test_a_metric_without_scored_interactions_is_a_grey_cell() -> None:
    full = spec_of(charts.metric_heatmap_chart(chart_cells()))
    assert drawn(full, gaps(full)) == []
    cells = chart_cells()
    cells = cells[~((cells["person_id"] == "a2@example.com") & (cells["metric"] == "Greeting"))]
    spec = spec_of(charts.metric_heatmap_chart(cells))
    [gap] = drawn(spec, gaps(spec))
    assert (gap["person_id"], gap["metric"], gap["row"]) == ("a2@example.com", "Greeting", 3)
    assert gap["note"] == "No scored interactions in these dates"
    assert {t["field"] for t in gaps(spec)["encoding"]["tooltip"]} == {"agent", "metric", "note"}
    assert gaps(spec)["encoding"]["y"] == layer(spec, "rect")["encoding"]["y"]  # on the agent's row


def test_the_chart_accepts_empty_cells() -> None:
    typed = chart_cells().iloc[:0]
    untyped = pd.DataFrame(columns=list(chart_cells().columns))
    for empty in (typed, untyped):
        spec = spec_of(charts.metric_heatmap_chart(empty))
        assert drawn(spec, spec["layer"][0]) == []


def test_the_chart_draws_without_validating_again_and_from_channel_objects(monkeypatch) -> None:
    """As every chart of coaching.charts (see tests/test_charts.py): Streamlit's to_dict() gives the
    validated spec without validating it again, and no encoding is a shorthand (10 ms a channel)."""
    chart = charts.metric_heatmap_chart(chart_cells())
    validated = chart.to_dict(validate=True)
    checked = []
    original = alt.utils.schemapi.validate_jsonschema
    monkeypatch.setattr(alt.utils.schemapi, "validate_jsonschema",
                        lambda spec, *a, **k: checked.append(spec) or original(spec, *a, **k))
    assert chart.to_dict() == validated
    assert not [s for s in checked if {"mark", "layer", "encoding"} & set(s)]

    made = []
    init = alt.utils.schemapi._FromDict.__init__
    monkeypatch.setattr(alt.utils.schemapi._FromDict, "__init__",
                        lambda self, *a, **k: made.append(a) or init(self, *a, **k))
    charts.metric_heatmap_chart(chart_cells())
    assert made == []


def test_the_chart_draws_the_cells_of_real_figures(con) -> None:
    cells = arrange(metric_heatmap(con, who(con, QA), OCTOBER), rows=3)
    spec = spec_of(charts.metric_heatmap_chart(cells))
    rows = pd.DataFrame(drawn(spec, layer(spec, "rect")))
    assert len(rows) == len(cells) and rows["person_id"].nunique() == 3
    assert spec["height"] == 3 * charts.HEATMAP_ROW
    np.testing.assert_allclose(rows["above_team"], cells["above_team"])
