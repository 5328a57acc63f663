"""The Metric Heatmap page through AppTest: it draws what `coaching.metric_heatmap` computes for a lead (their
team), QA and an admin (everyone, the chart cut to the agents that matter most over a large scope); a chosen
cell lists the agent's not-adhered interactions and a chosen row opens its audit; an agent is not offered
the page; the CSV download holds no live formula, whatever the names imported.

Chart selections are simulated as Streamlit records them: the chart's state (``heatmap_chart``) holding the
chosen points under the selection's name; a chosen table row likewise (``heatmap_rows``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from coaching import metric_heatmap as heatmap_module
from coaching import store
from coaching.charts import CELL_PICK
from coaching.metric_heatmap import (
    BY_NAME,
    FEW,
    arrange,
    metric_heatmap,
    not_adhered_interactions,
)
from coaching.team import TeamFilters
from ui.text import escape_markdown

from app_pages import (
    ADMIN_EMAIL,
    AGENT_EMAIL,
    DEMO_NOW,
    LEAD_EMAIL,
    Downloads,
    as_user,
    captions,
    infos,
    point_app_at,
    query,
    rerun,
    rows,
    titles,
)
from exports import IE_COLUMNS, build_store, csv_text, metric_columns, to_csv
from list_view import unescaped

PAGE = "pages/heatmap.py"
QA_EMAIL = "qa@example.com"
OCTOBER = TeamFilters(date(2026, 10, 1), date(2026, 10, 31))
#: The columns the chart draws, as arrange gives them.
DRAWN = ["person_id", "agent", "metric", "scored", "not_adhered", "share", "team_rate", "above_team", "thin",
         "row"]



pytestmark = pytest.mark.usefixtures("demo_app")


def chart_data(at: AppTest) -> pd.DataFrame:
    """The rows the page's one chart draws, as it handed them to Streamlit."""
    [chart] = at.get("vega_lite_chart")
    return pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_all().to_pandas()


def in_october(email: str, **params: str) -> AppTest:
    at = as_user(email, PAGE, **params)
    at.date_input(key="heatmap_dates").set_value((OCTOBER.start, OCTOBER.end))
    return rerun(at)


def choose_cell(at: AppTest, person_id: str, metric: str) -> AppTest:
    at.session_state["heatmap_chart"] = {"selection": {CELL_PICK: [{"person_id": person_id, "metric": metric}]}}
    return rerun(at)


def team_of(db: Path, lead: str) -> set[str]:
    return {p for (p,) in rows(db, "SELECT person_id FROM people WHERE team_lead_email = ?", lead)}


def assert_draws(at: AppTest, expected: pd.DataFrame) -> None:
    shown = chart_data(at)
    pd.testing.assert_frame_equal(shown[DRAWN].reset_index(drop=True), expected[DRAWN].reset_index(drop=True),
                                  check_dtype=False)


# -- a lead, QA and an admin -------------------------------------------------------------------------------


def test_a_lead_sees_their_teams_heatmap(demo_db: Path) -> None:
    at = in_october(LEAD_EMAIL)
    assert titles(at) == ["Metric Heatmap"]
    expected = arrange(query(demo_db, metric_heatmap, LEAD_EMAIL, OCTOBER))
    assert_draws(at, expected)
    assert set(chart_data(at)["person_id"]) <= team_of(demo_db, LEAD_EMAIL)
    [caption] = captions(at)
    assert "their team's rate" in caption and f"fewer than {FEW} scored" in caption
    assert "Above each column, the team's rate" in caption  # one team: its rate above each metric
    assert [d.label for d in at.get("download_button")] == ["Download CSV"]
    assert [s.label for s in at.selectbox] == ["Order agents by"]
    assert not at.dataframe  # no cell chosen yet


def test_the_default_is_the_last_30_days(demo_db: Path) -> None:
    at = as_user(LEAD_EMAIL, PAGE)
    default = TeamFilters.last_days(DEMO_NOW.date())
    assert at.date_input(key="heatmap_dates").value == (default.start, default.end)
    assert_draws(at, arrange(query(demo_db, metric_heatmap, LEAD_EMAIL, default)))


@pytest.mark.parametrize("email", [QA_EMAIL, ADMIN_EMAIL])
def test_qa_and_admins_see_everyone(demo_db: Path, email: str) -> None:
    at = in_october(email)
    assert_draws(at, arrange(query(demo_db, metric_heatmap, email, OCTOBER)))
    assert chart_data(at)["person_id"].nunique() == 24  # every demo agent: fewer than the chart's most
    assert chart_data(at)["team"].nunique() > 1
    assert not [c for c in captions(at) if "The chart draws" in c]
    # Several teams: each agent against their own, the rates in the tooltip rather than above the columns.
    [caption] = captions(at)
    assert "their team's rate" in caption and "Point at a cell for the agent's team and its rate" in caption


def test_over_many_agents_the_chart_draws_the_furthest_above_the_team_rate(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heatmap_module, "MOST_AGENTS", 5)
    at = in_october(ADMIN_EMAIL)
    cells = query(demo_db, metric_heatmap, ADMIN_EMAIL, OCTOBER)
    assert_draws(at, arrange(cells, rows=5))
    assert list(dict.fromkeys(chart_data(at)["person_id"])) == list(dict.fromkeys(cells["person_id"]))[:5]
    assert any("The chart draws 5 of 24 agents" in c and "the CSV has every cell" in c for c in captions(at))


def test_the_team_filter_and_the_order(demo_db: Path) -> None:
    at = in_october(ADMIN_EMAIL)
    [team] = [m for m in at.multiselect if m.label == "Team"]
    first = team.options[0]
    team.set_value([first])
    rerun(at)
    narrowed = TeamFilters(OCTOBER.start, OCTOBER.end, (first,))
    assert_draws(at, arrange(query(demo_db, metric_heatmap, ADMIN_EMAIL, narrowed)))
    at.selectbox(key="heatmap_order").set_value((BY_NAME, None))
    rerun(at)
    assert_draws(at, arrange(query(demo_db, metric_heatmap, ADMIN_EMAIL, narrowed), BY_NAME))


def test_dates_without_interactions_say_so(demo_db: Path) -> None:
    at = as_user(LEAD_EMAIL, PAGE)
    at.date_input(key="heatmap_dates").set_value((date(2026, 11, 20), date(2026, 11, 27)))
    rerun(at)
    assert not at.get("vega_lite_chart")
    assert infos(at) == ["No evaluated interactions with metric results in these dates and teams."]


# -- choosing a cell, then an interaction ------------------------------------------------------------------


def a_cell(db: Path, email: str = LEAD_EMAIL) -> pd.Series:
    """The lead's cell with the most not-adhered interactions."""
    cells = query(db, metric_heatmap, email, OCTOBER)
    return cells.sort_values(["not_adhered", "person_id", "metric"], ascending=[False, True, True]).iloc[0]


def test_choosing_a_cell_lists_the_agents_not_adhered_interactions(demo_db: Path) -> None:
    cell = a_cell(demo_db)
    at = choose_cell(in_october(LEAD_EMAIL), cell["person_id"], cell["metric"])
    assert at.query_params == {"agent": cell["person_id"], "metric": cell["metric"]}
    assert [unescaped(s.value) for s in at.subheader] == [f"{cell['agent']} · {cell['metric']}"]
    expected = query(demo_db, not_adhered_interactions, LEAD_EMAIL, OCTOBER, cell["person_id"], cell["metric"])
    assert len(expected) == cell["not_adhered"] > 0
    [table] = at.dataframe
    pd.testing.assert_frame_equal(table.value.reset_index(drop=True), expected, check_dtype=False)
    assert any(f"Not adhered in {cell['not_adhered']} of {cell['scored']} scored" in c for c in captions(at))
    # Choosing the cell again, or nothing new, keeps it; clearing the choice closes the list.
    rerun(at)
    assert at.dataframe
    at.session_state["heatmap_chart"] = {"selection": {CELL_PICK: []}}
    rerun(at)
    assert not at.dataframe and "agent" not in at.query_params


def test_choosing_an_interaction_opens_its_audit_and_the_page_keeps_the_cell(demo_db: Path) -> None:
    cell = a_cell(demo_db)
    at = choose_cell(in_october(LEAD_EMAIL), cell["person_id"], cell["metric"])
    newest = at.dataframe[0].value.iloc[0]["conversation_id"]
    at.session_state["heatmap_rows"] = {"selection": {"rows": [0], "columns": []}}
    rerun(at)
    assert titles(at) == ["Audit"]
    assert at.query_params == {"conversation": newest}
    # Back on the heatmap (the browser's back button brings the audit's query along, the sidebar none):
    # the dates chosen, and the cell, again in the URL.
    for back in ({"conversation": newest}, {}):
        at.switch_page(PAGE)
        at.query_params.clear()
        at.query_params.update(back)
        rerun(at)
        assert at.date_input(key="heatmap_dates").value == (OCTOBER.start, OCTOBER.end)
        assert [unescaped(s.value) for s in at.subheader] == [f"{cell['agent']} · {cell['metric']}"]
        assert at.dataframe[0].value.iloc[0]["conversation_id"] == newest
        assert at.query_params == {"agent": cell["person_id"], "metric": cell["metric"]}


def test_a_link_to_a_cell_opens_its_list(demo_db: Path) -> None:
    cell = a_cell(demo_db)
    at = in_october(LEAD_EMAIL, agent=cell["person_id"], metric=cell["metric"])
    assert len(at.dataframe[0].value) == cell["not_adhered"]


def test_another_teams_agent_shows_nothing(demo_db: Path) -> None:
    other = a_cell(demo_db, "zoe.zimmer@example.com")
    assert other["person_id"] not in team_of(demo_db, LEAD_EMAIL)
    at = in_october(LEAD_EMAIL, agent=other["person_id"], metric=other["metric"])
    assert not at.dataframe and not at.subheader
    assert infos(at) == ["That agent has no scored interactions of that metric in these dates and teams."]


def test_an_agent_is_not_offered_the_page() -> None:
    at = as_user(AGENT_EMAIL)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)


# -- the CSV -----------------------------------------------------------------------------------------------

HOSTILE_AGENT, HOSTILE_TEAM, HOSTILE_METRIC = '=HYPERLINK("http://evil.example","x")', "@Team", "+Tone - Sum(1)"


@pytest.fixture
def hostile_db(tmp_path: Path) -> Iterator[Path]:
    """A lead's team whose agent, team and a metric are named as spreadsheet formulas."""
    roster = to_csv([
        ["Agent Name", "Email", "Team", "Team Lead", "Role", "Permissions"],
        [HOSTILE_AGENT, "evil.agent@example.com", HOSTILE_TEAM, "sam.ortiz@example.com", "Agent",
         "Agent Dashboard, Coaching Assignments"],
        ["Sam Ortiz", "sam.ortiz@example.com", HOSTILE_TEAM, "", "Supervisor", ""],
    ])
    header = IE_COLUMNS + ",Agent Email," + metric_columns("Greeting", HOSTILE_METRIC)
    report = csv_text(header, *(
        to_csv([[f"c-{i}", "Voice", "-Queue", "-Queue", "en", HOSTILE_AGENT, HOSTILE_AGENT,
                 f"2026-10-{i + 1:02d}T09:00:00Z", "6", "refund", "0", "40", "1", "0", "", "inbound", "Evaluated",
                 "Voice form", "Refund", "evil.agent@example.com", "1", "0", "10", "10", str(i % 2), "0", "10",
                 "10"]]).rstrip("\n")
        for i in range(6)))
    yield build_store(tmp_path, {"roster.csv": roster, "ie-report.csv": report})
    store.close_all()



def test_the_csv_has_every_cell_and_no_live_formula(hostile_db: Path, monkeypatch: pytest.MonkeyPatch,
                                                    downloads: Downloads) -> None:
    point_app_at(hostile_db, monkeypatch)
    at = choose_cell(in_october("sam.ortiz@example.com"), "evil.agent@example.com", HOSTILE_METRIC)
    [button] = at.get("download_button")
    data = downloads[button.proto.deferred_file_id]()
    table = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert len(table) == 1 + 2  # the header and both cells (Greeting and the hostile metric)
    cells = [cell for row in table for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    for name in (HOSTILE_AGENT, HOSTILE_TEAM, HOSTILE_METRIC):
        assert "'" + name in cells  # shown as text by a spreadsheet
    # On the page the names are text too: the subheader shows them as written, escaped.
    [subheader] = at.subheader
    assert unescaped(subheader.value) == f"{HOSTILE_AGENT} · {HOSTILE_METRIC}"
    assert escape_markdown(HOSTILE_AGENT) in subheader.value and escape_markdown(HOSTILE_METRIC) in subheader.value
    assert len(at.dataframe[0].value) == 3  # c-0, c-2 and c-4 missed it
