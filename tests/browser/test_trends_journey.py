"""The Score Trends journey in a real browser: a team lead's four views over their team, and an agent's
own trends beside their team's average.

The charts are Altair, drawn by vega-embed as SVG inside ``stVegaLiteChart``; a chart is drawn when its
``svg.marks`` (or ``canvas.marks``) is laid out. Vega gives every mark an ARIA label naming its fields
("period: 07 Sep 2026; … measure: Kore Evaluation Score; … Evaluations: 82"), so the points a chart
draws are read from the DOM and compared with what the page's own functions (`coaching.trends`) make
of the store. The dates are typed into "Interactions between" (the store's last weeks), so what the
charts hold does not move with the real clock the server reads.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from coaching import access, settings, store
from coaching.charts import SERIES_DASHES
from coaching.demo import DEMO_PASSWORD
from coaching.trends import (
    AUDIT,
    DEFAULT_DAYS,
    FEW,
    KORE,
    SENTIMENT,
    TrendFilters,
    coaching_effect,
    coaching_monitor,
    headline_figures,
    kore_vs_audit,
    own_headline,
    own_trends,
    score_trends,
)
from ui import clock

from .conftest import Dashboard
from .test_coaching_journey import POINTER_REST, _app_idle, _grid_rows, _ready_grid, _settle_for_screenshot
from .test_review_journey import _open_panel
from .test_sign_in import AGENT_EMAIL, PLAIN_DOWNLOADS, _expect, _expect_sign_in_form, _sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

LEAD_EMAIL = "lead@example.com"
VIEWS = ("Score trends", "Kore vs audit", "Coaching", "Disputes")
#: A drawn chart is larger than this (px) both ways; an empty or collapsed one is not.
DRAWN = 100
#: The points of a chart: Vega's symbol marks (point and circle), not its legend's symbols.
POINTS = "g.mark-symbol.role-mark > path"
#: A score chart's point as Vega labels it (``series`` only on an agent's own trends).
POINT_LABEL = re.compile(r"^period: (?P<period>[^;]+);.*?; measure: (?P<measure>[^;]+);"
                         r"(?: series: (?P<series>[^;]+);)?.*; Evaluations: (?P<n>[\d,]+)$")


def _open_trends(page: Page, email: str, heading: str) -> Locator:
    """Sign in as ``email`` at "/" and open Score Trends from the sidebar; returns the main area."""
    expect = _expect()
    page.goto("/")
    _expect_sign_in_form(page)
    _sign_in(page, email, DEMO_PASSWORD)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Overview")).to_be_visible()
    page.get_by_test_id("stSidebar").get_by_role("link", name="Score Trends").click()
    expect(main.get_by_role("heading", name=heading, exact=True, level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/trends(\?|$)"))
    return main


def _window(db: Path) -> tuple[date, date]:
    """The dates the journeys choose: the store's last 35 days of interactions, so they leave out its
    first weeks (the change of dates shows in the counts) and every view still has something."""
    with store.open_store(db).snapshot() as con:
        last = con.execute("SELECT max(start_time)::DATE FROM evaluations").fetchone()[0]
    return last - timedelta(days=34), last


def _shown_date(main: Locator, which: str) -> str:
    """The start or end date as the date input shows it ("2026-08-31")."""
    return re.sub(r"\s", "", main.get_by_role("group", name=f"Interactions between {which} date").inner_text())


def _expect_period_controls(main: Locator) -> None:
    """"Interactions between" shows the last DEFAULT_DAYS days to today; "Average per" offers Day,
    Week and Month, Week chosen."""
    expect = _expect()
    before = clock.today()
    expect(main.get_by_test_id("stDateInput")).to_contain_text("Interactions between")
    for which in ("start", "end"):
        expect(main.get_by_role("group", name=f"Interactions between {which} date")).to_be_visible()
    start, end = date.fromisoformat(_shown_date(main, "start")), date.fromisoformat(_shown_date(main, "end"))
    assert end in (before, clock.today()), f"the dates end on {end}, not today"
    assert end - start == timedelta(days=DEFAULT_DAYS - 1), (start, end)
    grain = main.get_by_role("radiogroup", name="Average per")
    expect(grain).to_be_visible()
    expect(grain.get_by_role("radio")).to_have_text(["Day", "Week", "Month"])
    expect(grain.get_by_role("radio", name="Week")).to_have_attribute("aria-checked", "true")


def _choose_dates(page: Page, main: Locator, start: date, end: date) -> None:
    """Type ``start`` and ``end`` into "Interactions between" (its fields take digits, moving on by
    themselves) and leave it: the widget sends its value when it loses focus."""
    expect = _expect()
    _app_idle(page)
    for which, day in (("start", start), ("end", end)):
        main.get_by_role("group", name=f"Interactions between {which} date").get_by_role("spinbutton").first.click()
        page.keyboard.type(day.strftime("%Y%m%d"))
    page.mouse.click(*POINTER_REST)
    for which, day in (("start", start), ("end", end)):
        expect(main.get_by_role("group", name=f"Interactions between {which} date")).to_have_text(
            re.compile(rf"^\s*{day:%Y}\s*-\s*{day:%m}\s*-\s*{day:%d}\s*$"))


def _drawn(page: Page, chart: Locator) -> None:
    """Wait until ``chart`` (an ``stVegaLiteChart``) is drawn: its SVG or canvas laid out larger than
    :data:`DRAWN` both ways."""
    _expect()(chart).to_be_visible()
    _expect()(chart.locator("svg.marks, canvas.marks").first).to_be_visible()
    # The marks are looked up at each check: Vega may draw them anew (a resize, a rerun), and a handle
    # on the first drawing would then measure nothing.
    page.wait_for_function(
        """([chart, least]) => {
            const marks = chart.querySelector("svg.marks, canvas.marks");
            if (!marks) return false;
            const r = marks.getBoundingClientRect();
            return r.width > least && r.height > least;
        }""",
        arg=[chart.element_handle(), DRAWN])


def _expected_points(trends: pd.DataFrame, measures: tuple[str, ...]) -> list[tuple[str, str, str, int]]:
    """The points a score chart draws for ``measures``, as (period, measure, series, n)."""
    rows = trends[trends["measure"].isin(measures)]
    series = rows["series"] if "series" in rows.columns else pd.Series("", index=rows.index)
    return sorted((period.strftime("%d %b %Y"), measure, kind, int(n))
                  for period, measure, kind, n in zip(rows["period"], rows["measure"], series, rows["n"],
                                                      strict=True))


def _shown_points(chart: Locator) -> list[tuple[str, str, str, int]]:
    """The points ``chart`` draws, read from their ARIA labels, as (period, measure, series, n)."""
    shown = []
    for label in chart.locator(POINTS).evaluate_all("points => points.map(p => p.getAttribute('aria-label'))"):
        match = POINT_LABEL.match(label or "")
        assert match, f"a point's label is not as expected: {label!r}"
        shown.append((match["period"], match["measure"], match["series"] or "", int(match["n"].replace(",", ""))))
    return sorted(shown)


def _point(period: str, measure: str, series: str, n: int) -> str:
    """The selector of a point with these fields in its ARIA label."""
    selector = f'{POINTS}[aria-label^="period: {period};"][aria-label*="; measure: {measure};"]'
    if series:
        selector += f'[aria-label*="; series: {series};"]'
    return selector + f'[aria-label$="; Evaluations: {n:,}"]'


def _check_score_charts(page: Page, charts: Locator, trends: pd.DataFrame) -> None:
    """Both charts drawn: the first with the Kore and audit averages, the second with sentiment's,
    each point with its count, as ``trends`` has them. Each expected point is waited for, so a chart
    still drawn from an earlier run does not pass."""
    expect = _expect()
    expect(charts).to_have_count(2)
    for chart, measures in ((charts.nth(0), (KORE, AUDIT)), (charts.nth(1), (SENTIMENT,))):
        expected = _expected_points(trends, measures)
        assert expected, f"nothing to draw for {measures} in these dates: the journey needs some"
        _drawn(page, chart)
        for point in expected:
            expect(chart.locator(_point(*point))).to_have_count(1)
        expect(chart.locator(POINTS)).to_have_count(len(expected))
        assert _shown_points(chart) == expected
        # Hollow (filled white) exactly where an average rests on fewer than FEW evaluations.
        for label, fill in chart.locator(POINTS).evaluate_all(
                "points => points.map(p => [p.getAttribute('aria-label'), p.getAttribute('fill')])"):
            thin = int(POINT_LABEL.match(label)["n"].replace(",", "")) < FEW
            assert (fill == "white") == thin, f"{'thin' if thin else 'solid'} point drawn with fill {fill}: {label}"


def _hover_a_point(page: Page, chart: Locator) -> None:
    """Hover a point of ``chart`` (one no other mark covers) and see its tooltip: its average and count."""
    expect = _expect()
    chart.scroll_into_view_if_needed()
    index = chart.evaluate(
        """(chart, selector) => [...chart.querySelectorAll(selector)].findIndex(point => {
               const r = point.getBoundingClientRect();
               return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === point })""",
        POINTS)
    assert index >= 0, "every point of the chart is covered by another mark"
    point = chart.locator(POINTS).nth(index)
    label = point.get_attribute("aria-label") or ""
    match = POINT_LABEL.match(label)
    assert match, label
    average = re.search(r"; Average: ([^;]+)", label)
    assert average, label
    point.hover()
    tooltip = page.locator("#vg-tooltip-element")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text(match["measure"])
    expect(tooltip).to_contain_text(re.compile(rf"Average\s*{re.escape(average[1])}"))
    expect(tooltip).to_contain_text(re.compile(rf"Evaluations\s*{re.escape(match['n'])}"))
    page.mouse.move(*POINTER_REST)
    expect(tooltip).to_be_hidden()


def _open_view(page: Page, main: Locator, view: str) -> Locator:
    """Click the tab ``view``; returns its panel once the page has run for it."""
    expect = _expect()
    _app_idle(page)
    tab = main.get_by_role("tab", name=view, exact=True)
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    _app_idle(page)
    panel = _open_panel(main)
    expect(panel).to_have_count(1)
    return panel


def _expect_absent(page: Page, names: list[str], where: str) -> None:
    html = page.content()
    shown = [name for name in names if name in html]
    assert not shown, f"{where} shows people outside the viewer's scope: {shown}"


def _agent_options(page: Page, main: Locator) -> list[str]:
    """The Agent filter's options (its listbox is virtual: the end is drawn once scrolled to)."""
    expect = _expect()
    filters = main.get_by_test_id("stExpander").filter(has_text="Filters")
    filters.get_by_text("Filters", exact=True).click()
    # Wait for the expander to be open and done growing: while it grows it scrolls (to show what takes
    # focus), and a scroll closes a multiselect's list just opened.
    expect(filters.get_by_test_id("stExpanderDetails")).not_to_have_attribute("inert", re.compile(".*"))
    page.wait_for_function(
        """details => details.open && details.getAnimations({subtree: true}).length === 0
                      && details.scrollHeight <= details.clientHeight && details.scrollTop === 0""",
        arg=filters.locator("details").element_handle())
    agent = filters.get_by_role("combobox", name="Agent", exact=True)
    expect(agent).to_be_visible()
    agent.click()
    expect(agent).to_have_attribute("aria-expanded", "true")
    listbox = page.get_by_role("listbox")
    first = listbox.get_by_role("option").first
    expect(first).to_be_visible()
    size = int(first.get_attribute("aria-setsize") or 0)
    options = {}
    # Its top, then its end (enough for a team: a list longer than two screens would miss its middle).
    for position, scroll in ((1, "0"), (size, "list.scrollHeight")):
        listbox.evaluate(f"list => {{ list.scrollTop = {scroll} }}")
        expect(listbox.locator(f"[role=option][aria-posinset='{position}']")).to_be_attached()
        # Read at once: the list reuses its elements as it scrolls, so an option read field by field
        # could mix two.
        for position_set, text in listbox.get_by_role("option").evaluate_all(
                "options => options.map(o => [o.getAttribute('aria-posinset'), o.textContent.trim()])"):
            assert options.setdefault(int(position_set), text) == text, (position_set, text, options)
    page.keyboard.press("Escape")
    expect(listbox).to_have_count(0)
    assert sorted(options) == list(range(1, size + 1)), f"options missed: {options}"
    assert options[1] == "Select all", options
    return [options[position] for position in range(2, size + 1)]


def test_lead_sees_each_trends_view_over_their_team(page: Page, dashboard: Dashboard, screenshots: Path) -> None:
    expect = _expect()
    start, end = _window(dashboard.store.db)
    filters = TrendFilters(start, end)
    with store.open_store(dashboard.store.db).snapshot() as con:
        viewer = access.identify(con, LEAD_EMAIL)
        team = [name for (name,) in con.execute(
            "SELECT name FROM people WHERE team_lead_email = ? ORDER BY name", [LEAD_EMAIL]).fetchall()]
        evaluated = [name for (name,) in con.execute(
            "SELECT DISTINCT scored_agent FROM evaluations WHERE scored_agent IN"
            " (SELECT name FROM people WHERE team_lead_email = ?) ORDER BY 1", [LEAD_EMAIL]).fetchall()]
        outsiders = [name for (name,) in con.execute(
            "SELECT name FROM people WHERE coalesce(team_lead_email, '') <> ? AND email <> ? ORDER BY name",
            [LEAD_EMAIL, LEAD_EMAIL]).fetchall()]
        weekly = score_trends(con, viewer, filters, "week")
        monthly = score_trends(con, viewer, filters, "month")
        audited = kore_vs_audit(con, viewer, filters)
        monitor = coaching_monitor(con, viewer, clock.today(), filters)
        effects = coaching_effect(con, viewer, filters, 7)
    assert team and outsiders and dashboard.store.other_agent_name in outsiders
    assert evaluated, "the lead's team has no evaluations"

    page.add_init_script(PLAIN_DOWNLOADS)
    main = _open_trends(page, LEAD_EMAIL, "Score Trends")
    _expect_period_controls(main)
    expect(main.get_by_test_id("stExpander").filter(has_text="Filters")).to_be_visible()
    expect(main.get_by_role("tab")).to_have_text(list(VIEWS))
    expect(main.get_by_role("tab", name=VIEWS[0], exact=True)).to_have_attribute("aria-selected", "true")

    # Score trends, over the chosen dates: the caption counts the evaluations behind each score.
    _choose_dates(page, main, start, end)
    panel = _open_panel(main)
    totals = weekly.groupby("measure")["n"].sum()
    caption = panel.get_by_test_id("stCaptionContainer").filter(has_text="evaluations")
    for measure in (KORE, AUDIT, SENTIMENT):
        expect(caption).to_contain_text(f"{measure}: {totals[measure]:,} evaluations")
    _app_idle(page)
    charts = panel.get_by_test_id("stVegaLiteChart")
    _check_score_charts(page, charts, weekly)
    expect(panel.get_by_role("button", name="Download CSV")).to_have_count(1)
    expect(panel.get_by_role("button", name="Download CSV")).to_be_visible()
    _settle_for_screenshot(page)
    page.screenshot(path=screenshots / "trends-scores.png")
    _hover_a_point(page, charts.first)
    _expect_absent(page, outsiders, "Score trends")

    # Kore vs audit: a point per audited interaction, and the gap per agent.
    panel = _open_view(page, main, "Kore vs audit")
    expect(panel.get_by_role("heading", name="Audited interactions")).to_be_visible()
    expect(panel.get_by_text(f"{len(audited):,} most recent audited interactions")).to_be_visible()
    charts = panel.get_by_test_id("stVegaLiteChart")
    expect(charts).to_have_count(2)
    scatter = charts.first
    _drawn(page, scatter)
    expect(scatter.locator(POINTS)).to_have_count(len(audited))
    _drawn(page, charts.nth(1))
    _settle_for_screenshot(page)
    page.screenshot(path=screenshots / "trends-kore-vs-audit.png")
    _expect_absent(page, outsiders, "Kore vs audit")

    # Coaching: the monitor's assignments, and the effect of each measured one.
    panel = _open_view(page, main, "Coaching")
    expect(panel.get_by_role("heading", name="Coaching monitor")).to_be_visible()
    assert len(monitor), "no coaching assignments in these dates: the journey needs some"
    grid = panel.get_by_test_id("stDataFrame").first
    _ready_grid(page, grid)
    rows = _grid_rows(page, grid)
    assert sorted((row["name"], row["agent"]) for row in rows) == sorted(zip(monitor["name"], monitor["agent"],
                                                                              strict=True))
    assert {row["agent"] for row in rows} <= set(team)
    measured = effects.dropna(subset=["change"])
    assert len(measured), "no assignment has Kore scores on both sides: the journey needs some"
    expect(panel.get_by_text(f"{len(measured):,} of {len(effects):,} assignments have Kore scores")).to_be_visible()
    effect_chart = panel.get_by_test_id("stVegaLiteChart").first
    _drawn(page, effect_chart)
    expect(effect_chart.locator(POINTS)).to_have_count(len(measured))
    _settle_for_screenshot(page)
    page.screenshot(path=screenshots / "trends-coaching.png")
    _expect_absent(page, outsiders, "Coaching")

    # Disputes: the rates per period.
    panel = _open_view(page, main, "Disputes")
    expect(panel.get_by_text("Per period of the audit")).to_be_visible()
    _drawn(page, panel.get_by_test_id("stVegaLiteChart").first)
    _expect_absent(page, outsiders, "Disputes")

    # Score trends again, averaged per month: the same evaluations, a point per month.
    panel = _open_view(page, main, "Score trends")
    main.get_by_role("radiogroup", name="Average per").get_by_role("radio", name="Month").click()
    expect(main.get_by_role("radio", name="Month")).to_have_attribute("aria-checked", "true")
    _app_idle(page)
    _check_score_charts(page, panel.get_by_test_id("stVegaLiteChart"), monthly)
    caption = panel.get_by_test_id("stCaptionContainer").filter(has_text="evaluations")
    for measure in (KORE, AUDIT, SENTIMENT):
        expect(caption).to_contain_text(f"{measure}: {totals[measure]:,} evaluations")

    # The Agent filter offers the lead's team (those evaluated), no one else.
    assert _agent_options(page, main) == evaluated
    assert set(evaluated) <= set(team)


def test_agent_sees_own_trends_and_no_one_else(page: Page, dashboard: Dashboard, screenshots: Path) -> None:
    expect = _expect()
    start, end = _window(dashboard.store.db)
    with store.open_store(dashboard.store.db).snapshot() as con:
        viewer = access.identify(con, AGENT_EMAIL)
        trends = own_trends(con, viewer, TrendFilters(start, end), "week")
        headline = headline_figures(own_headline(con, viewer, TrendFilters(start, end)))
        others = [name for (name,) in con.execute(
            "SELECT name FROM people WHERE name <> ? ORDER BY name", [dashboard.store.agent_name]).fetchall()]
    assert dashboard.store.other_agent_name in others
    assert set(trends["series"]) == {"You", "Team average"}, "the journey needs both series"

    main = _open_trends(page, AGENT_EMAIL, "My Score Trends")
    _expect_period_controls(main)
    # An agent's own view: no filters over others, no team views.
    expect(main.get_by_test_id("stExpander")).to_have_count(0)
    expect(main.get_by_role("tab")).to_have_count(0)
    _choose_dates(page, main, start, end)
    _app_idle(page)
    charts = main.get_by_test_id("stVegaLiteChart")
    _check_score_charts(page, charts, trends)
    # The agent's own lines solid, the team average's dashed, on both charts.
    for chart in (charts.nth(0), charts.nth(1)):
        lines = chart.locator("g.mark-line.role-mark > path").evaluate_all(
            "lines => lines.map(l => [l.getAttribute('aria-label'), l.getAttribute('stroke-dasharray')])")
        assert {re.search(r"; series: ([^;]+)", label)[1] for label, _ in lines} == set(SERIES_DASHES)
        for label, dashes in lines:
            series = re.search(r"; series: ([^;]+)", label)[1]
            assert dashes == ",".join(map(str, SERIES_DASHES[series])), f"{series} drawn with dashes {dashes}"
    expect(main.get_by_role("button", name="Download CSV")).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_text(dashboard.store.agent_name, exact=True)).to_be_visible()
    # The headline: each average of these dates, its change against the days before (where each has
    # enough scores) and what it rests on; the Kore and audit chart names the pass score's line.
    assert any(figure.change for figure in headline), "the journey needs a change to show"
    for figure in headline:
        card = main.get_by_test_id("stMetric").filter(has_text=figure.label)
        expect(card.get_by_test_id("stMetricValue")).to_have_text(figure.value)
        if figure.change:
            expect(card.get_by_test_id("stMetricDelta")).to_contain_text(figure.change.lstrip("+-"))
        else:
            expect(card.get_by_test_id("stMetricDelta")).to_have_count(0)
        expect(main.get_by_text(figure.details[:1].upper() + figure.details[1:] + ".", exact=True)).to_be_visible()
    expect(charts.nth(0).get_by_text(f"Pass score {settings.DEFAULT_PASS_SCORE:g}", exact=True)).to_be_visible()
    from .test_team_journey import WIDTHS, _shoot  # here: that journey imports this one

    for width in WIDTHS:
        _shoot(page, width, screenshots / f"my-score-trends-{width}.png")
    _expect_absent(page, others, "My Score Trends")
    assert dashboard.store.other_agent_name not in main.inner_text()
