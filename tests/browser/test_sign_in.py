"""The sign-in journey in a real browser: sign in as the demo agent, see only their coaching, sign out.

The list is read from the DOM: one container per session (keyed ``session-<position>``), the name a
link, the dates text, the coaching areas badges (the "+N" one with its hover list).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from coaching.demo import DEMO_PASSWORD

from .conftest import UI_TIMEOUT_MS, Dashboard

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.browser

AGENT_EMAIL = "agent@example.com"
#: Without it, Chromium's "Download as CSV" opens a save dialog (showSaveFilePicker) instead of downloading.
PLAIN_DOWNLOADS = "delete window.showSaveFilePicker;"


def _expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=UI_TIMEOUT_MS)
    return expect


def _sign_in_form(page: Page) -> tuple[Locator, Locator, Locator]:
    return page.get_by_label("Email"), page.get_by_label("Password", exact=True), page.get_by_role(
        "button", name="Sign in"
    )


def _sign_in(page: Page, email: str, password: str) -> None:
    email_field, password_field, button = _sign_in_form(page)
    email_field.fill(email)
    password_field.fill(password)
    button.click()


def _expect_sign_in_form(page: Page) -> None:
    expect = _expect()
    for control in _sign_in_form(page):
        expect(control).to_be_visible()


def _list_rows(main: Locator) -> list[dict[str, str]]:
    """The Coaching Assignments list as shown: each session's row (the container keyed
    ``session-<position>``) with its name (a link), its dates and its tags, read from the DOM."""
    rows = []
    for position in range(main.locator("[class*='st-key-session-']").count()):
        row = main.locator(f".st-key-session-{position}")
        link = row.get_by_role("link")
        dates = row.get_by_test_id("stText").all_inner_texts()
        rows.append({"name": link.inner_text().strip(), "href": link.get_attribute("href") or "",
                     "assigned_date": dates[0].strip(), "follow_up_date": dates[1].strip(),
                     "text": row.inner_text()})
    return rows


def test_agent_signs_in_sees_only_own_coaching_and_signs_out(
    page: Page, dashboard: Dashboard, screenshots: Path
) -> None:
    expect = _expect()
    store = dashboard.store
    page.goto("/")
    _expect_sign_in_form(page)
    expect(page.get_by_test_id("stSidebar")).to_have_count(0)
    page.screenshot(path=screenshots / "sign-in.png")

    _sign_in(page, AGENT_EMAIL, DEMO_PASSWORD)
    main = page.get_by_test_id("stMain")
    sidebar = page.get_by_test_id("stSidebar")
    expect(main.get_by_role("heading", name="Overview")).to_be_visible()
    expect(main.get_by_text("Evaluated interactions")).to_be_visible()
    expect(sidebar.get_by_text(store.agent_name, exact=True)).to_be_visible()
    expect(sidebar.get_by_text(AGENT_EMAIL)).to_be_visible()
    # An agent's pages: no Import.
    expect(sidebar.get_by_role("link", name="Import")).to_have_count(0)

    sidebar.get_by_role("link", name="Coaching Assignments").click()
    expect(main.get_by_role("heading", name="Coaching Assignments")).to_be_visible()
    count = len(store.agent_sessions)
    expect(main.get_by_text(re.compile(rf"^{count:,} of {count:,} coaching session\(s\)"))).to_be_visible()
    expect(main.locator(".st-key-session-0").get_by_role("link")).to_be_visible()
    expect(main.get_by_text("Sort by")).to_be_visible()
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
    page.screenshot(path=screenshots / "coaching-list.png")

    rows = _list_rows(main)
    shown = sorted((row["name"], row["assigned_date"], row["follow_up_date"]) for row in rows)
    assert shown == store.agent_sessions
    assert store.other_agent_name not in page.content()
    assert store.other_agent_name not in main.inner_text()

    # The session with the most areas (more than three): three tags and "+N", whose hover lists them all.
    index, session = max(enumerate(store.agent_list), key=lambda pair: len(pair[1].areas))
    assert len(session.areas) > 3, "the demo agent has a session with more than three coaching areas"
    row = main.locator(f".st-key-session-{index}")
    for area in session.areas[:3]:
        expect(row.get_by_text(area, exact=True)).to_be_visible()
    for area in session.areas[3:]:
        expect(row.get_by_text(area, exact=True)).to_have_count(0)
    row.get_by_text(f"+{len(session.areas) - 3}", exact=True).filter(visible=True).hover()
    expect(page.get_by_test_id("stTooltipContent")).to_have_text(
        "All coaching areas: " + ", ".join(session.areas))
    page.mouse.move(700, 5)

    sidebar.get_by_role("button", name="Sign out").click()
    _expect_sign_in_form(page)
    # The old sidebar may linger for a moment, and Streamlit sometimes leaves it open and empty after
    # the switch to hidden navigation, so the test checks its content, not whether it is there.
    expect(page.get_by_text(store.agent_name)).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(page.get_by_role("link", name="Coaching Assignments")).to_have_count(0)


def test_wrong_password_is_refused(page: Page, dashboard: Dashboard) -> None:
    expect = _expect()
    page.goto("/")
    _expect_sign_in_form(page)
    # Not the demo agent's email, so its failure count stays clean for the journey above.
    _sign_in(page, "lead@example.com", "not-the-password")
    expect(page.get_by_text(re.compile("do not match"))).to_be_visible()
    _expect_sign_in_form(page)
    expect(page.get_by_test_id("stSidebar")).to_have_count(0)
    expect(page.get_by_text("Evaluated interactions")).to_have_count(0)


def test_a_link_opened_first_on_a_fresh_server_asks_to_sign_in_and_lands_on_it(
    browser: Browser, shipped_dashboard: Dashboard
) -> None:
    """Until a server has run app.py once, Streamlit runs a linked page on its own (its folder-of-pages
    mode). The very first visitor following a link must still get the sign-in form, then the page.

    The server is configured as shipped: a grid offers no download of its own (Streamlit's would write
    imported text as it is, formulas included); the pages' "Download CSV" is the only one."""
    expect = _expect()
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=shipped_dashboard.base_url)
    try:
        page = context.new_page()
        page.goto("/review?tab=resolved")
        _expect_sign_in_form(page)
        _sign_in(page, AGENT_EMAIL, DEMO_PASSWORD)
        main = page.get_by_test_id("stMain")
        expect(main.get_by_role("heading", name="Review", exact=True, level=1)).to_be_visible()
        expect(page.get_by_role("tab", name=re.compile(r"^Resolved \(\d+\)$"))).to_have_attribute(
            "aria-selected", "true")
        assert page.url.endswith("/review?tab=resolved")
        # The app's navigation, not Streamlit's list of files.
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_role("link", name="Coaching Assignments")).to_be_visible()
        expect(sidebar.get_by_role("link", name="Import")).to_have_count(0)
        expect(sidebar.get_by_role("link", name="import exports")).to_have_count(0)
        # Each row's action opens its audit, whose metrics are a grid.
        main.get_by_role("link", name="Open audit").first.click()
        expect(main.get_by_role("heading", name="Audit", exact=True, level=1)).to_be_visible()
        assert "/audit?conversation=" in page.url
        grid = main.get_by_test_id("stDataFrame").first
        expect(grid).to_be_visible()
        grid.hover()
        expect(grid.get_by_role("button", name="Search")).to_be_visible()  # the toolbar is showing
        expect(grid.get_by_role("button", name="Download as CSV")).to_have_count(0)
    finally:
        context.close()


SESSION_COOKIE = "coaching_session"


def _signed_in_as(page: Page, email: str) -> None:
    expect = _expect()
    expect(page.get_by_test_id("stSidebar").get_by_text(email)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_form_sign_in_lasts_through_reloads_tabs_and_links_until_sign_out(
    browser: Browser, fresh_dashboard: Dashboard, tmp_path: Path, screenshots: Path
) -> None:
    """Signing in once keeps the agent signed in on a reload, in a new tab and on a pasted link; signing
    out ends the session on the server, so the cookie (even copied to another browser) works nowhere."""
    from urllib.parse import urlencode

    expect = _expect()
    session = fresh_dashboard.store.agent_list[0]
    link = f"/coaching?{urlencode({'assignment': session.assignment_id})}"
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=fresh_dashboard.base_url)
    elsewhere = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=fresh_dashboard.base_url)
    try:
        page = context.new_page()
        page.goto(link)  # a deep link, signed out: the form first, then that session
        assert "/account/sign-in?next=" in page.url
        _expect_sign_in_form(page)
        page.screenshot(path=screenshots / "sign-in-form-1280.png")
        _sign_in(page, AGENT_EMAIL, DEMO_PASSWORD)
        page.wait_for_url(f"**{link}")
        main = page.get_by_test_id("stMain")
        expect(main.get_by_role("heading", name=session.name)).to_be_visible()
        _signed_in_as(page, AGENT_EMAIL)
        [cookie] = [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
        assert cookie["expires"] > 0  # kept across a browser restart; the server decides when it ends

        page.reload()
        expect(main.get_by_role("heading", name=session.name)).to_be_visible()
        _signed_in_as(page, AGENT_EMAIL)
        second = context.new_page()  # a new tab, and a link pasted into it
        second.goto("/review?tab=resolved")
        expect(second.get_by_role("tab", name=re.compile(r"^Resolved \(\d+\)$"))).to_have_attribute(
            "aria-selected", "true")
        _signed_in_as(second, AGENT_EMAIL)
        copied = elsewhere.new_page()  # the same cookie in another browser is the same session
        elsewhere.add_cookies([cookie])
        copied.goto("/")
        _signed_in_as(copied, AGENT_EMAIL)

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/account/sign-in?**reason=signed-out*")
        expect(page.get_by_role("alert")).to_have_text("You have signed out.")
        _expect_sign_in_form(page)
        # The other tab finds out at its next click; the copied cookie at its next load.
        second.get_by_test_id("stSidebar").get_by_role("link", name="Overview").click()
        expect(second.get_by_text("Your session has ended. Sign in again to go on.")).to_be_visible()
        expect(second.get_by_text("Evaluated interactions")).to_have_count(0)
        second.get_by_role("button", name="Sign in").click()
        second.wait_for_url("**/account/sign-in?**")
        _expect_sign_in_form(second)
        copied.goto("/coaching")
        assert "/account/sign-in?" in copied.url and "reason=ended" in copied.url
        _expect_sign_in_form(copied)
        assert all(c["name"] != SESSION_COOKIE for c in elsewhere.cookies())  # the dead cookie was removed

        # Nothing about the session is ever in a URL or the server's log.
        for visited in (page.url, second.url, copied.url):
            assert cookie["value"] not in visited
        [log] = tmp_path.glob("streamlit-*.log")
        assert cookie["value"] not in log.read_text(errors="replace")
    finally:
        context.close()
        elsewhere.close()


def test_a_new_password_ends_that_persons_sessions(browser: Browser, dashboard: Dashboard) -> None:
    """`coaching users set-password` (here its function, on the server's store) signs the person out
    everywhere: their next load asks them to sign in."""
    from coaching import credentials

    expect = _expect()
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=dashboard.base_url)
    try:
        page = context.new_page()
        page.goto("/trends")
        _sign_in(page, "qa@example.com", DEMO_PASSWORD)
        page.wait_for_url("**/trends")
        _signed_in_as(page, "qa@example.com")
        credentials.set_password(dashboard.store.db, "qa@example.com", DEMO_PASSWORD)  # the same one, anew
        page.reload()
        assert "/account/sign-in?" in page.url and "reason=ended" in page.url
        _expect_sign_in_form(page)
        expect(page.get_by_role("alert")).to_have_text("Your session has ended. Sign in again to go on.")
    finally:
        context.close()
