"""The Review journey in a real browser: the three tabs, each with its count and its evaluations in
order, a row's "Open audit" link to its audit (a click in this tab, a middle-click in a new one) and the
way back to its tab, a tab opened by its link (`?tab=`), and a lead's tabs with their Agent column.

What the test expects comes from the store, through the page's own rules (`coaching.review_tabs`); what
the page shows is read from the tabs' labels and the rows (containers keyed ``review-row-<position>``):
each row's link names its evaluation. Each tab is looked at at 1280 and 1440 px (nothing cut off) and
saved as a screenshot.
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
    LEAD_EMAIL,
    _app_idle,
    _query,
    expect_own_page_icon,
    look_at,
    offline,
)
from .test_sign_in import AGENT_EMAIL, _expect, _expect_sign_in_form, _sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser


def _expected_tabs(db: Path, email: str = AGENT_EMAIL) -> dict[str, pd.DataFrame]:
    """Each tab's evaluations for ``email``, newest first, as the page's rules pick them."""
    with store.open_store(db).snapshot() as con:
        viewer = access.identify(con, email)
        return {tab: review_tab(con, viewer, tab) for tab in TABS}


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


def _row(panel: Locator, position: int) -> Locator:
    return panel.locator(f".st-key-review-row-{position}")


def _check_tab(page: Page, main: Locator, slug: str, expected: pd.DataFrame) -> Locator:
    """The tab ``slug`` is the selected one, its label counts ``expected``, and its rows (the first page)
    are ``expected``'s evaluations in their order, each with one link to its own audit; returns the panel."""
    expect = _expect()
    tab = _tab(main, slug)
    expect(tab).to_have_attribute("aria-selected", "true")
    expect(tab).to_have_text(f"{TABS[slug]} ({len(expected):,})")
    assert len(expected), f"the demo viewer has nothing on {TABS[slug]}: the journey needs some"
    panel = _open_panel(main)
    caption = panel.get_by_text(re.compile(rf"^{len(expected):,} evaluation\(s\), newest first"))
    expect(caption).to_be_visible()
    shown = expected["conversation_id"].head(25).tolist()
    expect(_row(panel, len(shown) - 1)).to_be_visible()
    expect(_row(panel, len(shown))).to_have_count(0)
    _app_idle(page)
    links = [_row(panel, i).get_by_role("link", name="Open audit") for i in range(len(shown))]
    assert [_query(link.get_attribute("href") or "") for link in links] == [
        {"conversation": [c], "tab": [slug]} for c in shown]
    return panel


def test_agent_reviews_each_tab_opens_a_dispute_audit_and_a_tab_link(
    page: Page, dashboard: Dashboard, screenshots: Path
) -> None:
    expect = _expect()
    expected = _expected_tabs(dashboard.store.db)
    outside = offline(page, dashboard.base_url)

    page.goto("/")
    _expect_sign_in_form(page)
    _sign_in(page, AGENT_EMAIL, DEMO_PASSWORD)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Overview")).to_be_visible()

    page.get_by_test_id("stSidebar").get_by_role("link", name="Review").click()
    _expect_review_page(page)
    expect_own_page_icon(page, dashboard.base_url)
    expect(main.get_by_role("tab")).to_have_count(len(TABS))
    for slug, label in TABS.items():
        expect(_tab(main, slug)).to_have_text(f"{label} ({len(expected[slug]):,})")

    # The first tab is open from the start, with no tab in the URL until one is chosen.
    _tab(main, PENDING_TAB).click()
    panel = _check_tab(page, main, PENDING_TAB, expected[PENDING_TAB])
    assert _query(page.url) in ({}, {"tab": [PENDING_TAB]})
    # Past the service level stands out: a red "Past" badge (the server's clock is today's: the demo's
    # reviews have waited long since).
    expect(panel.get_by_test_id("stMarkdownContainer").get_by_text("Past", exact=True).first).to_be_visible()
    look_at(page, screenshots, "review-pending", readme="review-pending.png")

    # Each other tab, and the first again: the URL names the tab chosen.
    for slug in (DISPUTES_TAB, RESOLVED_TAB, PENDING_TAB):
        _tab(main, slug).click()
        expect(page, f"{TABS[slug]} is open and in the URL after one click").to_have_url(
            re.compile(rf"[?&]tab={slug}(&|$)"))
        _check_tab(page, main, slug, expected[slug])
        assert _query(page.url) == {"tab": [slug]}
        if slug == RESOLVED_TAB:
            look_at(page, screenshots, "review-resolved")

    # Disputes: its first evaluation's audit, by the row's link, and back to the tab.
    _tab(main, DISPUTES_TAB).click()
    expect(page, f"{TABS[DISPUTES_TAB]} is open and in the URL after one click").to_have_url(
        re.compile(rf"[?&]tab={DISPUTES_TAB}(&|$)"))
    panel = _check_tab(page, main, DISPUTES_TAB, expected[DISPUTES_TAB])
    look_at(page, screenshots, "review-disputes", readme="review-disputes.png")

    conversation = expected[DISPUTES_TAB]["conversation_id"].iloc[0]
    link = _row(panel, 0).get_by_role("link", name="Open audit")
    # A middle-click opens it in a new browser tab and leaves this one on the tab.
    with page.context.expect_page() as opened:
        link.click(button="middle")
    other = opened.value
    expect(other).to_have_url(re.compile(rf"/audit\?conversation={re.escape(conversation)}&tab={DISPUTES_TAB}"))
    expect(other.get_by_test_id("stMain").get_by_role("heading", name="Audit", exact=True, level=1)).to_be_visible()
    other.close()
    assert urlsplit(page.url).path == "/review"
    # A click opens it here.
    link.click()
    page.mouse.move(700, 5)
    expect(page).to_have_url(re.compile(r"/audit\?"))
    assert urlsplit(page.url).path == "/audit"
    assert _query(page.url) == {"conversation": [conversation], "tab": [DISPUTES_TAB]}
    expect(main.get_by_role("heading", name="Audit", exact=True, level=1)).to_be_visible()
    expect(main.get_by_test_id("stCaptionContainer").first).to_contain_text(f"Conversation: {conversation}")
    expect(main.get_by_role("heading", name="Review history")).to_be_visible()
    expect(main.get_by_role("button", name="Back to the coaching session")).to_have_count(0)
    # The history's first round is the audit, then a dispute round (this evaluation was disputed).
    expect(main.get_by_test_id("stExpander").first).to_contain_text("Audit")
    expect(main.get_by_test_id("stExpander").nth(1)).to_contain_text("Dispute round 1")
    expect(main.locator(".st-key-event-0")).to_be_visible()
    _app_idle(page)
    look_at(page, screenshots, "audit-disputed")

    main.get_by_role("button", name="Back to Review").click()
    expect(page).to_have_url(re.compile(r"/review\?"))
    _expect_review_page(page)
    assert _query(page.url) == {"tab": [DISPUTES_TAB]}
    _check_tab(page, main, DISPUTES_TAB, expected[DISPUTES_TAB])

    # A tab by its link, pasted: still signed in (the session cookie), straight onto it.
    page.goto(f"/review?tab={RESOLVED_TAB}")
    _expect_review_page(page)
    assert _query(page.url) == {"tab": [RESOLVED_TAB]}
    _check_tab(page, main, RESOLVED_TAB, expected[RESOLVED_TAB])
    for slug in (PENDING_TAB, DISPUTES_TAB):
        expect(_tab(main, slug)).to_have_attribute("aria-selected", "false")
    assert outside == [], f"the browser asked outside the dashboard for: {outside}"


def test_lead_reads_each_tab_with_the_agent_column(page: Page, dashboard: Dashboard, screenshots: Path) -> None:
    """A lead's tabs have an Agent column, the widest rows: at 1280 px nothing is cut off (the headings,
    the statuses, the score's movement under the score, the Open audit link)."""
    expect = _expect()
    expected = _expected_tabs(dashboard.store.db, LEAD_EMAIL)
    page.goto("/")
    _expect_sign_in_form(page)
    _sign_in(page, LEAD_EMAIL, DEMO_PASSWORD)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Overview")).to_be_visible()
    page.get_by_test_id("stSidebar").get_by_role("link", name="Review").click()
    _expect_review_page(page)
    for slug in (DISPUTES_TAB, RESOLVED_TAB, PENDING_TAB):  # the first is open: its URL names none yet
        _tab(main, slug).click()
        expect(page).to_have_url(re.compile(rf"[?&]tab={slug}(&|$)"))
        panel = _check_tab(page, main, slug, expected[slug])
        expect(panel.get_by_text("Agent", exact=True)).to_be_visible()
        first = expected[slug].iloc[0]
        expect(_row(panel, 0)).to_contain_text(first["agent"])
        look_at(page, screenshots, f"review-{slug}-lead")
