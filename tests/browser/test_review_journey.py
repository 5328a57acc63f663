"""The Review journey in a real browser: the three tabs, each with its count and its evaluations in
order, a row's audit and the way back to its tab, and a tab opened by its link (`?tab=`).

What the test expects comes from the store, through the page's own rules (`coaching.review_tabs`), and
what the page shows is read from the tabs' labels and the grids' own CSV downloads.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pandas as pd
import pytest

from coaching import access, store
from coaching.demo import DEMO_PASSWORD
from coaching.review_tabs import DISPUTES_TAB, PENDING_TAB, RESOLVED_TAB, TABS, review_tab

from .conftest import Dashboard
from .test_coaching_journey import (
    _app_idle,
    _choose_row,
    _grid_rows,
    _query,
    _ready_grid,
    _settle_for_screenshot,
)
from .test_sign_in import AGENT_EMAIL, PLAIN_DOWNLOADS, _expect, _expect_sign_in_form, _sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser


def _expected_tabs(db: Path) -> dict[str, pd.DataFrame]:
    """Each tab's evaluations for the demo agent, newest first, as the page's rules pick them."""
    with store.open_store(db).snapshot() as con:
        viewer = access.identify(con, AGENT_EMAIL)
        return {tab: review_tab(con, viewer, tab) for tab in TABS}


def _identity(row: dict[str, str]) -> tuple[str, str, str, str]:
    """A grid row as its CSV gives it, by the columns that tell evaluations apart: the date (to the
    millisecond: an interaction's start, or on Resolved the review's completion), the queues, the
    audit score and the review status. The CSV holds only the columns shown: no conversation id."""
    return row["date"], row["queues"], row["audit_score"], row["review_status"]


def _expected_identities(rows: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    """``rows`` (from `review_tab`) as :func:`_identity` reads them from the grid's CSV."""
    shown = rows[["date", "queues", "audit_score", "review_status"]]
    return [
        ("" if pd.isna(date) else date.isoformat(timespec="milliseconds"), ", ".join(queues),
         "" if pd.isna(score) else f"{score:g}", status)
        for date, queues, score, status in shown.itertuples(index=False)
    ]


def _tab(main: Locator, slug: str) -> Locator:
    """The tab ``slug`` by its label, whatever its count ("Disputes (9)")."""
    return main.get_by_role("tab", name=re.compile(rf"^{re.escape(TABS[slug])} \(\d[\d,]*\)$"))


def _open_panel(main: Locator) -> Locator:
    return main.get_by_role("tabpanel").filter(visible=True)


def _expect_review_page(page: Page) -> Locator:
    expect = _expect()
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Review", exact=True, level=1)).to_be_visible()
    assert urlsplit(page.url).path == "/review"
    return main


def _check_tab(page: Page, main: Locator, slug: str, expected: pd.DataFrame) -> Locator:
    """The tab ``slug`` is the selected one, its label counts ``expected`` and its grid lists
    ``expected``'s evaluations in their order; returns the grid."""
    expect = _expect()
    tab = _tab(main, slug)
    expect(tab).to_have_attribute("aria-selected", "true")
    expect(tab).to_have_text(f"{TABS[slug]} ({len(expected):,})")
    assert len(expected), f"the demo agent has nothing on {TABS[slug]}: the journey needs some"
    panel = _open_panel(main)
    caption = panel.get_by_text(re.compile(rf"^{len(expected):,} evaluation\(s\), newest first"))
    expect(caption).to_be_visible()
    grid = panel.get_by_test_id("stDataFrame")
    expect(grid).to_have_count(1)
    _ready_grid(page, grid)
    rows = _grid_rows(page, grid)
    assert [_identity(row) for row in rows] == _expected_identities(expected)
    return grid


def test_agent_reviews_each_tab_opens_a_dispute_audit_and_a_tab_link(
    page: Page, dashboard: Dashboard, screenshots: Path
) -> None:
    expect = _expect()
    expected = _expected_tabs(dashboard.store.db)

    page.add_init_script(PLAIN_DOWNLOADS)
    page.goto("/")
    _expect_sign_in_form(page)
    _sign_in(page, AGENT_EMAIL, DEMO_PASSWORD)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Overview")).to_be_visible()

    page.get_by_test_id("stSidebar").get_by_role("link", name="Review").click()
    _expect_review_page(page)
    expect(main.get_by_role("tab")).to_have_count(len(TABS))
    for slug, label in TABS.items():
        expect(_tab(main, slug)).to_have_text(f"{label} ({len(expected[slug]):,})")

    # The first tab is open from the start, with no tab in the URL until one is chosen.
    _tab(main, PENDING_TAB).click()
    _check_tab(page, main, PENDING_TAB, expected[PENDING_TAB])
    assert _query(page.url) in ({}, {"tab": [PENDING_TAB]})
    _settle_for_screenshot(page)
    page.screenshot(path=screenshots / "review-pending.png")

    # Each other tab, and the first again: the URL names the tab chosen.
    for slug in (DISPUTES_TAB, RESOLVED_TAB, PENDING_TAB):
        _tab(main, slug).click()
        expect(page, f"{TABS[slug]} is open and in the URL after one click").to_have_url(
            re.compile(rf"[?&]tab={slug}(&|$)"))
        _check_tab(page, main, slug, expected[slug])
        assert _query(page.url) == {"tab": [slug]}

    # Disputes: its first evaluation's audit, and back to the tab.
    _tab(main, DISPUTES_TAB).click()
    expect(page, f"{TABS[DISPUTES_TAB]} is open and in the URL after one click").to_have_url(
        re.compile(rf"[?&]tab={DISPUTES_TAB}(&|$)"))
    grid = _check_tab(page, main, DISPUTES_TAB, expected[DISPUTES_TAB])
    _settle_for_screenshot(page)
    page.screenshot(path=screenshots / "review-disputes.png")

    conversation = expected[DISPUTES_TAB]["conversation_id"].iloc[0]
    _choose_row(grid, 0)
    expect(page).to_have_url(re.compile(r"/audit\?"))
    assert urlsplit(page.url).path == "/audit"
    assert _query(page.url) == {"conversation": [conversation], "tab": [DISPUTES_TAB]}
    expect(main.get_by_role("heading", name="Audit", exact=True, level=1)).to_be_visible()
    expect(main.get_by_test_id("stCaptionContainer").first).to_contain_text(f"Conversation: {conversation}")
    expect(main.get_by_role("heading", name="Review history")).to_be_visible()
    expect(main.get_by_role("button", name="Back to the coaching session")).to_have_count(0)
    _app_idle(page)

    main.get_by_role("button", name="Back to Review").click()
    expect(page).to_have_url(re.compile(r"/review\?"))
    _expect_review_page(page)
    assert _query(page.url) == {"tab": [DISPUTES_TAB]}
    _check_tab(page, main, DISPUTES_TAB, expected[DISPUTES_TAB])
    # Back on the tab (the grid is drawn and the app idle), not sent on to the audit again by the
    # row chosen before.
    assert urlsplit(page.url).path == "/review"

    # A tab by its link, pasted: still signed in (the session cookie), straight onto the tab.
    page.goto(f"/review?tab={RESOLVED_TAB}")
    _expect_review_page(page)
    assert _query(page.url) == {"tab": [RESOLVED_TAB]}
    _check_tab(page, main, RESOLVED_TAB, expected[RESOLVED_TAB])
    for slug in (PENDING_TAB, DISPUTES_TAB):
        expect(_tab(main, slug)).to_have_attribute("aria-selected", "false")
