"""The sign-in journey in a real browser: sign in as the demo agent, see only their coaching, sign out.

Streamlit draws a dataframe on a canvas (glide-data-grid), so its cells are not in the DOM. The test
reads the grid's rows through its own "Download as CSV" button instead (with the File System Access
API removed, Streamlit falls back to an ordinary download that Playwright catches), and checks the
DOM for what is text there: the caption with the number of sessions, and the names on the page.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from coaching.demo import DEMO_PASSWORD

from .conftest import UI_TIMEOUT_MS, Dashboard

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

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


def _grid_rows(page: Page, grid: Locator) -> list[dict[str, str]]:
    """The rows a dataframe holds, as its own CSV download gives them."""
    grid.hover()  # the toolbar shows on hover
    with page.expect_download(timeout=UI_TIMEOUT_MS) as download:
        grid.get_by_role("button", name="Download as CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(text.splitlines()))


def test_agent_signs_in_sees_only_own_coaching_and_signs_out(
    page: Page, dashboard: Dashboard, screenshots: Path
) -> None:
    expect = _expect()
    store = dashboard.store
    page.add_init_script(PLAIN_DOWNLOADS)
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
    grid = main.get_by_test_id("stDataFrame")
    expect(grid).to_be_visible()
    expect(grid.get_by_test_id("data-grid-canvas")).to_be_visible()
    page.screenshot(path=screenshots / "coaching-list.png")

    rows = _grid_rows(page, grid)
    assert list(rows[0]) == ["name", "area_tags", "assigned_date", "follow_up_date", "follow_up", "status"]
    shown = sorted((row["name"], row["assigned_date"], row["follow_up_date"]) for row in rows)
    assert shown == store.agent_sessions
    assert store.other_agent_name not in page.content()
    assert store.other_agent_name not in main.inner_text()
    assert store.other_agent_name not in "\n".join(",".join(row.values()) for row in rows)

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
