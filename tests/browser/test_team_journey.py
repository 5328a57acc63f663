"""A team lead's journey in a real browser (issue 15): open Team, sort by the Kore change, open the flagged
agent's Score Trends and come back; open a cell of the Metric Heatmap, open an interaction's audit from its
list and come back to the same cell.

What each page should show comes from the page's own functions over the served store (`coaching.team`,
`coaching.trends`, `coaching.metric_heatmap`), for the same viewer and dates. The dates are typed in (the
demo store's data ends on 2026-11-01 while the server reads the real clock). The Team table and the
heatmap's list are grids drawn on a canvas, read through their own CSV download; the heatmap is Vega SVG
whose cells carry ARIA labels naming their fields ("metric: Greeting; agent: Sami Silva; …"), so a cell
is found and clicked by its label.

Screenshots (the README's with SAVE_SCREENSHOTS=1): Team with the flagged agent chosen, and the heatmap,
at 1280 and 1440 px wide; the heatmap with a chosen cell and its list at 1280 px. Each is as tall as the
page (at least :data:`SCREEN_HEIGHT`), so nothing is cut off at the bottom.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pandas as pd
import pytest

from coaching import access, settings, store
from coaching.charts import SERIES_DASHES
from coaching.demo import DEMO_PASSWORD
from coaching.metric_heatmap import arrange, metric_heatmap, not_adhered_interactions
from coaching.team import DEFAULT_DAYS, LABELS, PAGE_SIZE, TeamFilters, TeamPage, change_text, team_page
from coaching.trends import TEAM_AVERAGE, YOU, TrendFilters, own_trends
from ui import clock

from .conftest import Dashboard
from .test_coaching_journey import (
    POINTER_REST,
    _app_idle,
    _choose_row,
    _grid_rows,
    _query,
    _ready_grid,
    _settle_for_screenshot,
)
from .test_sign_in import PLAIN_DOWNLOADS, _expect, _expect_sign_in_form, _sign_in
from .test_trends_journey import LEAD_EMAIL, _check_score_charts, _choose_dates, _drawn, _shown_date

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

#: The widths the README's screenshots are taken at, and the least height of a screenshot.
WIDTHS = (1280, 1440)
SCREEN_HEIGHT = 1000
#: The Team sort the journey chooses: the Kore change, ascending (the biggest fall first).
SORT, DESCENDING = "kore_change", False
#: How many days back from the store's last the journey looks for dates whose biggest fall is flagged.
SEARCH_DAYS = 21
#: The heatmap's cells: Vega's rect marks, those with scores (labelled "…; Scored: n; …") and the grey ones without.
CELLS = "g.mark-rect.role-mark > path"
#: The outline of the chosen cell (coaching.charts.metric_heatmap_chart).
CHOSEN_STROKE = "#111111"


def _css_string(text: str) -> str:
    """``text`` as a CSS string, for an attribute selector."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _journey_dates(db: Path, viewer: access.Viewer, pass_score: float, today: date) -> tuple[TeamFilters, TeamPage]:
    """Team's span of days (:data:`coaching.team.DEFAULT_DAYS`), ending as late in the store as it can with
    a "Falling" agent first in the journey's sort, and that page of the view. The demo has one in its last
    weeks; without one the journey would take the store's last days and open the first row, the biggest
    fall, flagged or not."""
    with store.open_store(db).snapshot() as con:
        last = con.execute("SELECT max(start_time)::DATE FROM evaluations").fetchone()[0]
        for back in range(SEARCH_DAYS):
            filters = TeamFilters.last_days(last - timedelta(days=back))
            listed = team_page(con, viewer, filters, SORT, DESCENDING, 1, PAGE_SIZE, pass_score, today)
            if listed.total and listed.rows["falling"].iloc[0]:
                return filters, listed
        filters = TeamFilters.last_days(last)
        return filters, team_page(con, viewer, filters, SORT, DESCENDING, 1, PAGE_SIZE, pass_score, today)


def _laid_out(page: Page) -> None:
    """Wait until the page has taken a new viewport in: every chart as wide as its place again, and two
    frames drawn since."""
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')].every(chart => {
               const marks = chart.querySelector('svg.marks, canvas.marks');
               const width = element => element.getBoundingClientRect().width;
               return marks && Math.abs(width(marks) - width(chart)) < 1 })""")
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def _shoot(page: Page, width: int, path: Path) -> None:
    """A screenshot of the whole page at ``width`` px wide: the viewport is made as tall as the page's
    content (at least :data:`SCREEN_HEIGHT`), scrolled to its top, the pointer off the content."""
    page.set_viewport_size({"width": width, "height": SCREEN_HEIGHT})
    _laid_out(page)
    height = page.get_by_test_id("stMain").evaluate("main => main.scrollHeight")
    if height > SCREEN_HEIGHT:
        page.set_viewport_size({"width": width, "height": height})
        _laid_out(page)
    _settle_for_screenshot(page)
    _expect()(page.locator("#vg-tooltip-element")).to_be_hidden()
    page.screenshot(path=path)


def _open_from_sidebar(page: Page, link: str, heading: str) -> Locator:
    expect = _expect()
    main = page.get_by_test_id("stMain")
    _app_idle(page)
    page.get_by_test_id("stSidebar").get_by_role("link", name=link, exact=True).click()
    expect(main.get_by_role("heading", name=heading, exact=True, level=1)).to_be_visible()
    return main


def _sort_by(page: Page, main: Locator, sort: str, descending: bool) -> None:
    """Choose ``sort`` in "Sort by" and the order (the Order control's buttons are arrows: descending, then
    ascending)."""
    expect = _expect()
    _app_idle(page)
    sort_by = main.get_by_role("combobox", name="Sort by")
    sort_by.click()
    page.get_by_role("listbox").get_by_role("option", name=LABELS[sort], exact=True).click()
    expect(sort_by).to_have_value(LABELS[sort])
    _app_idle(page)
    order = main.get_by_role("radiogroup", name="Order").get_by_role("radio").nth(0 if descending else 1)
    order.click()
    expect(order).to_have_attribute("aria-checked", "true")


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def _same_number(shown: str, expected: object) -> bool:
    """A grid's CSV number against a frame's value (None/NaN: an empty cell)."""
    missing = expected is None or (isinstance(expected, float) and math.isnan(expected)) or pd.isna(expected)
    value = _number(shown)
    return value is None if missing else value is not None and math.isclose(value, float(expected), abs_tol=1e-9)


def _check_team_rows(rows: list[dict[str, str]], listed: TeamPage) -> None:
    """The Team table as shown (its CSV) against coaching.team's page: the same agents in the same order,
    each with its flag, Kore average, change, count and reason."""
    expected = listed.rows
    assert [row["agent"] for row in rows] == list(expected["agent"]), "agents shown in another order"
    for row, (_, want) in zip(rows, expected.iterrows(), strict=True):
        where = f"row of {want['agent']}"
        assert row["flag"] == (want["flag"] if isinstance(want["flag"], str) else ""), where
        assert row["kore_change_text"] == change_text(want["kore_change"]), where
        assert _same_number(row["kore_avg"], want["kore_avg"]), (where, row["kore_avg"], want["kore_avg"])
        assert int(row["kore_n"]) == want["kore_n"], where
        assert row["flag_reason"] == want["flag_reason"], where


def _check_agent_trends(page: Page, main: Locator, trends: pd.DataFrame, label: str) -> None:
    """The agent's trends beside the team average: every point as ``trends`` has it, the agent's lines
    solid and the team average's dashed."""
    assert set(trends["series"]) == {label, TEAM_AVERAGE}, "the journey needs the agent and their team average"
    charts = main.get_by_test_id("stVegaLiteChart")
    _check_score_charts(page, charts, trends)
    dashes = {label: SERIES_DASHES[YOU], TEAM_AVERAGE: SERIES_DASHES[TEAM_AVERAGE]}
    for chart in (charts.nth(0), charts.nth(1)):
        lines = chart.locator("g.mark-line.role-mark > path").evaluate_all(
            "lines => lines.map(l => [l.getAttribute('aria-label'), l.getAttribute('stroke-dasharray')])")
        drawn = {re.search(r"; series: ([^;]+)", aria or "")[1]: dash for aria, dash in lines}
        assert set(drawn) == {label, TEAM_AVERAGE}, f"lines drawn: {sorted(drawn)}"
        for series, dash in drawn.items():
            assert dash == ",".join(map(str, dashes[series])), f"{series} drawn with dashes {dash}"


def _check_interactions(rows: list[dict[str, str]], expected: pd.DataFrame) -> None:
    """The heatmap's list as shown (its CSV) against not_adhered_interactions: same rows, same order."""
    assert len(rows) == len(expected), f"{len(rows)} interactions listed, {len(expected)} expected"
    for row, (_, want) in zip(rows, expected.iterrows(), strict=True):
        where = f"interaction {want['conversation_id']}"
        assert abs(pd.Timestamp(row["date"]) - pd.Timestamp(want["date"])) < pd.Timedelta(milliseconds=1), (
            where, row["date"], want["date"])
        assert row["queues"] == want["queues"], where
        assert _same_number(row["kore_score"], want["kore_score"]), (where, row["kore_score"])
        assert _same_number(row["audit_score"], want["audit_score"]), (where, row["audit_score"])


def _heatmap_cell(cells: pd.DataFrame, person_id: str) -> pd.Series:
    """The agent's cell the journey opens: not thin, the most interactions not adhered (then by metric)."""
    theirs = cells[(cells["person_id"] == person_id) & ~cells["thin"].astype(bool) & (cells["not_adhered"] > 0)]
    assert len(theirs), "the agent has no cell with interactions not adhered: the journey needs one"
    return theirs.sort_values(["not_adhered", "metric"], ascending=[False, True]).iloc[0]


def _click_cell(page: Page, chart: Locator, agent: str, metric: str) -> Locator:
    """Click the heatmap's cell of ``agent`` and ``metric`` near its corner (its text sits in the middle)."""
    cell = chart.locator(f"{CELLS}[aria-label^={_css_string(f'metric: {metric}; agent: {agent};')}]")
    _expect()(cell).to_have_count(1)
    cell.scroll_into_view_if_needed()
    box = cell.bounding_box()
    assert box, "the cell is not laid out"
    x, y = box["x"] + 4, box["y"] + 4
    assert cell.evaluate("(cell, [x, y]) => document.elementFromPoint(x, y) === cell", [x, y]), \
        "another mark covers the cell's corner"
    page.mouse.click(x, y)
    page.mouse.move(*POINTER_REST)
    return cell


def test_lead_opens_the_flagged_agent_a_heatmap_cell_and_an_audit(
    page: Page, dashboard: Dashboard, screenshots: Path
) -> None:
    expect = _expect()
    db = dashboard.store.db
    today, pass_score = clock.today(), settings.review_settings().pass_score
    with store.open_store(db).snapshot() as con:
        viewer = access.identify(con, LEAD_EMAIL)
    filters, listed = _journey_dates(db, viewer, pass_score, today)
    assert filters.days == DEFAULT_DAYS
    start, end = filters.start, filters.end
    assert listed.total > 1 and listed.pages == 1, "the journey reads the lead's whole team on one page"
    first = listed.rows.iloc[0]
    person_id, agent = first["person_id"], first["agent"]
    with store.open_store(db).snapshot() as con:
        trends = own_trends(con, viewer, TrendFilters(start, end), "week", person_id)
        heatmap_filters = TeamFilters(start, end)
        cells = metric_heatmap(con, viewer, heatmap_filters)
        cell = _heatmap_cell(cells, person_id)
        metric = cell["metric"]
        interactions = not_adhered_interactions(con, viewer, heatmap_filters, person_id, metric)
    assert person_id in set(arrange(cells)["person_id"]), "the heatmap does not draw the agent"
    assert len(interactions) == cell["not_adhered"] > 0

    page.set_viewport_size({"width": WIDTHS[0], "height": SCREEN_HEIGHT})
    page.add_init_script(PLAIN_DOWNLOADS)
    page.goto("/")
    _expect_sign_in_form(page)
    _sign_in(page, LEAD_EMAIL, DEMO_PASSWORD)
    expect(page.get_by_test_id("stMain").get_by_role("heading", name="Overview")).to_be_visible()

    # Team: the journey's dates, sorted by the Kore change, ascending: the biggest fall first.
    main = _open_from_sidebar(page, "Team", "Team")
    expect(page).to_have_url(re.compile(r"/team$"))
    _choose_dates(page, main, start, end)
    _sort_by(page, main, SORT, DESCENDING)
    expect(main.get_by_test_id("stCaptionContainer").first).to_contain_text(
        f"{listed.total:,} agent(s), by {LABELS[SORT]} (ascending). Interactions from {start:%d %b %Y} to "
        f"{end:%d %b %Y}")
    _app_idle(page)
    grid = main.get_by_test_id("stDataFrame").first
    _ready_grid(page, grid)
    _check_team_rows(_grid_rows(page, grid), listed)

    # The first agent (the demo's falling one in these dates; else the biggest fall): choosing them says why
    # they are flagged and offers their trends and their coaching.
    _choose_row(grid, 0)
    chosen = main.get_by_test_id("stVerticalBlock").filter(
        has=page.get_by_role("button", name="Open their Score Trends"))
    expect(chosen.last).to_be_visible()
    expect(chosen.last.get_by_test_id("stMarkdownContainer").first).to_have_text(f"{agent} · {person_id}")
    if first["flag_reason"]:
        expect(chosen.last.get_by_test_id("stText")).to_have_text(first["flag_reason"])
    else:
        expect(chosen.last.get_by_test_id("stText")).to_have_count(0)
    expect(main.get_by_role("button", name="Open their Coaching Assignments")).to_be_visible()
    _app_idle(page)
    for width in WIDTHS:
        _shoot(page, width, screenshots / f"team-{width}.png")

    # Their Score Trends: the agent against their team's average.
    team_path = urlsplit(page.url).path
    main.get_by_role("button", name="Open their Score Trends").click()
    expect(main.get_by_role("heading", name=f"Score Trends: {agent}", exact=True, level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/trends\?agent="))
    assert _query(page.url) == {"agent": [person_id]}
    expect(main.get_by_role("link", name="Back to Score Trends")).to_be_visible()
    _choose_dates(page, main, start, end)
    _app_idle(page)
    _check_agent_trends(page, main, trends, agent)

    # Back to Team, by the browser's back button.
    page.go_back()
    expect(main.get_by_role("heading", name="Team", exact=True, level=1)).to_be_visible()
    assert urlsplit(page.url).path == team_path
    _ready_grid(page, main.get_by_test_id("stDataFrame").first)

    # The Metric Heatmap over the same dates.
    main = _open_from_sidebar(page, "Metric Heatmap", "Metric Heatmap")
    expect(page).to_have_url(re.compile(r"/heatmap$"))
    _choose_dates(page, main, start, end)
    _app_idle(page)
    chart = main.get_by_test_id("stVegaLiteChart").first
    _drawn(page, chart)
    drawn = arrange(cells)
    expect(chart.locator(f"{CELLS}[aria-label*='; Scored: ']")).to_have_count(len(drawn))
    for width in reversed(WIDTHS):
        _shoot(page, width, screenshots / f"heatmap-{width}.png")

    # A cell of the flagged agent: its interactions not adhered, in the URL and listed.
    clicked = _click_cell(page, chart, cell["agent"], metric)
    expect(page).to_have_url(re.compile(r"[?&]metric="))
    assert _query(page.url) == {"agent": [person_id], "metric": [metric]}
    expect(clicked).to_have_attribute("stroke", CHOSEN_STROKE)
    expect(chart.locator(f"{CELLS}[stroke='{CHOSEN_STROKE}']")).to_have_count(1)
    listing = main.get_by_role("heading", name=f"{cell['agent']} · {metric}", exact=True)
    expect(listing).to_be_visible()
    expect(main.get_by_text(f"Not adhered in {cell['not_adhered']:,} of {cell['scored']:,} scored interactions")
           ).to_be_visible()
    _app_idle(page)
    listed_rows = main.get_by_test_id("stDataFrame").first
    _ready_grid(page, listed_rows)
    _check_interactions(_grid_rows(page, listed_rows), interactions)
    _shoot(page, WIDTHS[0], screenshots / f"heatmap-cell-{WIDTHS[0]}.png")

    # The newest of them: its audit.
    conversation = interactions["conversation_id"].iloc[0]
    _choose_row(listed_rows, 0)
    expect(page).to_have_url(re.compile(rf"/audit\?conversation={re.escape(conversation)}$"))
    expect(main.get_by_role("heading", name="Audit", exact=True, level=1)).to_be_visible()
    facts = main.get_by_test_id("stCaptionContainer").first
    expect(facts).to_contain_text(f"Conversation: {conversation}")
    expect(facts).to_contain_text(f"Agent: {first['agent']}")
    _app_idle(page)

    # Back, by the browser's back button: the heatmap, the same dates, the same cell and its list.
    page.go_back()
    expect(main.get_by_role("heading", name="Metric Heatmap", exact=True, level=1)).to_be_visible()
    expect(listing).to_be_visible()
    assert urlsplit(page.url).path.endswith("/heatmap")
    assert _query(page.url) == {"agent": [person_id], "metric": [metric]}
    assert (_shown_date(main, "start"), _shown_date(main, "end")) == (start.isoformat(), end.isoformat())
    _app_idle(page)
    listed_rows = main.get_by_test_id("stDataFrame").first
    _ready_grid(page, listed_rows)
    _check_interactions(_grid_rows(page, listed_rows), interactions)
