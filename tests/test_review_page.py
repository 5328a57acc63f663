"""The Review page through Streamlit's AppTest: tabs with counts, the open tab in the URL, each tab's
columns, empty states, a lead's Agent column and filter, aging, and rows that open the audit.

What the page shows is compared with `coaching.review_tabs` asked the same question (that module's own
tests check it against hand-built stores and the state machine).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from coaching.review_tabs import (
    DISPUTES_TAB,
    PENDING_TAB,
    RESOLVED_TAB,
    TABS,
    ReviewFilters,
    review_counts,
    review_tab,
)

from app_pages import (
    AGENT_EMAIL,
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

PAGE = "pages/review.py"
NO_FILTERS = ReviewFilters()



pytestmark = pytest.mark.usefixtures("demo_app")


def tab_labels(at: AppTest) -> list[str]:
    return [t.label for t in at.tabs]


def open_tab(at: AppTest) -> str:
    """The tab whose content ran (the page runs only the open one)."""
    [opened] = [t for t in at.tabs if t.children]
    return opened.label


def table(at: AppTest) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """The open tab's rows, its columns in order, and their labels."""
    [frame] = at.dataframe
    labels = {key: spec.get("label") for key, spec in json.loads(frame.proto.columns).items()}
    return frame.value, list(frame.proto.column_order), labels


def expected(db: Path, tab: str, email: str = AGENT_EMAIL, filters: ReviewFilters = NO_FILTERS):
    return query(db, review_tab, email, tab, filters)


# -- tabs, counts and the URL -------------------------------------------------------------------------


def test_three_tabs_with_their_counts_pending_first(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, PAGE)
    assert titles(at) == ["Review"]
    counts = query(demo_db, review_counts, AGENT_EMAIL)
    assert all(counts.values()), "the demo agent has evaluations on every tab"
    assert tab_labels(at) == [f"{TABS[slug]} ({counts[slug]})" for slug in TABS]
    assert open_tab(at) == tab_labels(at)[0]


@pytest.mark.parametrize("slug", list(TABS))
def test_the_tab_in_the_url_is_the_one_open(demo_db: Path, slug: str) -> None:
    at = as_user(AGENT_EMAIL, PAGE, tab=slug)
    assert open_tab(at).startswith(TABS[slug])
    shown, _, _ = table(at)
    assert list(shown["conversation_id"]) == list(expected(demo_db, slug)["conversation_id"])


def test_an_unknown_tab_in_the_url_opens_pending_review(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, PAGE, tab="everything")
    assert open_tab(at).startswith("Pending Review")


@pytest.mark.parametrize("slug", [DISPUTES_TAB, RESOLVED_TAB, PENDING_TAB])
def test_choosing_a_tab_puts_it_in_the_url(demo_db: Path, slug: str) -> None:
    at = as_user(AGENT_EMAIL, PAGE, tab=RESOLVED_TAB if slug == PENDING_TAB else PENDING_TAB)
    label = next(label for label in tab_labels(at) if label.startswith(TABS[slug]))
    at.session_state["review_tab"] = label  # what a click on the tab sets
    rerun(at)
    assert open_tab(at) == label
    assert at.query_params["tab"] == slug
    shown, _, _ = table(at)
    assert list(shown["conversation_id"]) == list(expected(demo_db, slug)["conversation_id"])


# -- each tab's columns -------------------------------------------------------------------------------


def test_pending_review_columns_and_aging(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, PAGE, tab=PENDING_TAB)
    shown, columns, labels = table(at)
    assert [labels[c] for c in columns] == [
        "Date", "Queues", "Supervisor Audit Score", "Review Status", "Waiting", "Service Level",
        "Awaiting Response"]
    want = expected(demo_db, PENDING_TAB)
    assert list(shown["conversation_id"]) == list(want["conversation_id"])
    assert list(shown["date"]) == list(want["start_time"])  # when the interaction happened
    assert set(shown["review_status"]) <= {"Pending Agent Review", "Pending Supervisor Review"}
    assert list(shown["audit_score"]) == list(want["audit_score"])
    waiting = zip(shown["waiting"], shown["waiting_days"], strict=True)
    assert all(w == f"{d:.1f} days" for w, d in waiting)
    # The flag agrees with the waiting time and the default service level of 2 business days.
    assert list(shown["flag"]) == ["Past" if d > 2 else "Within" for d in shown["waiting_days"]]
    assert any(d > 2 for d in shown["waiting_days"]), "the demo agent has a review past the service level"
    flagged = sum(f == "Past" for f in shown["flag"])
    [caption] = [c for c in captions(at) if "evaluation(s)" in c]
    assert caption.startswith(f"{len(want)} evaluation(s), newest first")
    assert (f"{flagged} waiting longer than 2 business days" in caption) == (flagged > 0)


def test_the_service_level_is_a_setting(demo_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("COACHING_REVIEW_SERVICE_LEVEL_DAYS", "30")
    shown, _, _ = table(as_user(AGENT_EMAIL, PAGE, tab=PENDING_TAB))
    flags = [f == "Past" for f in shown["flag"]]
    assert flags == [d > 30 for d in shown["waiting_days"]]
    assert flags != [d > 2 for d in shown["waiting_days"]], "the demo has a review waiting 2 to 30 days"


@pytest.mark.parametrize("value", ["0", "-1", "two", "61"])
def test_a_bad_service_level_is_reported_not_raised(value: str, monkeypatch) -> None:
    monkeypatch.setenv("COACHING_REVIEW_SERVICE_LEVEL_DAYS", value)
    at = as_user(AGENT_EMAIL, PAGE)
    [error] = [e.value for e in at.error]
    assert error.startswith("The dashboard is misconfigured: COACHING_REVIEW_SERVICE_LEVEL_DAYS is")
    assert not at.tabs and not at.dataframe


def test_disputes_columns(demo_db: Path) -> None:
    shown, columns, labels = table(as_user(AGENT_EMAIL, PAGE, tab=DISPUTES_TAB))
    assert [labels[c] for c in columns] == [
        "Date", "Queues", "Supervisor Audit Score", "Dispute Rounds", "Disputed Metrics", "Review Status",
        "Audit Score Movement"]
    want = expected(demo_db, DISPUTES_TAB)
    assert list(shown["conversation_id"]) == list(want["conversation_id"])
    assert list(shown["dispute_rounds"]) == list(want["dispute_rounds"])
    assert [list(m) for m in shown["disputed_metrics"]] == [list(m) for m in want["disputed_metrics"]]
    assert all(len(m) > 0 for m in shown["disputed_metrics"])
    assert list(shown["movement"]) == [" → ".join(f"{s:g}" for s in h) for h in want["audit_score_history"]]
    assert any("→" in m for m in shown["movement"]), "the demo has a re-evaluated dispute"


def test_resolved_columns_date_is_the_completion(demo_db: Path) -> None:
    shown, columns, labels = table(as_user(AGENT_EMAIL, PAGE, tab=RESOLVED_TAB))
    assert [labels[c] for c in columns] == [
        "Completed", "Queues", "Supervisor Audit Score", "Dispute Rounds", "Review Status",
        "Audit Score Movement"]
    want = expected(demo_db, RESOLVED_TAB)
    assert list(shown["conversation_id"]) == list(want["conversation_id"])
    assert list(shown["date"]) == list(want["completed_at"])
    assert list(shown["date"]) == sorted(shown["date"], reverse=True)  # newest first
    assert set(shown["review_status"]) <= {"Resolved", "Closed"}
    assert list(shown["audit_score"]) == list(want["audit_score"])  # the final score


# -- empty states, leads, opening a row ----------------------------------------------------------------


def test_each_tab_has_an_empty_state(demo_db: Path) -> None:
    [(email,)] = rows(
        demo_db,
        "SELECT p.email FROM people p WHERE p.role = 'Agent' AND p.email IS NOT NULL "
        "AND list_contains(p.permissions, 'Coaching Assignments') AND NOT EXISTS (SELECT 1 FROM "
        "evaluation_reviews r JOIN evaluations e USING (conversation_id) WHERE e.scored_agent = p.name) "
        "ORDER BY p.email LIMIT 1")
    for slug, start in ((PENDING_TAB, "Nothing is waiting for review."), (DISPUTES_TAB, "No disputes."),
                        (RESOLVED_TAB, "No completed reviews yet.")):
        at = as_user(email, PAGE, tab=slug)
        assert tab_labels(at) == [f"{label} (0)" for label in TABS.values()]
        assert not at.dataframe
        [message] = infos(at)
        assert message.startswith(start)


def test_a_lead_sees_the_team_with_an_agent_column_and_filter(demo_db: Path) -> None:
    at = as_user(LEAD_EMAIL, PAGE, tab=DISPUTES_TAB)
    shown, columns, labels = table(at)
    assert columns[1] == "agent" and labels["agent"] == "Agent"
    team = expected(demo_db, DISPUTES_TAB, LEAD_EMAIL)
    assert list(shown["conversation_id"]) == list(team["conversation_id"])
    assert len(set(shown["agent"])) > 1
    [agents] = [m for m in at.multiselect if m.label == "Agent"]
    one = sorted(set(shown["agent"]))[0]
    agents.set_value([person_of(demo_db, one)])  # chosen by who they are, shown by name
    rerun(at)
    narrowed, _, _ = table(at)
    assert set(narrowed["agent"]) == {one}
    assert list(narrowed["conversation_id"]) == list(
        expected(demo_db, DISPUTES_TAB, LEAD_EMAIL, ReviewFilters((person_of(demo_db, one),)))["conversation_id"])
    counts = query(demo_db, review_counts, LEAD_EMAIL, ReviewFilters((person_of(demo_db, one),)))
    assert tab_labels(at) == [f"{TABS[slug]} ({counts[slug]})" for slug in TABS]


def test_an_agent_has_no_agent_column_or_filter(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, PAGE, tab=DISPUTES_TAB)
    _, columns, _ = table(at)
    assert "agent" not in columns
    assert not [m for m in at.multiselect if m.label == "Agent"]


@pytest.mark.parametrize("slug", list(TABS))
def test_choosing_a_row_opens_its_audit_and_back_returns_to_the_tab(demo_db: Path, slug: str) -> None:
    at = as_user(AGENT_EMAIL, PAGE, tab=slug)
    shown, _, _ = table(at)
    at.session_state[f"review_rows_{slug}"] = {"selection": {"rows": [0], "columns": []}}
    rerun(at)
    conversation = shown.iloc[0]["conversation_id"]
    assert at.query_params == {"conversation": conversation, "tab": slug}
    assert titles(at) == ["Audit"]
    assert any(f"Conversation: {conversation}" in c for c in captions(at))
    assert "Review history" in [s.value for s in at.subheader]
    next(b for b in at.button if b.label == "Back to Review").click()
    rerun(at)
    assert titles(at) == ["Review"]
    assert open_tab(at).startswith(TABS[slug])


def test_a_leads_agent_filter_outlasts_a_look_at_an_audit(demo_db: Path) -> None:
    at = as_user(LEAD_EMAIL, PAGE, tab=DISPUTES_TAB)
    [agents] = [m for m in at.multiselect if m.label == "Agent"]
    one = sorted(set(table(at)[0]["agent"]))[0]
    agents.set_value([person_of(demo_db, one)])
    rerun(at)
    narrowed, _, _ = table(at)
    at.session_state[f"review_rows_{DISPUTES_TAB}"] = {"selection": {"rows": [0], "columns": []}}
    rerun(at)
    assert titles(at) == ["Audit"]
    next(b for b in at.button if b.label == "Back to Review").click()
    rerun(at)
    assert [m.value for m in at.multiselect if m.label == "Agent"] == [[person_of(demo_db, one)]]
    assert list(table(at)[0]["conversation_id"]) == list(narrowed["conversation_id"])


def test_cached_review_figures_never_cross_agents(demo_db: Path) -> None:
    """Two agents one after the other, twice: each sees their own counts and rows, never the other's."""
    [(other,)] = rows(
        demo_db,
        "SELECT p.email FROM people p JOIN evaluations e ON e.scored_agent = p.name "
        "JOIN evaluation_reviews r USING (conversation_id) WHERE p.role = 'Agent' AND p.email <> ? "
        "AND list_contains(p.permissions, 'Coaching Assignments') GROUP BY p.email "
        "ORDER BY count(*) DESC, p.email LIMIT 1", AGENT_EMAIL)
    for email in (AGENT_EMAIL, other, AGENT_EMAIL, other):
        at = as_user(email, PAGE, tab=RESOLVED_TAB)
        counts = query(demo_db, review_counts, email)
        assert tab_labels(at) == [f"{TABS[slug]} ({counts[slug]})" for slug in TABS]
        if counts[RESOLVED_TAB]:
            shown, _, _ = table(at)
            assert list(shown["conversation_id"]) == list(expected(demo_db, RESOLVED_TAB, email)["conversation_id"])
            [name] = {n for (n,) in rows(demo_db, "SELECT name FROM people WHERE email = ?", email)}
            assert set(shown["agent"]) == {name}
