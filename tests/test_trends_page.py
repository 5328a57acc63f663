"""The Score Trends page through AppTest: every view renders for a lead, an admin and an agent, the
charts carry the figures `coaching.trends` computes, and a lead's views hold only their team.

A chart's data is read from what the page hands Streamlit (the Vega-Lite element's Arrow datasets).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from coaching.charts import POINT_PICK
from coaching.trends import (
    AUDIT,
    DEFAULT_DAYS,
    KORE,
    MAX_COMPARED,
    SENTIMENT,
    TrendFilters,
    agent_score_trends,
    coaching_monitor,
    kore_vs_audit,
    own_trends,
    score_trends,
)

from app_pages import (
    ADMIN_EMAIL,
    AGENT_EMAIL,
    DEMO_NOW,
    LEAD_EMAIL,
    as_user,
    captions,
    infos,
    person_of,
    query,
    rerun,
    rows,
    titles,
)
from list_view import unescaped

PAGE = "pages/trends.py"
VIEWS = ["Score trends", "Kore vs audit", "Coaching", "Disputes"]
#: The page's default: the last 90 days up to the (fixed) today.
DEFAULT = TrendFilters(DEMO_NOW.date() - timedelta(days=DEFAULT_DAYS - 1), DEMO_NOW.date())



pytestmark = pytest.mark.usefixtures("demo_app")


def charts(at: AppTest) -> list:
    return list(at.get("vega_lite_chart"))


def chart_data(chart) -> pd.DataFrame:
    """The rows a chart draws (its dataset of figures, not the fixed data of a reference line: the row
    naming the pass score, a diagonal's or a zero line's x and y), as the page handed them to Streamlit."""
    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
    drawn = [frame for frame in frames if set(frame.columns) - {"x", "y", "reference"}]
    assert len(drawn) == 1, f"expected one dataset of figures, got {len(drawn)} of {len(frames)}"
    return drawn[0]


def open_view(at: AppTest, view: str) -> AppTest:
    at.session_state["trend_view"] = view  # what a click on the tab sets
    return rerun(at)


def team(db: Path, lead: str) -> set[str]:
    return {name for (name,) in rows(db, "SELECT name FROM people WHERE team_lead_email = ?", lead)}


def agents_in(at: AppTest) -> set[str]:
    """Every agent name in the data of the page's charts and tables."""
    found: set[str] = set()
    frames = [chart_data(c) for c in charts(at)] + [d.value for d in at.dataframe]
    for frame in frames:
        for column in ("agent", "label"):
            if column in frame.columns:
                found |= {str(v).split(" · ")[0] for v in frame[column].dropna()}
    return found


# -- a lead -------------------------------------------------------------------------------------------


def test_a_leads_score_trends_are_the_teams(demo_db: Path) -> None:
    at = as_user(LEAD_EMAIL, PAGE)
    assert titles(at) == ["Score Trends"]
    assert [t.label for t in at.tabs] == VIEWS
    scores, sentiment = charts(at)
    expected = query(demo_db, score_trends, LEAD_EMAIL, DEFAULT, "week")
    shown = chart_data(scores)
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), expected.reset_index(drop=True),
                                  check_dtype=False)
    assert json.loads(scores.proto.spec)["layer"][0]["encoding"]["y"]["scale"]["domain"] == [-100, 100]
    assert json.loads(sentiment.proto.spec)["layer"][0]["encoding"]["y"]["scale"]["domain"] == [1, 10]
    assert [d.label for d in at.get("download_button")] == ["Download CSV"]
    assert any("evaluations" in c for c in captions(at))


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_renders_for_a_lead_with_only_the_team(demo_db: Path, view: str) -> None:
    at = open_view(as_user(LEAD_EMAIL, PAGE), view)
    assert charts(at), f"{view}: no chart drawn; {infos(at)}"
    seen = agents_in(at)
    assert seen <= team(demo_db, LEAD_EMAIL), seen - team(demo_db, LEAD_EMAIL)
    assert at.get("download_button"), view


def test_the_coaching_monitor_lists_the_teams_assignments_with_a_csv(demo_db: Path) -> None:
    at = open_view(as_user(LEAD_EMAIL, PAGE), "Coaching")
    expected = query(demo_db, coaching_monitor, LEAD_EMAIL, DEMO_NOW.date(), DEFAULT)
    assert not expected.empty
    shown = at.dataframe[0].value
    assert list(shown["assignment_id"]) == list(expected["assignment_id"])
    assert list(shown["marker"].fillna("")) == list(expected["marker"].fillna(""))
    assert [d.label for d in at.get("download_button")] == ["Download CSV"] * 4  # monitor, effect, per area, per lead


def test_the_agent_filter_offers_the_team_and_narrows_every_view(demo_db: Path) -> None:
    at = as_user(LEAD_EMAIL, PAGE)
    [agents] = [m for m in at.multiselect if m.label == "Agent"]
    assert set(agents.options) <= team(demo_db, LEAD_EMAIL) and len(agents.options) > 1  # shown by name
    one = person_of(demo_db, agents.options[0])  # chosen by who they are
    agents.set_value([one])
    rerun(at)
    expected = query(demo_db, score_trends, LEAD_EMAIL, TrendFilters(DEFAULT.start, DEFAULT.end, agents=(one,)))
    pd.testing.assert_frame_equal(chart_data(charts(at)[0]).reset_index(drop=True),
                                  expected.reset_index(drop=True), check_dtype=False)
    open_view(at, "Kore vs audit")
    assert agents_in(at) == {agents.options[0]}


def test_the_grain_changes_the_periods(demo_db: Path) -> None:
    at = as_user(LEAD_EMAIL, PAGE)
    [grain] = [c for c in at.get("button_group") if c.label == "Average per"]
    grain.set_value("month")
    rerun(at)
    periods = pd.to_datetime(chart_data(charts(at)[0])["period"])
    assert (periods.dt.day == 1).all() and periods.nunique() >= 3


def test_dates_with_no_interactions_say_so(demo_db: Path) -> None:
    at = as_user(LEAD_EMAIL, PAGE)
    at.date_input(key="trend_dates").set_value((DEMO_NOW.date() - timedelta(days=3), DEMO_NOW.date()))
    rerun(at)
    assert not charts(at)
    assert infos(at) == ["No evaluated interactions match these filters."]


def test_choosing_a_point_opens_its_audit(demo_db: Path) -> None:
    at = open_view(as_user(LEAD_EMAIL, PAGE), "Kore vs audit")
    first = query(demo_db, kore_vs_audit, LEAD_EMAIL, DEFAULT).iloc[0]["conversation_id"]
    at.session_state["scatter"] = {"selection": {POINT_PICK: [{"conversation_id": first}]}}
    rerun(at)
    assert titles(at) == ["Audit"]
    assert at.query_params == {"conversation": first}


# -- an admin and an agent ----------------------------------------------------------------------------


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_renders_for_an_admin(demo_db: Path, view: str) -> None:
    at = open_view(as_user(ADMIN_EMAIL, PAGE), view)
    assert charts(at), f"{view}: no chart drawn; {infos(at)}"
    if view == "Kore vs audit":
        everyone = {n for (n,) in rows(demo_db, "SELECT DISTINCT scored_agent FROM evaluations")}
        assert agents_in(at) <= everyone and not agents_in(at) <= team(demo_db, LEAD_EMAIL)


def test_an_agent_sees_their_own_trends_against_the_team_average(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, PAGE)
    assert titles(at) == ["My Score Trends"]
    assert not at.tabs and not [m for m in at.multiselect if m.label == "Agent"]
    scores, sentiment = charts(at)
    shown = chart_data(scores)
    assert set(shown["series"]) == {"You", "Team average"}
    assert "agent" not in shown.columns
    expected = query(demo_db, own_trends, AGENT_EMAIL, DEFAULT, "week")
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), expected.reset_index(drop=True),
                                  check_dtype=False)
    assert chart_data(sentiment).equals(shown)


# -- a line per agent ---------------------------------------------------------------------------------


def team_ids(db: Path, lead: str) -> list[str]:
    """The person_ids of the lead's agents with evaluations, by name."""
    return [person for person, _ in rows(
        db, "SELECT DISTINCT p.person_id, p.name FROM people p JOIN evaluations e USING (person_id) "
            "WHERE p.team_lead_email = ? ORDER BY p.name", lead)]


def choose_agents(at: AppTest, people: list[str]) -> AppTest:
    [agents] = [m for m in at.multiselect if m.label == "Agent"]
    agents.set_value(people)
    return rerun(at)


def test_two_agents_chosen_draw_a_line_each(demo_db: Path) -> None:
    two = team_ids(demo_db, LEAD_EMAIL)[:2]
    at = choose_agents(as_user(LEAD_EMAIL, PAGE), two)
    chosen = TrendFilters(DEFAULT.start, DEFAULT.end, agents=tuple(two))
    expected = query(demo_db, agent_score_trends, LEAD_EMAIL, chosen, "week")
    assert set(expected["person_id"]) == set(two)
    drawn = charts(at)
    assert len(drawn) == 3  # Kore, audit, sentiment: a line per agent on each
    for chart, measure in zip(drawn, (KORE, AUDIT, SENTIMENT), strict=True):
        spec = json.loads(chart.proto.spec)
        assert spec["title"]["text"] == measure
        line = [layer for layer in spec["layer"] if layer["mark"]["type"] == "line"][0]
        assert line["encoding"]["color"]["field"] == "agent" and line["encoding"]["detail"]["field"] == "person_id"
        assert line["encoding"]["color"]["scale"]["domain"] == list(dict.fromkeys(expected["agent"]))
        pd.testing.assert_frame_equal(chart_data(chart).reset_index(drop=True), expected.reset_index(drop=True),
                                      check_dtype=False)
    # Each agent opens on their own trends against their team's average.
    links = {link.proto.query_string for link in at.get("page_link")}
    assert {urlencode({"agent": person}) for person in two} <= links
    assert [d.label for d in at.get("download_button")] == ["Download CSV"]


def test_more_than_ten_agents_are_one_line_and_the_page_says_so(demo_db: Path) -> None:
    eleven = team_ids(demo_db, LEAD_EMAIL)[:MAX_COMPARED + 1]
    assert len(eleven) == MAX_COMPARED + 1, "the demo team needs 11 evaluated agents"
    at = choose_agents(as_user(LEAD_EMAIL, PAGE), eleven)
    assert infos(at) == [f"11 agents are chosen: more than {MAX_COMPARED} are drawn together, as one line per "
                         f"score. Choose {MAX_COMPARED} or fewer to draw a line for each agent."]
    scores, sentiment = charts(at)
    expected = query(demo_db, score_trends, LEAD_EMAIL, TrendFilters(DEFAULT.start, DEFAULT.end, agents=tuple(eleven)))
    pd.testing.assert_frame_equal(chart_data(scores).reset_index(drop=True), expected.reset_index(drop=True),
                                  check_dtype=False)
    assert json.loads(scores.proto.spec)["layer"][0]["encoding"]["color"]["field"] == "measure"
    # Back to ten: a line each again.
    choose_agents(at, eleven[:MAX_COMPARED])
    assert not infos(at) and len(charts(at)) == 3


# -- the grain only where it changes something --------------------------------------------------------


def grain_controls(at: AppTest) -> list:
    return [c for c in at.get("button_group") if c.label == "Average per"]


def test_the_grain_is_shown_only_in_the_views_it_changes_and_kept_between_them(demo_db: Path) -> None:
    at = as_user(LEAD_EMAIL, PAGE)
    [grain] = grain_controls(at)
    grain.set_value("month")
    rerun(at)
    for view in ("Kore vs audit", "Coaching"):
        open_view(at, view)
        assert charts(at) and grain_controls(at) == [], view
    open_view(at, "Disputes")
    [grain] = grain_controls(at)
    assert grain.value == "month"  # chosen on Score trends, kept while other views were open
    periods = pd.to_datetime(chart_data(charts(at)[0])["period"])
    assert (periods.dt.day == 1).all()
    spec = json.loads(charts(at)[0].proto.spec)
    assert spec["layer"][0]["encoding"]["x"]["axis"]["labelExpr"] == "timeFormat(datum.value, '%b %Y')"
    open_view(at, "Score trends")
    assert [g.value for g in grain_controls(at)] == ["month"]


# -- the pass score -----------------------------------------------------------------------------------


def pass_lines(chart) -> list[float]:
    """Where the chart draws the pass score: the datum of each of its rules."""
    spec = json.loads(chart.proto.spec)
    return [enc["datum"] for layer in spec["layer"] if layer["mark"]["type"] == "rule"
            for enc in (layer["encoding"].get("x", {}), layer["encoding"].get("y", {})) if "datum" in enc]


def test_kore_and_audit_charts_draw_the_pass_score_setting(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACHING_PASS_SCORE", "55")
    at = as_user(LEAD_EMAIL, PAGE)
    scores, sentiment = charts(at)
    assert pass_lines(scores) == [55] and pass_lines(sentiment) == []
    assert any("pass score (55)" in c for c in captions(at))
    open_view(at, "Kore vs audit")
    assert sorted(pass_lines(charts(at)[0])) == [55, 55]  # Kore across, audit up
    own_scores, own_sentiment = charts(as_user(AGENT_EMAIL, PAGE))
    assert pass_lines(own_scores) == [55] and pass_lines(own_sentiment) == []


# -- one agent's trends for their lead ----------------------------------------------------------------


def test_a_lead_opens_an_agents_trends_against_their_team_average(demo_db: Path) -> None:
    person = team_ids(demo_db, LEAD_EMAIL)[0]
    [(name,)] = rows(demo_db, "SELECT name FROM people WHERE person_id = ?", person)
    at = as_user(LEAD_EMAIL, PAGE, agent=person)
    assert titles(at) == [f"Score Trends: {name}"]
    assert not at.tabs and not [m for m in at.multiselect if m.label == "Agent"]
    scores, sentiment = charts(at)
    expected = query(demo_db, own_trends, LEAD_EMAIL, DEFAULT, "week", person)
    shown = chart_data(scores)
    assert set(shown["series"]) == {name, "Team average"}
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)
    assert chart_data(sentiment).equals(shown)
    assert pass_lines(scores) == [40]
    # Day, week or month here too, and a way back to the team's view.
    [grain] = grain_controls(at)
    grain.set_value("day")
    rerun(at)
    daily = query(demo_db, own_trends, LEAD_EMAIL, DEFAULT, "day", person)
    pd.testing.assert_frame_equal(chart_data(charts(at)[0]).reset_index(drop=True), daily.reset_index(drop=True),
                                  check_dtype=False)
    [back] = at.get("page_link")
    assert back.proto.page.endswith("trends") and back.proto.query_string == ""


@pytest.mark.parametrize("asked", ["other team", "no one", ""])
def test_a_lead_asking_for_someone_outside_their_team_sees_a_message_and_no_data(demo_db: Path, asked: str) -> None:
    outsider = rows(demo_db, "SELECT person_id FROM people WHERE role = 'Agent' AND team_lead_email <> ? "
                             "ORDER BY person_id LIMIT 1", LEAD_EMAIL)[0][0]
    person = {"other team": outsider, "no one": "nobody@example.com", "": ""}[asked]
    at = as_user(LEAD_EMAIL, PAGE, agent=person)
    assert titles(at) == ["Score Trends"]
    assert [unescaped(e.value) for e in at.error] == [
        f"No agent “{person}” is among the agents you can see, so there are no score trends to show. Check the "
        "link, or choose an agent from your team's Score Trends."]
    assert not charts(at) and not at.dataframe and not at.get("download_button")
    [back] = at.get("page_link")
    assert back.proto.query_string == ""
    # Their admin sees the other team's agent.
    if asked == "other team":
        assert charts(as_user(ADMIN_EMAIL, PAGE, agent=person))


def test_an_agent_naming_someone_in_the_link_still_sees_only_their_own(demo_db: Path) -> None:
    other = team_ids(demo_db, LEAD_EMAIL)[0]
    at = as_user(AGENT_EMAIL, PAGE, agent=other)
    assert titles(at) == ["My Score Trends"]
    assert set(chart_data(charts(at)[0])["series"]) == {"You", "Team average"}
