"""The Team page through AppTest: a lead sees their team, QA and admins everyone, an agent is not offered
it; the table is the page of `coaching.team.team_page` for the filters, sort and page chosen; the CSV has
every agent and no live formula; choosing an agent offers their Score Trends and their coaching sessions,
and the Coaching Assignments list opens narrowed to them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from coaching import store, team
from coaching.team import LABELS, SORTS, TeamFilters, change_text, team_page, team_table

from app_pages import (
    ADMIN_EMAIL,
    AGENT_EMAIL,
    DEMO_NOW,
    LEAD_EMAIL,
    OTHER_LEAD_EMAIL,
    Downloads,
    as_user,
    captions,
    point_app_at,
    query,
    rerun,
    titles,
)
from exports import IE_COLUMNS, build_store, csv_text, metric_columns, to_csv

PAGE = "pages/team.py"
QA_EMAIL = "qa@example.com"
TODAY = DEMO_NOW.date()
#: October 2026, where the demo's data is (it ends on 1 November), against September.
OCTOBER = TeamFilters(date(2026, 10, 3), date(2026, 11, 1))
#: What a page shows before anything is chosen.
DEFAULT = TeamFilters.last_days(TODAY)



pytestmark = pytest.mark.usefixtures("demo_app")



def expected_page(db: Path, email: str, filters: TeamFilters = OCTOBER, sort: str = "flag",
                  descending: bool = True, page: int = 1, page_size: int = team.PAGE_SIZE) -> team.TeamPage:
    return query(db, team_page, email, filters, sort, descending, page, page_size, 40.0, TODAY)


def in_october(email: str) -> AppTest:
    at = as_user(email, PAGE)
    at.date_input(key="team_dates").set_value((OCTOBER.start, OCTOBER.end))
    return rerun(at)


def table(at: AppTest) -> pd.DataFrame:
    [frame] = [d.value for d in at.dataframe]
    return frame


def shown_columns(at: AppTest) -> list[str]:
    [element] = list(at.dataframe)
    return list(element.proto.column_order)


def sort_by(at: AppTest, sort: str, descending: bool) -> AppTest:
    at.selectbox(key="team_sort").set_value(sort)
    at.session_state["team_direction"] = "Descending" if descending else "Ascending"
    return rerun(at)


def choose_row(at: AppTest, row: int) -> AppTest:
    at.session_state["team_rows"] = {"selection": {"rows": [row], "columns": []}}
    return rerun(at)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def csv_rows(at: AppTest, made: Downloads) -> list[list[str]]:
    [download] = at.get("download_button")
    data = made[download.proto.deferred_file_id]()
    text = data.decode("utf-8") if isinstance(data, bytes) else str(data)
    return list(csv.reader(io.StringIO(text, newline="")))


# -- who sees what ----------------------------------------------------------------------------------


def test_a_lead_sees_their_team_for_the_last_30_days_by_default(demo_db: Path) -> None:
    at = as_user(LEAD_EMAIL, PAGE)
    assert titles(at) == ["Team"]
    expected = expected_page(demo_db, LEAD_EMAIL, DEFAULT)
    assert expected.total == 12
    shown = table(at)
    assert list(shown["person_id"]) == list(expected.rows["person_id"])
    assert any(c.startswith("12 agent(s), by Flag (descending). Interactions from 29 Oct 2026 to 27 Nov 2026, "
                            "each change against 29 Sep 2026 to 28 Oct 2026") for c in captions(at))
    # One team: no Team column; the flag and the agent come first.
    assert shown_columns(at)[:3] == ["flag", "agent", "kore_avg"] and "team" not in shown_columns(at)


def test_a_leads_table_in_october_carries_the_figures_of_the_team_view(demo_db: Path) -> None:
    at = in_october(LEAD_EMAIL)
    expected = expected_page(demo_db, LEAD_EMAIL).rows
    shown = table(at)
    assert list(shown["person_id"]) == list(expected["person_id"])
    for column in ("kore_avg", "kore_n", "audit_avg", "sentiment_avg", "pass_rate", "fatal", "pending_agent",
                   "pending_supervisor", "disputed", "overturn_share", "open_sessions", "overdue"):
        pd.testing.assert_series_equal(shown[column], expected[column], check_names=False, check_dtype=False)
    # A change reads as an arrow and a signed number, blank where a side is too thin.
    assert list(shown["kore_change_text"]) == [change_text(c) for c in expected["kore_change"]]
    assert {t[:1] for t in shown["kore_change_text"]} <= {"▲", "▼", "", "0"}
    assert shown["kore_change_text"].str.startswith(("▲", "▼")).any()
    # Flags with their reasons: every flagged agent says why, no one else does.
    flagged = shown["flag"] != ""
    assert flagged.any() and (shown.loc[flagged, "flag_reason"] != "").all()
    assert (shown.loc[~flagged, "flag_reason"] == "").all()
    assert all(len(weekly) >= 1 for weekly in shown["kore_weekly"])


@pytest.mark.parametrize("email", [QA_EMAIL, ADMIN_EMAIL])
def test_qa_and_admins_see_every_agent_with_their_team(demo_db: Path, email: str) -> None:
    at = in_october(email)
    expected = expected_page(demo_db, email)
    assert expected.total == 24
    assert list(table(at)["person_id"]) == list(expected.rows["person_id"])
    assert "team" in shown_columns(at)
    teams = next(m for m in at.multiselect if m.label == "Team")
    assert len(teams.options) == 2
    teams.set_value([teams.options[1]])
    rerun(at)
    narrowed = expected_page(demo_db, email, TeamFilters(OCTOBER.start, OCTOBER.end, (teams.options[1],)))
    assert narrowed.total == 12 and list(table(at)["person_id"]) == list(narrowed.rows["person_id"])


def test_another_leads_team_is_theirs_alone(demo_db: Path) -> None:
    mine = set(table(in_october(LEAD_EMAIL))["person_id"])
    theirs = set(table(in_october(OTHER_LEAD_EMAIL))["person_id"])
    assert len(mine) == len(theirs) == 12 and not mine & theirs


def test_an_agent_is_not_offered_the_page() -> None:
    at = as_user(AGENT_EMAIL)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)


# -- sorting and paging -----------------------------------------------------------------------------


@pytest.mark.parametrize("sort", list(SORTS))
def test_every_column_sorts_the_table_as_the_team_view_does(demo_db: Path, sort: str) -> None:
    at = in_october(ADMIN_EMAIL)
    assert at.selectbox(key="team_sort").options == [LABELS[key] for key in SORTS]
    descending = list(SORTS).index(sort) % 2 == 0  # both directions across the keys
    sort_by(at, sort, descending)
    expected = expected_page(demo_db, ADMIN_EMAIL, sort=sort, descending=descending)
    assert list(table(at)["person_id"]) == list(expected.rows["person_id"])


def test_the_direction_reverses_the_order_with_missing_values_last(demo_db: Path) -> None:
    at = sort_by(in_october(ADMIN_EMAIL), "audit_change", False)
    ascending = expected_page(demo_db, ADMIN_EMAIL, sort="audit_change", descending=False).rows
    assert list(table(at)["person_id"]) == list(ascending["person_id"])
    sort_by(at, "audit_change", True)
    descending = expected_page(demo_db, ADMIN_EMAIL, sort="audit_change", descending=True).rows
    assert list(table(at)["person_id"]) == list(descending["person_id"])
    assert descending["audit_change"].isna().any() and pd.isna(descending["audit_change"].iloc[-1])


def test_pages_of_the_table_are_cut_in_sql(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(team, "PAGE_SIZE", 5)
    at = sort_by(in_october(ADMIN_EMAIL), "kore_avg", True)
    [control] = [c for c in at.get("button_group") if c.label == "Page"]
    seen = []
    for page in range(1, 6):
        at.session_state["team_page"] = page
        rerun(at)
        expected = expected_page(demo_db, ADMIN_EMAIL, sort="kore_avg", page=page, page_size=5)
        assert (expected.page, expected.pages) == (page, 5)
        assert list(table(at)["person_id"]) == list(expected.rows["person_id"])
        assert f"Page {page} of 5" in captions(at)
        seen += list(table(at)["person_id"])
    assert control is not None and len(seen) == len(set(seen)) == 24
    # Another order starts on the first page again.
    sort_by(at, "agent", False)
    assert at.session_state["team_page"] == 1 and "Page 1 of 5" in captions(at)
    first = expected_page(demo_db, ADMIN_EMAIL, sort="agent", descending=False, page_size=5)
    assert list(table(at)["person_id"]) == list(first.rows["person_id"])


# -- choosing an agent -----------------------------------------------------------------------------


def test_choosing_an_agent_offers_their_trends_and_their_coaching(demo_db: Path) -> None:
    at = in_october(LEAD_EMAIL)
    assert not [b for b in at.button if b.label.startswith("Open their")]
    flagged = table(at)[table(at)["flag"] != ""].index[0]
    row = table(at).loc[flagged]
    choose_row(at, int(flagged))
    assert [b.label for b in at.button if b.label.startswith("Open their")] == [
        "Open their Score Trends", "Open their Coaching Assignments"]
    assert row["flag_reason"] in [t.value for t in at.text]
    button(at, "Open their Score Trends").click()
    rerun(at)
    assert titles(at)[0].startswith("Score Trends") and at.query_params["agent"] == row["person_id"]
    assert at.date_input(key="trend_dates").value == (OCTOBER.start, OCTOBER.end)  # Team's dates
    assert not at.warning

    at = choose_row(in_october(LEAD_EMAIL), int(flagged))
    button(at, "Open their Coaching Assignments").click()
    rerun(at)
    assert titles(at) == ["Coaching Assignments"] and at.query_params["agent"] == row["person_id"]
    agents = next(m for m in at.multiselect if m.label == "Agent")
    assert agents.value == [row["person_id"]]


def test_a_lead_comes_back_from_an_agents_trends_to_the_same_dates_order_and_page(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(team, "PAGE_SIZE", 5)
    at = sort_by(in_october(LEAD_EMAIL), "kore_change", False)
    at.session_state["team_page"] = 2
    rerun(at)
    shown = table(at)
    choose_row(at, 0)
    button(at, "Open their Score Trends").click()
    rerun(at)
    assert titles(at)[0].startswith("Score Trends")
    at.switch_page(PAGE)
    rerun(at)
    assert at.date_input(key="team_dates").value == (OCTOBER.start, OCTOBER.end)
    assert at.selectbox(key="team_sort").value == "kore_change"
    assert at.session_state["team_direction"] == "Ascending"
    assert not at.warning  # kept through the widgets' state, never also as a default
    pd.testing.assert_frame_equal(table(at), shown)
    assert captions(at)[0].startswith(f"{expected_page(demo_db, LEAD_EMAIL).total:,} agent(s), by Kore change "
                                      "(ascending)")


def test_another_order_clears_the_choice(demo_db: Path) -> None:
    at = choose_row(in_october(LEAD_EMAIL), 0)
    assert [b for b in at.button if b.label == "Open their Score Trends"]
    sort_by(at, "agent", False)
    assert not [b for b in at.button if b.label == "Open their Score Trends"]


# -- the CSV ---------------------------------------------------------------------------------------


def test_the_csv_has_every_agent_in_the_tables_order(demo_db: Path, downloads: Downloads) -> None:
    at = sort_by(in_october(ADMIN_EMAIL), "kore_change", False)
    rows = csv_rows(at, downloads)
    whole = query(demo_db, team_table, ADMIN_EMAIL, OCTOBER, "kore_change", False, 40.0, TODAY)
    assert rows[0] == list(team.COLUMNS)
    assert [r[0] for r in rows[1:]] == list(whole["person_id"]) and len(rows) == 25


HOSTILE_AGENT, HOSTILE_TEAM = '=HYPERLINK("http://evil.example","x")', "@Team"


@pytest.fixture
def hostile_db(tmp_path: Path) -> Iterator[Path]:
    """A lead's team whose agent and team are named as spreadsheet formulas; the agent's scores fall."""
    roster = to_csv([
        ["Agent Name", "Email", "Team", "Team Lead", "Role", "Permissions"],
        [HOSTILE_AGENT, "evil.agent@example.com", HOSTILE_TEAM, "sam.ortiz@example.com", "Agent",
         "Agent Dashboard, Coaching Assignments"],
        ["Sam Ortiz", "sam.ortiz@example.com", HOSTILE_TEAM, "", "Supervisor", ""],
    ])
    header = IE_COLUMNS + ",Agent Email," + metric_columns("Greeting")
    # Six at 80 in September, six about 0 in October: falling, and below the pass score.
    scores = [("09", day, 80) for day in range(5, 11)] + [("10", day, (10, -20, 5)[day % 3]) for day in range(5, 11)]
    report = csv_text(header, *(
        to_csv([[f"c-{i}", "Voice", "-Queue", "-Queue", "en", HOSTILE_AGENT, HOSTILE_AGENT,
                 f"2026-{month}-{day:02d}T09:00:00Z", "6", "refund", "0", str(score), "1", "0", "", "inbound",
                 "Evaluated", "Voice form", "Refund", "evil.agent@example.com", "1", "0", "10", "10"]]).rstrip("\n")
        for i, (month, day, score) in enumerate(scores)))
    yield build_store(tmp_path, {"roster.csv": roster, "ie-report.csv": report})
    store.close_all()


def test_the_csv_and_the_page_show_formula_names_as_text(hostile_db: Path, monkeypatch: pytest.MonkeyPatch,
                                                        downloads: Downloads) -> None:
    point_app_at(hostile_db, monkeypatch)
    at = in_october("sam.ortiz@example.com")
    shown = table(at)
    assert list(shown["agent"]) == [HOSTILE_AGENT]  # a dataframe cell is plain text
    assert shown["flag"].iloc[0] == "Falling, below pass"
    rows = csv_rows(at, downloads)
    cells = [cell for row in rows for cell in row]
    assert "'" + HOSTILE_AGENT in cells and "'" + HOSTILE_TEAM in cells
    for cell in cells:
        if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
            float(cell)  # only a number may start so (a negative change)
    assert any(cell.startswith("-") for cell in cells)
    # Choosing the agent names them in markdown as text: escaped, nothing live.
    choose_row(at, 0)
    [named] = [m.value for m in at.markdown if "evil" in m.value and "HYPERLINK" in m.value]
    assert '\\=HYPERLINK\\(\\"http\\:' in named and "](" not in named
