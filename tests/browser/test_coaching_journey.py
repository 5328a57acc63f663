"""The coaching journey in a real browser: from the list to a session, to an interaction's audit, and
back to the session by its own link; a lead's list and session.

The list's sessions are links (a session's name); a session's marked interactions are rows (containers
keyed ``marked-<position>``) whose "Open audit" is a real link: a click opens the audit in this tab, a
middle-click in a new one. What the test expects comes from the store (`DemoStore.agent_list`).

Every page is looked at as a person would (:func:`look_at`): at 1280 and 1440 px wide, as tall as its
content, nothing in it cut off (no label ending in an ellipsis, no text wider than its box), and saved as
a screenshot. The browser fetches nothing from outside the dashboard (:func:`offline`): the page icon is
the app's own. Grids elsewhere (Team, the heatmap) are drawn on a canvas; :func:`_choose_row` clicks a
row's selection checkbox at coordinates computed from the grid's fixed geometry (a 35 px header, 35 px
rows, the checkbox column first), and :func:`_grid_rows` reads a grid through its own CSV download.
"""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from coaching import store as stores
from coaching.demo import DEMO_PASSWORD

from .conftest import UI_TIMEOUT_MS, Dashboard
from .test_sign_in import AGENT_EMAIL, PLAIN_DOWNLOADS, _expect, _expect_sign_in_form, _sign_in

#: A team lead of the demo (lead@example.com leads the demo agent's team).
LEAD_EMAIL = "lead@example.com"


def store_snapshot(db: Path):
    """A read-only look at the served store (the journey's expectations come from it)."""
    return stores.open_store(db).snapshot()


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
#: The widths every page is looked at, and the least height of a screenshot.
WIDTHS = (1280, 1440)
SCREEN_HEIGHT = 900
#: What in the main area is cut off: an input narrower than its value, a label ending in an ellipsis, text
#: wider than a box that hides or scrolls its overflow. (A grid draws on a canvas: its cells are not here.)
CLIPPED = """main => [...main.querySelectorAll('*')].filter(e => {
    const style = getComputedStyle(e);
    const cuts = e.tagName === 'INPUT' || style.textOverflow === 'ellipsis'
        || ['hidden', 'clip', 'auto', 'scroll'].includes(style.overflowX);
    return cuts && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1
        && (e.tagName === 'INPUT' || e.textContent.trim() !== '')
        && !e.closest('[data-testid=stDataFrame]');
}).map(e => `${e.getAttribute('data-testid') || e.tagName}: ${(e.value || e.textContent).trim().slice(0, 60)}`)"""


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


def clipped(page: Page) -> list[str]:
    """What the main area shows cut off (see :data:`CLIPPED`)."""
    return page.get_by_test_id("stMain").evaluate(CLIPPED)


def _laid_out(page: Page) -> None:
    """Wait until the page has taken a new viewport in: no run in progress and two frames drawn since."""
    _app_idle(page)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def look_at(page: Page, screenshots: Path, name: str, readme: str | None = None) -> None:
    """The page at each of :data:`WIDTHS`, as tall as its content: nothing cut off, and a screenshot
    ``<name>-<width>.png`` (the first width's named ``readme`` instead, if given: the README's name for
    it). The viewport is the journey's again afterwards."""
    before = page.viewport_size
    for width in WIDTHS:
        height = SCREEN_HEIGHT
        page.set_viewport_size({"width": width, "height": height})
        _laid_out(page)
        # As tall as the content, measured again once laid out at that height (it may grow as it is drawn).
        for _ in range(5):
            content = page.get_by_test_id("stMain").evaluate("main => main.scrollHeight")
            if content <= height:
                break
            height = content
            page.set_viewport_size({"width": width, "height": height})
            _laid_out(page)
        _settle_for_screenshot(page)
        # Streamlit draws in steps (a stylesheet, a column's width): what is cut off must be gone soon.
        deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
        while (cut := clipped(page)) and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        assert cut == [], f"{name} at {width} px cuts off: {cut}"
        page.screenshot(path=screenshots / (readme if readme and width == WIDTHS[0] else f"{name}-{width}.png"))
    if before:
        page.set_viewport_size(before)
        _laid_out(page)


def offline(page: Page, base_url: str) -> list[str]:
    """From now on, every request the page's browser makes outside the dashboard is refused (as on a
    closed network) and listed in the list returned."""
    outside: list[str] = []

    def refuse(route) -> None:
        outside.append(route.request.url)
        route.abort()

    page.context.route(lambda url: not url.startswith((base_url, "data:", "blob:")), refuse)
    return outside


def expect_own_page_icon(page: Page, base_url: str) -> None:
    """The page icon is served by the dashboard itself, as an image."""
    expect = _expect()
    icon = page.locator("link[rel='shortcut icon']")
    expect(icon).to_have_attribute("href", re.compile("^" + re.escape(base_url) + "/"))
    served = page.request.get(icon.get_attribute("href") or "")
    assert served.status == 200 and served.headers["content-type"].startswith("image/")


def test_agent_opens_a_session_an_interaction_audit_and_the_session_link(
    page: Page, dashboard: Dashboard, screenshots: Path
) -> None:
    expect = _expect()
    store = dashboard.store
    outside = offline(page, dashboard.base_url)
    # The first session in the list (newest first) with interactions marked for coaching.
    index, session = next(((i, s) for i, s in enumerate(store.agent_list) if s.marked), (None, None))
    assert session is not None, "no session of the demo agent has interactions marked for coaching"
    conversation = session.marked[0]
    with store_snapshot(store.db) as con:
        follow_ups = dict(con.execute(
            "SELECT conversation_id, strftime(date, '%d %b %Y') FROM coaching_interactions WHERE assignment_id = ?",
            [session.assignment_id]).fetchall())
        starts = dict(con.execute(
            "SELECT conversation_id, strftime(start_time, '%d %b %Y %H:%M') FROM evaluations "
            "WHERE conversation_id IN (SELECT unnest(?))", [list(session.marked)]).fetchall())

    page.add_init_script(PLAIN_DOWNLOADS)
    page.goto("/")
    _expect_sign_in_form(page)
    _sign_in(page, AGENT_EMAIL, DEMO_PASSWORD)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Overview")).to_be_visible()
    expect_own_page_icon(page, dashboard.base_url)

    # The list: every status reads as one (no badge that looks like a button); open the session by its name.
    page.get_by_test_id("stSidebar").get_by_role("link", name="Coaching Assignments").click()
    expect(main.get_by_role("heading", name="Coaching Assignments", level=1)).to_be_visible()
    expect(main.get_by_text(re.compile(r"coaching session\(s\)"))).to_be_visible()
    row = main.locator(f".st-key-session-{index}")
    expect(row).to_be_visible()
    _app_idle(page)
    expect(main.locator("[class*='st-key-session-'] [data-testid=stBadge]").filter(
        has_text=re.compile("Start Coaching|In Progress|Completed|Pending"))).to_have_count(0)
    look_at(page, screenshots, "coaching-list")
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
    # with when it happened and its follow-up date under their own headings, and a real link to its
    # audit (an anchor: a middle-click opens it in a new tab).
    for heading in ("Interaction", "Follow-up"):
        expect(main.get_by_text(heading, exact=True).first).to_be_visible()
    rows = []
    for position in range(len(session.marked)):
        row = main.locator(f".st-key-marked-{position}")
        link = row.get_by_role("link", name="Open audit")
        expect(link).to_be_visible()
        href = link.get_attribute("href") or ""
        when, follow_up, kore, audit, sentiment = row.get_by_test_id("stText").all_inner_texts()
        rows.append({"conversation": _query(href)["conversation"][0], "when": when, "follow_up": follow_up,
                     "kore": kore, "audit": audit, "sentiment": sentiment, "href": href})
    expect(main.locator(f".st-key-marked-{len(session.marked)}")).to_have_count(0)
    assert [row["conversation"] for row in rows] == list(session.marked)
    assert [(row["when"], row["follow_up"]) for row in rows] == [
        (starts[c], follow_ups[c] or "—") for c in session.marked]
    assert _query(rows[0]["href"]) == {"conversation": [conversation], "assignment": [session.assignment_id],
                                       "agent": [AGENT_EMAIL]}
    look_at(page, screenshots, "coaching-detail", readme="coaching-detail.png")

    # A middle-click on "Open audit" opens the audit in a new tab, and leaves this one where it is.
    with page.context.expect_page() as opened:
        main.locator(".st-key-marked-0").get_by_role("link", name="Open audit").click(button="middle")
    other = opened.value
    expect(other).to_have_url(re.compile(rf"/audit\?conversation={re.escape(conversation)}&"))
    expect(other.get_by_test_id("stMain").get_by_role("heading", name="Audit", exact=True, level=1)).to_be_visible()
    other.close()
    assert urlsplit(page.url).path == list_path

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
    grid = main.get_by_test_id("stDataFrame").first
    _ready_grid(page, grid)
    expect_every_metric(page, grid, conversation, store.db)
    look_at(page, screenshots, "audit", readme="audit.png")

    # The session again, by its link, pasted: still signed in (the session cookie), straight onto it.
    page.goto(f"{list_path}?{urlencode({'assignment': session.assignment_id, 'agent': AGENT_EMAIL})}")
    expect(title).to_be_visible()
    assert urlsplit(page.url).path == list_path
    assert _query(page.url) == {"assignment": [session.assignment_id], "agent": [AGENT_EMAIL]}
    expect(main.get_by_role("heading", name="Interactions Marked for Coaching")).to_be_visible()
    assert outside == [], f"the browser asked outside the dashboard for: {outside}"


def expect_every_metric(page: Page, grid: Locator, conversation: str, db: Path) -> None:
    """The audit's metrics grid is as tall as all its rows (none behind an inner scroll), and the
    not-adhered ones are named above it."""
    with store_snapshot(db) as con:
        results = [r for (r,) in con.execute(
            "SELECT result FROM evaluation_metrics WHERE conversation_id = ? ORDER BY position",
            [conversation]).fetchall()]
        missed = [m for (m,) in con.execute(
            "SELECT metric FROM evaluation_metrics WHERE conversation_id = ? AND result = 'Not Adhered' "
            "ORDER BY position", [conversation]).fetchall()]
    box = grid.bounding_box()
    assert box and box["height"] >= HEADER_HEIGHT + len(results) * ROW_HEIGHT, (box, len(results))
    if missed:
        summary = page.get_by_test_id("stMain").get_by_text(
            f"{len(missed)} of {len(results)} metrics not adhered:")
        _expect()(summary).to_be_visible()


def test_lead_reads_the_teams_list_and_a_session(page: Page, dashboard: Dashboard, screenshots: Path) -> None:
    """A lead's list has an Agent column and two lines of filters: nothing cut off at 1280 or 1440 px
    (statuses such as Pending Supervisor Review in full), and a session of one of their agents."""
    expect = _expect()
    outside = offline(page, dashboard.base_url)
    page.goto("/")
    _expect_sign_in_form(page)
    _sign_in(page, LEAD_EMAIL, DEMO_PASSWORD)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Overview")).to_be_visible()
    page.get_by_test_id("stSidebar").get_by_role("link", name="Coaching Assignments").click()
    expect(main.get_by_role("heading", name="Coaching Assignments", level=1)).to_be_visible()
    expect(main.locator(".st-key-session-0")).to_be_visible()
    expect(main.get_by_text("Agent", exact=True).first).to_be_visible()
    expect(main.get_by_text("Pending Supervisor Review").first).to_be_visible()
    _app_idle(page)
    look_at(page, screenshots, "coaching-list-lead")
    # A session of theirs with interactions marked for coaching.
    with store_snapshot(dashboard.store.db) as con:
        assignment, person = con.execute(
            "SELECT a.assignment_id, a.person_id FROM assignments a JOIN people p ON p.person_id = a.person_id "
            "JOIN coaching_interactions c USING (assignment_id) WHERE p.team_lead_email = ? "
            "ORDER BY a.assigned_date DESC, a.assignment_id LIMIT 1", [LEAD_EMAIL]).fetchone()
    page.goto(f"/coaching?{urlencode({'assignment': assignment, 'agent': person})}")
    expect(main.get_by_role("heading", name="Interactions Marked for Coaching")).to_be_visible()
    expect(main.locator(".st-key-marked-0").get_by_role("link", name="Open audit")).to_be_visible()
    _app_idle(page)
    look_at(page, screenshots, "coaching-detail-lead")
    assert outside == [], f"the browser asked outside the dashboard for: {outside}"
