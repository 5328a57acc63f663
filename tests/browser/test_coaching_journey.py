"""The coaching journey in a real browser: from the list to a session, to an interaction's audit, and
back to the session by its own link.

The list's sessions are links (a session's name). The marked interactions are a dataframe, drawn on a
canvas (glide-data-grid), so a row is chosen the way a person does it: a click on the row's selection
checkbox, at coordinates computed from the grid's fixed geometry (a 35 px header, 35 px rows, the
checkbox column first). The click goes to the `stDataFrame` element, not to the canvas: glide lays a
transparent scroller over the canvas, which takes the pointer events. What the test expects comes from
the store (`DemoStore.agent_list`) and the grids' own CSV downloads.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from coaching.demo import DEMO_PASSWORD

from .conftest import UI_TIMEOUT_MS, Dashboard
from .test_sign_in import AGENT_EMAIL, PLAIN_DOWNLOADS, _expect, _expect_sign_in_form, _sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

#: Streamlit's dataframe geometry (its defaults: st.dataframe has no row_height here).
HEADER_HEIGHT = 35
ROW_HEIGHT = 35
BORDER = 1
#: The middle of the selection checkbox column, the grid's first with selection on and no index.
CHECKBOX_X = 18
#: Where the pointer rests between actions: the empty middle of the app's header.
POINTER_REST = (700, 5)


def _app_idle(page: Page) -> None:
    """Wait until no script run is in progress: a grid drawn by a run that is still going may be
    replaced before a click on it lands."""
    _expect()(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")


def _ready_grid(page: Page, grid: Locator) -> None:
    _expect()(grid.get_by_test_id("data-grid-canvas")).to_be_visible()
    _app_idle(page)


def _choose_row(grid: Locator, index: int) -> None:
    """Tick the selection checkbox of the grid's row ``index`` (0-based, as shown)."""
    box = grid.bounding_box()
    assert box, "the grid is not laid out"
    shown = int((box["height"] - 2 * BORDER - HEADER_HEIGHT) // ROW_HEIGHT)
    assert index < shown, f"row {index} is not in view (the grid shows {shown} rows); scroll first"
    grid.click(position={"x": BORDER + CHECKBOX_X,
                         "y": BORDER + HEADER_HEIGHT + index * ROW_HEIGHT + ROW_HEIGHT / 2})
    # Off the content, or the next page shows hover effects under the pointer (a heading's anchor).
    grid.page.mouse.move(*POINTER_REST)


def _grid_rows(page: Page, grid: Locator) -> list[dict[str, str]]:
    """The rows a dataframe holds, as its own CSV download gives them.

    The toolbar button gets a DOM click, not a pointer one: the toolbar shows only while the pointer
    is over the grid, and a pointer click that has to scroll first can find it hidden, or under the
    app's header (seen with three runs in parallel)."""
    with page.expect_download(timeout=UI_TIMEOUT_MS) as download:
        grid.get_by_role("button", name="Download as CSV").dispatch_event("click")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(text.splitlines()))


def _settle_for_screenshot(page: Page) -> None:
    """Scroll the page to its top (clicks may have scrolled it) and move the pointer off the content,
    so no hover toolbar, tooltip or sidebar button shows."""
    page.get_by_test_id("stMain").evaluate("main => main.scrollTo(0, 0)")
    page.mouse.move(*POINTER_REST)


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_agent_opens_a_session_an_interaction_audit_and_the_session_link(
    page: Page, dashboard: Dashboard, screenshots: Path
) -> None:
    expect = _expect()
    store = dashboard.store
    # The first session in the list (newest first) with interactions marked for coaching.
    index, session = next(((i, s) for i, s in enumerate(store.agent_list) if s.marked), (None, None))
    assert session is not None, "no session of the demo agent has interactions marked for coaching"
    conversation = session.marked[0]

    page.add_init_script(PLAIN_DOWNLOADS)
    page.goto("/")
    _expect_sign_in_form(page)
    _sign_in(page, AGENT_EMAIL, DEMO_PASSWORD)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Overview")).to_be_visible()

    # The list: open the session by its name.
    page.get_by_test_id("stSidebar").get_by_role("link", name="Coaching Assignments").click()
    expect(main.get_by_role("heading", name="Coaching Assignments", level=1)).to_be_visible()
    expect(main.get_by_text(re.compile(r"coaching session\(s\)"))).to_be_visible()
    row = main.locator(f".st-key-session-{index}")
    expect(row).to_be_visible()
    _app_idle(page)
    list_path = urlsplit(page.url).path
    link = row.get_by_role("link")
    expect(link).to_have_text(session.name)
    link.click()
    page.mouse.move(*POINTER_REST)
    expect(page).to_have_url(re.compile(r"[?&]assignment="))
    assert urlsplit(page.url).path == list_path
    assert _query(page.url) == {"assignment": [session.assignment_id], "agent": [AGENT_EMAIL]}

    # The session's detail.
    title = main.get_by_role("heading", name=session.name, exact=True, level=1)
    expect(title).to_be_visible()
    expect(main.get_by_role("heading", name="Interactions Marked for Coaching")).to_be_visible()
    expect(main.get_by_role("button", name="All coaching assignments")).to_be_visible()
    # The marked interactions: one row each (keyed ``marked-<position>``), in the session's order, each
    # with a real link to its audit (an anchor: a middle-click opens it in a new tab).
    rows = []
    for position in range(len(session.marked)):
        row = main.locator(f".st-key-marked-{position}")
        link = row.get_by_role("link", name="Open audit")
        expect(link).to_be_visible()
        href = link.get_attribute("href") or ""
        when, kore, audit, sentiment = row.get_by_test_id("stText").all_inner_texts()
        rows.append({"conversation": _query(href)["conversation"][0], "kore": kore, "audit": audit,
                     "sentiment": sentiment, "href": href})
    expect(main.locator(f".st-key-marked-{len(session.marked)}")).to_have_count(0)
    assert [row["conversation"] for row in rows] == list(session.marked)
    assert _query(rows[0]["href"]) == {"conversation": [conversation], "assignment": [session.assignment_id],
                                       "agent": [AGENT_EMAIL]}
    _settle_for_screenshot(page)
    expect(main.get_by_role("button", name="All coaching assignments")).to_be_in_viewport()
    page.screenshot(path=screenshots / "coaching-detail.png")

    # The first marked interaction: its audit, in this tab.
    main.locator(".st-key-marked-0").get_by_role("link", name="Open audit").click()
    page.mouse.move(*POINTER_REST)
    expect(page).to_have_url(re.compile(rf"/audit\?conversation={re.escape(conversation)}&assignment="))
    expect(main.get_by_role("heading", name="Audit", exact=True, level=1)).to_be_visible()
    expect(main.get_by_test_id("stCaptionContainer").first).to_contain_text(f"Conversation: {conversation}")
    # The scores the session listed for the interaction are the audit's (the pages word the reason
    # for a missing score in different cases: "— (Not audited)" there, "— (not audited)" here).
    for metric, column in (("Kore Evaluation Score", "kore"), ("Supervisor Audit Score", "audit"),
                           ("Sentiment Score", "sentiment")):
        label = page.get_by_test_id("stMetricLabel").filter(has_text=metric)
        shown = main.get_by_test_id("stMetric").filter(has=label)
        expect(shown).to_be_visible()
        value = shown.get_by_test_id("stMetricValue")
        expect(value).to_have_text(re.compile(rf"^{re.escape(rows[0][column])}$", re.IGNORECASE))
    expect(main.get_by_role("heading", name="Metrics")).to_be_visible()
    expect(main.get_by_role("heading", name="Review history")).to_be_visible()
    _ready_grid(page, main.get_by_test_id("stDataFrame").first)
    _settle_for_screenshot(page)
    expect(main.get_by_role("heading", name="Audit", exact=True, level=1)).to_be_in_viewport()
    page.screenshot(path=screenshots / "audit.png")

    # The session again, by its link, pasted: still signed in (the session cookie), straight onto it.
    page.goto(f"{list_path}?{urlencode({'assignment': session.assignment_id, 'agent': AGENT_EMAIL})}")
    expect(title).to_be_visible()
    assert urlsplit(page.url).path == list_path
    assert _query(page.url) == {"assignment": [session.assignment_id], "agent": [AGENT_EMAIL]}
    expect(main.get_by_role("heading", name="Interactions Marked for Coaching")).to_be_visible()
