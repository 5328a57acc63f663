"""The Score Trends page through AppTest: every view renders for a lead, an admin and an agent, the
charts carry the figures `coaching.trends` computes, and a lead's views hold only their team.

A chart's data is read from what the page hands Streamlit (the Vega-Lite element's Arrow datasets).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from coaching import store
from coaching.charts import POINT_PICK
from coaching.trends import (
    DEFAULT_DAYS,
    TrendFilters,
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
    point_app_at,
    query,
    rerun,
    rows,
    titles,
)
from exports import build_demo_store

PAGE = "pages/trends.py"
VIEWS = ["Score trends", "Kore vs audit", "Coaching", "Disputes"]
#: The page's default: the last 90 days up to the (fixed) today.
DEFAULT = TrendFilters(DEMO_NOW.date() - timedelta(days=DEFAULT_DAYS - 1), DEMO_NOW.date())


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield build_demo_store(tmp_path_factory.mktemp("trends-page"))
    store.close_all()


@pytest.fixture(autouse=True)
def app_env(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    point_app_at(demo_db, monkeypatch)


def charts(at: AppTest) -> list:
    return list(at.get("vega_lite_chart"))


def chart_data(chart) -> pd.DataFrame:
    """The rows a chart draws (its first dataset), as the page handed them to Streamlit."""
    datasets = list(chart.proto.datasets)
    assert datasets, "the chart carries no data"
    return pa.ipc.open_stream(datasets[0].data.data).read_all().to_pandas()


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
    assert [d.label for d in at.get("download_button")] == ["Download CSV", "Download CSV"]  # monitor, effect


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
