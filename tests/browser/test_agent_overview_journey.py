"""An agent's Overview in a real browser (issue 18): what needs them today, each item a link that opens its
page, and My Score Trends with its headline figures.

The journey serves a demo store of its own that ends on the day the test runs (the shared store ends on
2026-11-01 and the server reads the real clock, so its last 30 days would hold no scores), so that every part
of the Overview has something to show. What each part should show comes from the page's own functions
(`coaching.overview`, `coaching.trends`) over that store, for the same viewer and day.

Screenshots (the README's with SAVE_SCREENSHOTS=1): the agent's Overview and My Score Trends at 1280 and 1440
px wide, each as tall as the page.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from coaching import access, settings, store
from coaching.demo import DEMO_PASSWORD
from coaching.overview import SCORE_DAYS, AgentToday, agent_today, oldest_first
from coaching.trends import AUDIT, DEFAULT_DAYS, KORE, TrendFilters, headline_figures, own_headline
from ui import clock

from .conftest import ROOT, Dashboard, DemoStore, _serve
from .test_coaching_journey import _app_idle
from .test_sign_in import AGENT_EMAIL, _expect, _expect_sign_in_form, _sign_in
from .test_team_journey import WIDTHS, _shoot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.browser

#: The items of a list the Overview shows at most (pages/overview.py's MOST_ITEMS).
MOST_ITEMS = 5


@pytest.fixture(scope="module")
def today_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """The dashboard over a demo store (24 agents, 60 days) that ends today, for this module."""
    folder = tmp_path_factory.mktemp("overview-store")
    db = folder / "coaching.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "coaching.cli", "demo", "--db", str(db), "--out", str(folder / "demo"),
         "--agents", "24", "--days", "60", "--end", clock.today().isoformat(), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"coaching demo failed:\n{done.stdout}\n{done.stderr}"
    with _serve(DemoStore(db, "", "", [], []), folder) as served:
        yield served
    store.close_all()


@pytest.fixture
def agent_page(browser: Browser, today_dashboard: Dashboard) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, base_url=today_dashboard.base_url)
    context.set_default_timeout(20_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _query(href: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(href).query).items()}


def _items(main: Locator, key: str) -> Locator:
    """The Overview's items of one list, in order: its containers keyed ``<key>-<position>``."""
    return main.locator(f"[class*='st-key-{key}-']")


def _the_day(db: Path) -> tuple[AgentToday, pd.DataFrame, dict[str, object]]:
    options = settings.review_settings()
    with store.open_store(db).snapshot() as con:
        viewer = access.identify(con, AGENT_EMAIL)
        day = agent_today(con, viewer, clock.today(), options.accept_dispute)
        figures = {f.measure: f for f in headline_figures(own_headline(
            con, viewer, TrendFilters.last_days(clock.today(), SCORE_DAYS), None, options.pass_score))}
    return day, oldest_first(day.waiting, clock.now(), options.service_level_days), figures


def test_an_agents_overview_says_what_needs_them_and_opens_each_item(
    agent_page: Page, today_dashboard: Dashboard, screenshots: Path
) -> None:
    expect = _expect()
    page = agent_page
    day, waiting, figures = _the_day(today_dashboard.store.db)
    assert len(waiting) and len(day.follow_ups) and day.latest, "the journey needs each part of the agent's day"

    page.goto("/")
    _expect_sign_in_form(page)
    _sign_in(page, AGENT_EMAIL, DEMO_PASSWORD)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(main.get_by_text(re.compile(r"^What needs you today, "))).to_be_visible()
    _app_idle(page)

    # Waiting on you: the longest waiting first, each a link to its audit with its service level.
    reviews = _items(main, "waiting")
    expect(reviews).to_have_count(min(len(waiting), MOST_ITEMS))
    for index, row in enumerate(waiting.head(MOST_ITEMS).itertuples(index=False)):
        item = reviews.nth(index)
        link = item.get_by_role("link")
        assert _query(link.get_attribute("href") or "") == {"conversation": row.conversation_id}
        expect(link).to_have_accessible_name(re.compile(rf"^Audit of {row.date:%d %b %Y} · "))
        expect(item).to_contain_text("Past service level" if row.past_service_level else "Within service level")
        expect(item).to_contain_text(row.to_do)

    # Follow-ups, earliest first, each a link to its session.
    sessions = _items(main, "follow-up")
    expect(sessions).to_have_count(min(len(day.follow_ups), MOST_ITEMS))
    for index, row in enumerate(day.follow_ups.head(MOST_ITEMS).itertuples(index=False)):
        item = sessions.nth(index)
        expect(item.get_by_role("link")).to_have_accessible_name(row.name)
        assert _query(item.get_by_role("link").get_attribute("href") or "") == {
            "assignment": row.assignment_id, "agent": AGENT_EMAIL}
        expect(item).to_contain_text(row.follow_up)

    # The scores of the last 30 days against the days before, the pass score and the team's.
    for measure in (KORE, AUDIT):
        figure = figures[measure]
        card = main.get_by_test_id("stMetric").filter(has_text=figure.label)
        expect(card.get_by_test_id("stMetricValue")).to_have_text(figure.value)
        if figure.change:
            expect(card.get_by_test_id("stMetricDelta")).to_contain_text(figure.change.lstrip("+-"))
    expect(main.get_by_text(re.compile(r"pass score \(40\)")).first).to_be_visible()

    # The latest coaching session and its action plan.
    expect(main.get_by_role("heading", name="Latest coaching")).to_be_visible()
    expect(main.get_by_text(day.latest.action_plan or "", exact=False)).to_be_visible()

    for width in WIDTHS:
        _shoot(page, width, screenshots / f"agent-overview-{width}.png")
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})

    # Each item opens its page: the oldest review's audit...
    first = waiting.iloc[0]
    _app_idle(page)
    reviews.first.get_by_role("link").click()
    expect(main.get_by_role("heading", name="Audit", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/audit\?conversation={re.escape(first['conversation_id'])}$"))
    expect(main.get_by_text(first["conversation_id"]).first).to_be_visible()
    page.go_back()
    expect(main.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    # ...the earliest follow-up's session...
    _app_idle(page)
    first_session = day.follow_ups.iloc[0]
    _items(main, "follow-up").first.get_by_role("link").click()
    expect(main.get_by_role("heading", name=first_session["name"], level=1)).to_be_visible()
    assert _query(page.url) == {"assignment": first_session["assignment_id"], "agent": AGENT_EMAIL}
    page.go_back()
    expect(main.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    # ...the Review page's Pending Review tab...
    _app_idle(page)
    main.get_by_role("link", name=re.compile(r"^Review: Pending Review")).click()
    expect(main.get_by_role("heading", name="Review", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/review\?tab=pending$"))
    expect(main.get_by_role("tab", name=re.compile(r"^Pending Review"))).to_have_attribute("aria-selected", "true")
    page.go_back()
    # ...and My Score Trends, with its headline over its default dates.
    expect(main.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    _app_idle(page)
    main.get_by_role("link", name="My Score Trends").click()
    expect(main.get_by_role("heading", name="My Score Trends", level=1)).to_be_visible()
    _app_idle(page)
    with store.open_store(today_dashboard.store.db).snapshot() as con:
        headline = headline_figures(own_headline(con, access.identify(con, AGENT_EMAIL),
                                                 TrendFilters.last_days(clock.today(), DEFAULT_DAYS)))
    for figure in headline:
        card = main.get_by_test_id("stMetric").filter(has_text=figure.label)
        expect(card.get_by_test_id("stMetricValue")).to_have_text(figure.value)


def test_an_agent_without_coaching_sees_only_their_scores(agent_page: Page, today_dashboard: Dashboard) -> None:
    expect = _expect()
    page = agent_page
    page.goto("/")
    _sign_in(page, "no-coaching@example.com", DEMO_PASSWORD)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(main.get_by_role("heading", name="Your scores")).to_be_visible()
    _app_idle(page)
    for missing in ("Waiting on you", "Follow-ups", "Latest coaching"):
        expect(main.get_by_role("heading", name=re.compile(f"^{missing}"))).to_have_count(0)
    # Its only link to a page is one it may open (headings have anchor links of their own).
    pages = main.get_by_test_id("stPageLink-NavLink")
    expect(pages).to_have_count(1)
    expect(pages).to_have_accessible_name("My Score Trends")
