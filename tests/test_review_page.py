"""The Review page through Streamlit's AppTest: tabs with counts, the open tab in the URL, each tab's
rows and their columns, the order and the pages, empty states, a lead's Agent column and filter, aging
and the flag past the service level, and each row's link to its audit.

Each evaluation is a row (a container keyed ``review-row-<position>``) read as a person reads it: the
cell under each heading, and the row's "Open audit" link. What the page shows is compared with
`coaching.review_tabs` asked the same question (that module's own tests check it against hand-built
stores and the state machine).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from coaching.review_tabs import (
    DISPUTES_TAB,
    LONGEST_WAITING,
    LOWEST_SCORE,
    PAGE_SIZE,
    PENDING_TAB,
    RESOLVED_TAB,
    STATUS_MARKERS,
    TABS,
    ReviewFilters,
    orders_for,
    review_counts,
    review_tab,
    score_movement,
    with_aging,
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
from list_view import captions_in, keyed_block, list_header, statuses_in, tags_in, texts_in, walk

PAGE = "pages/review.py"
NO_FILTERS = ReviewFilters()
#: Each tab's headings as an agent reads them (a lead's have "Agent" second); the link's column has none.
HEADINGS = {
    PENDING_TAB: ["Date", "Supervisor Audit Score", "Review Status", "Waiting", "Awaiting Response"],
    DISPUTES_TAB: ["Date", "Supervisor Audit Score", "Dispute Rounds", "Disputed Metrics", "Review Status"],
    RESOLVED_TAB: ["Completed", "Supervisor Audit Score", "Dispute Rounds", "Review Status"],
}


pytestmark = pytest.mark.usefixtures("demo_app")


def tab_labels(at: AppTest) -> list[str]:
    return [t.label for t in at.tabs]


def open_tab(at: AppTest) -> str:
    """The tab whose content ran (the page runs only the open one)."""
    [opened] = [t for t in at.tabs if t.children]
    return opened.label


def cell(node) -> dict:
    return {"texts": texts_in(node), "captions": captions_in(node), "tags": tags_in(node),
            "statuses": statuses_in(node),
            "links": [e for e in walk(node) if e.type == "page_link"]}


def table(at: AppTest) -> list[dict[str, dict]]:
    """The open tab's rows on this page, each as its cells by heading ("" for the link's cell)."""
    headings = [*list_header(at), ""]
    found = []
    while (block := keyed_block(at, f"review-row-{len(found)}")) is not None:
        cells = list(block.children[0].children.values())
        assert len(cells) == len(headings), (headings, len(cells))
        found.append({heading: cell(node) for heading, node in zip(headings, cells, strict=True)})
    return found


def conversations(shown: list[dict[str, dict]]) -> list[str]:
    """The conversation each row's link opens."""
    return [link_of(row)["conversation"] for row in shown]


def link_of(row: dict[str, dict]) -> dict[str, str]:
    """The query of the row's one link (it opens the audit)."""
    [link] = row[""]["links"]
    assert link.proto.label == "Open audit" and link.proto.page.endswith("audit")
    return dict(pair.split("=", 1) for pair in link.proto.query_string.split("&"))


def expected(db: Path, tab: str, email: str = AGENT_EMAIL, filters: ReviewFilters = NO_FILTERS, **kwargs):
    return query(db, review_tab, email, tab, filters, **kwargs)


def caption_of(at: AppTest) -> str:
    [caption] = [c for c in captions(at) if "evaluation(s)" in c]
    return caption


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
    assert conversations(table(at)) == list(expected(demo_db, slug)["conversation_id"])


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
    assert conversations(table(at)) == list(expected(demo_db, slug)["conversation_id"])


# -- each tab's rows ----------------------------------------------------------------------------------


def check_common(row: dict[str, dict], want: pd.Series, date_heading: str = "Date") -> None:
    """The cells every tab has: the date (its time and the queues under it), the current audit score (its
    movement under it, when it moved), the review status (coloured, after its icon)."""
    date = want["date"]
    assert row[date_heading]["texts"] == [f"{date:%d %b %Y}"]
    assert row[date_heading]["captions"] == [f"{date:%H:%M} · {', '.join(want['queues'])}"]
    score = row["Supervisor Audit Score"]
    assert score["texts"] == ["—" if pd.isna(want["audit_score"]) else f"{want['audit_score']:g}"]
    history = list(want["audit_score_history"])
    assert score["captions"] == ([score_movement(history)] if len(history) > 1 else [])
    [status] = row["Review Status"]["statuses"]
    marker = STATUS_MARKERS[want["review_status"]]
    assert (status.label, status.colour, f":material/{status.icon}:") == (
        want["review_status"], marker.colour, marker.icon)


def test_pending_review_rows_and_aging(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, PAGE, tab=PENDING_TAB)
    assert list_header(at) == HEADINGS[PENDING_TAB]
    shown = table(at)
    want = with_aging(expected(demo_db, PENDING_TAB), DEMO_NOW, 2.0)
    assert conversations(shown) == list(want["conversation_id"])
    assert list(want["date"]) == list(want["start_time"])  # when the interaction happened
    for row, (_, wanted) in zip(shown, want.iterrows(), strict=True):
        check_common(row, wanted)
        assert wanted["review_status"] in ("Pending Agent Review", "Pending Supervisor Review")
        waiting = row["Waiting"]
        assert waiting["texts"] == [f"{wanted['waiting_days']:.1f} days"]
        # Past the service level stands out: a red "Past" under the waiting time; within it, nothing.
        assert [(t.label, t.colour) for t in waiting["tags"]] == (
            [("Past", "red")] if wanted["waiting_days"] > 2 else [])
        awaiting = list(wanted["awaiting_response"])
        assert row["Awaiting Response"]["texts"] == [", ".join(awaiting) if awaiting else "—"]
    flagged = int(want["past_service_level"].sum())
    assert flagged, "the demo agent has a review past the service level"
    assert caption_of(at).startswith(f"{len(want)} evaluation(s), newest first")
    assert f"{flagged} waiting longer than 2 business days" in caption_of(at)


def test_the_service_level_is_a_setting(demo_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("COACHING_REVIEW_SERVICE_LEVEL_DAYS", "30")
    shown = table(as_user(AGENT_EMAIL, PAGE, tab=PENDING_TAB))
    want = with_aging(expected(demo_db, PENDING_TAB), DEMO_NOW, 30.0)
    flags = [bool(row["Waiting"]["tags"]) for row in shown]
    assert flags == list(want["past_service_level"])
    assert flags != [d > 2 for d in want["waiting_days"]], "the demo has a review waiting 2 to 30 days"


@pytest.mark.parametrize("value", ["0", "-1", "two", "61"])
def test_a_bad_service_level_is_reported_not_raised(value: str, monkeypatch) -> None:
    monkeypatch.setenv("COACHING_REVIEW_SERVICE_LEVEL_DAYS", value)
    at = as_user(AGENT_EMAIL, PAGE)
    [error] = [e.value for e in at.error]
    assert error.startswith("The dashboard is misconfigured: COACHING_REVIEW_SERVICE_LEVEL_DAYS is")
    assert not at.tabs and keyed_block(at, "review-row-0") is None


def test_disputes_rows(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, PAGE, tab=DISPUTES_TAB)
    assert list_header(at) == HEADINGS[DISPUTES_TAB]
    shown = table(at)
    want = expected(demo_db, DISPUTES_TAB)
    assert conversations(shown) == list(want["conversation_id"])
    for row, (_, wanted) in zip(shown, want.iterrows(), strict=True):
        check_common(row, wanted)
        assert row["Dispute Rounds"]["texts"] == [str(wanted["dispute_rounds"])]
        assert row["Disputed Metrics"]["texts"] == [", ".join(wanted["disputed_metrics"])]
        assert len(wanted["disputed_metrics"]) > 0
    assert any("→" in c for row in shown for c in row["Supervisor Audit Score"]["captions"]), \
        "the demo has a re-evaluated dispute"


def test_resolved_rows_date_is_the_completion(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, PAGE, tab=RESOLVED_TAB)
    assert list_header(at) == HEADINGS[RESOLVED_TAB]
    shown = table(at)
    want = expected(demo_db, RESOLVED_TAB)
    assert conversations(shown) == list(want["conversation_id"])
    assert list(want["date"]) == list(want["completed_at"])
    assert list(want["date"]) == sorted(want["date"], reverse=True)  # newest first
    for row, (_, wanted) in zip(shown, want.iterrows(), strict=True):
        check_common(row, wanted, "Completed")
        assert wanted["review_status"] in ("Resolved", "Closed")


# -- order and pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", list(TABS))
def test_each_order_lists_the_tab_as_the_store_orders_it(demo_db: Path, slug: str) -> None:
    at = as_user(LEAD_EMAIL, PAGE, tab=slug)
    order = at.selectbox(key=f"review_order_{slug}")
    assert order.options == list(orders_for(slug)) and order.value == orders_for(slug)[0]
    for chosen in orders_for(slug):
        at.selectbox(key=f"review_order_{slug}").set_value(chosen)
        rerun(at)
        want = expected(demo_db, slug, LEAD_EMAIL, order=chosen)
        assert conversations(table(at)) == list(want["conversation_id"].head(PAGE_SIZE)), chosen
        assert caption_of(at).startswith(f"{len(want)} evaluation(s), {chosen.lower()}")


def test_longest_waiting_first_puts_the_oldest_status_on_top(demo_db: Path) -> None:
    at = as_user(LEAD_EMAIL, PAGE, tab=PENDING_TAB)
    at.selectbox(key=f"review_order_{PENDING_TAB}").set_value(LONGEST_WAITING)
    rerun(at)
    waited = [float(row["Waiting"]["texts"][0].split()[0]) for row in table(at)]
    assert waited == sorted(waited, reverse=True) and len(set(waited)) > 1


def test_a_long_tab_comes_in_pages_and_another_order_starts_on_the_first(demo_db: Path) -> None:
    want = expected(demo_db, RESOLVED_TAB, ADMIN_EMAIL)
    pages = -(-len(want) // PAGE_SIZE)
    assert pages >= 2, "everyone's resolved reviews fill more than one page"
    at = as_user(ADMIN_EMAIL, PAGE, tab=RESOLVED_TAB)
    seen = []
    for page in range(1, pages + 1):
        [control] = [c for c in [*at.get("button_group"), *at.number_input] if c.label == "Page"]
        control.set_value(page)
        rerun(at)
        assert f"Page {page} of {pages}" in captions(at)
        seen += conversations(table(at))
    assert seen == list(want["conversation_id"])
    at.selectbox(key=f"review_order_{RESOLVED_TAB}").set_value(LOWEST_SCORE)
    rerun(at)
    assert f"Page 1 of {pages}" in captions(at) and at.session_state[f"review_page_{RESOLVED_TAB}"] == 1
    lowest = expected(demo_db, RESOLVED_TAB, ADMIN_EMAIL, order=LOWEST_SCORE)
    assert conversations(table(at)) == list(lowest["conversation_id"].head(PAGE_SIZE))


def test_a_tab_that_fits_one_page_has_no_page_control(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, PAGE, tab=DISPUTES_TAB)
    assert not [c for c in [*at.get("button_group"), *at.number_input] if c.label == "Page"]
    assert not [c for c in captions(at) if c.startswith("Page ")]


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
        assert not table(at) and not at.selectbox
        [message] = infos(at)
        assert message.startswith(start)


def test_a_lead_sees_the_team_with_an_agent_column_and_filter(demo_db: Path) -> None:
    at = as_user(LEAD_EMAIL, PAGE, tab=DISPUTES_TAB)
    assert list_header(at) == ["Date", "Agent", *HEADINGS[DISPUTES_TAB][1:]]
    shown = table(at)
    team = expected(demo_db, DISPUTES_TAB, LEAD_EMAIL)
    assert conversations(shown) == list(team["conversation_id"])
    assert [row["Agent"]["texts"] for row in shown] == [[agent] for agent in team["agent"]]
    assert len(set(team["agent"])) > 1
    [agents] = [m for m in at.multiselect if m.label == "Agent"]
    one = sorted(set(team["agent"]))[0]
    agents.set_value([person_of(demo_db, one)])  # chosen by who they are, shown by name
    rerun(at)
    narrowed = table(at)
    assert {row["Agent"]["texts"][0] for row in narrowed} == {one}
    assert conversations(narrowed) == list(
        expected(demo_db, DISPUTES_TAB, LEAD_EMAIL, ReviewFilters((person_of(demo_db, one),)))["conversation_id"])
    counts = query(demo_db, review_counts, LEAD_EMAIL, ReviewFilters((person_of(demo_db, one),)))
    assert tab_labels(at) == [f"{TABS[slug]} ({counts[slug]})" for slug in TABS]


def test_an_agent_has_no_agent_column_or_filter(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, PAGE, tab=DISPUTES_TAB)
    assert "Agent" not in list_header(at)
    assert not [m for m in at.multiselect if m.label == "Agent"]


def follow(at: AppTest, row: dict[str, dict]) -> AppTest:
    """Open the page a row's link opens, as a click on it does (AppTest has no click on a page link: the
    browser journey clicks it for real)."""
    at.switch_page("pages/audit.py")
    at.query_params.clear()
    at.query_params.update(link_of(row))
    return rerun(at)


@pytest.mark.parametrize("slug", list(TABS))
def test_each_rows_link_opens_its_audit_and_back_returns_to_the_tab(demo_db: Path, slug: str) -> None:
    at = as_user(AGENT_EMAIL, PAGE, tab=slug)
    shown = table(at)
    # Every row has one link, to its own evaluation's audit, remembering the tab to come back to.
    assert [link_of(row) for row in shown] == [
        {"conversation": c, "tab": slug} for c in expected(demo_db, slug)["conversation_id"]]
    conversation = conversations(shown)[0]
    follow(at, shown[0])
    assert titles(at) == ["Audit"]
    assert any(f"Conversation: {conversation}" in c for c in captions(at))
    assert "Review history" in [s.value for s in at.subheader]
    next(b for b in at.button if b.label == "Back to Review").click()
    rerun(at)
    assert titles(at) == ["Review"]
    assert open_tab(at).startswith(TABS[slug])


def test_a_leads_agent_filter_order_and_page_outlast_a_look_at_an_audit(demo_db: Path) -> None:
    at = as_user(LEAD_EMAIL, PAGE, tab=DISPUTES_TAB)
    [agents] = [m for m in at.multiselect if m.label == "Agent"]
    one = sorted({row["Agent"]["texts"][0] for row in table(at)})[0]
    agents.set_value([person_of(demo_db, one)])
    at.selectbox(key=f"review_order_{DISPUTES_TAB}").set_value(LOWEST_SCORE)
    rerun(at)
    narrowed = table(at)
    follow(at, narrowed[0])
    assert titles(at) == ["Audit"]
    next(b for b in at.button if b.label == "Back to Review").click()
    rerun(at)
    assert [m.value for m in at.multiselect if m.label == "Agent"] == [[person_of(demo_db, one)]]
    assert at.selectbox(key=f"review_order_{DISPUTES_TAB}").value == LOWEST_SCORE
    assert conversations(table(at)) == conversations(narrowed)


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
            assert conversations(table(at)) == list(expected(demo_db, RESOLVED_TAB, email)["conversation_id"])
