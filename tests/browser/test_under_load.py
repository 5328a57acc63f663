"""Imports under load: five signed-in viewers keep their pages running while `coaching import` loads new
data into the store the server reads.

A server of its own serves a demo store. Five headless Chromium pages (Playwright's async API, so they
really run at once) sign in as the five demo accounts and keep switching between Overview and another
page, each switch a script run on the live store, while `coaching import` loads a larger evaluation
report. Every time Overview shows, its "Evaluated interactions" must be the viewer's count in the old
store or in the new one: an error, or any other number (a page that mixed two imports), fails. After the
import every page shows the new count.

A form sign-in lives in the browser session, so the pages re-run scripts by navigating, not by reloading
(a reload would sign them out).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from coaching import access, store
from coaching.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from coaching.overview import store_overview

from .conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, UI_TIMEOUT_MS, DemoStore, _build_demo_store, _serve

pytestmark = pytest.mark.browser

#: Each viewer's second page, by its sidebar link and its path.
OTHER_PAGE = {"agent@example.com": ("Review", "/review"), "lead@example.com": ("Score Trends", "/trends"),
              "qa@example.com": ("Review", "/review"), "admin@example.com": ("Import", "/import_exports"),
              "no-coaching@example.com": ("Score Trends", "/trends")}
#: How long the pages keep going after the import has finished, to see the new data everywhere.
AFTER_IMPORT_S = 2.0
#: Page runs that must happen while the import is under way, all viewers together.
RUNS_DURING_IMPORT = 10


@dataclass
class Viewer:
    email: str
    seen: list[int] = field(default_factory=list)
    during: int = 0
    errors: list[str] = field(default_factory=list)


def _evaluated(db: Path) -> dict[str, int]:
    """Each demo account's "Evaluated interactions" in the store at ``db``."""
    with store.open_store(db).snapshot() as con:
        counts = {email: store_overview(con, access.identify(con, email)).evaluations for email in DEMO_ACCOUNTS}
    store.close_all()
    return counts


def _import_command(db: Path, report: Path) -> list[str]:
    return [sys.executable, "-m", "coaching.cli", "import", "--db", str(db), "--quiet", str(report)]


@pytest.fixture
def loaded_store(tmp_path: Path) -> tuple[DemoStore, Path]:
    """A demo store for this test alone, and a larger evaluation report to import into it: two years of
    a bigger demo contact center (the same people first, then agents the roster does not name yet), about
    160,000 evaluations, so that the import takes seconds."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    demo_store = _build_demo_store(tmp_path / "live")
    more = tmp_path / "more"
    done = subprocess.run(
        [sys.executable, "-m", "coaching.cli", "demo", "--db", str(tmp_path / "scratch.duckdb"), "--out",
         str(more), "--agents", "200", "--days", "730", "--end", "2026-11-20", "--no-import", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return demo_store, more / "ie-report.csv"


async def _overview_count(page) -> int:
    metric = page.get_by_test_id("stMetric").filter(has_text="Evaluated interactions")
    await metric.wait_for()
    return int((await metric.get_by_test_id("stMetricValue").inner_text()).replace(",", ""))


async def _idle(page) -> None:
    await page.get_by_test_id("stApp").and_(page.locator("[data-test-script-state=notRunning]")).wait_for()


async def _errors_on(page) -> list[str]:
    return (await page.get_by_test_id("stException").all_inner_texts()
            + await page.get_by_test_id("stAlertContentError").all_inner_texts())


async def _keep_going(browser, base_url: str, viewer: Viewer, importing: asyncio.Event,
                      done_at: list[float], ready: asyncio.Barrier) -> None:
    """Sign in, then switch pages until the import is over (and a little after)."""
    context = await browser.new_context(viewport={"width": 1200, "height": 800}, base_url=base_url)
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        page = await context.new_page()
        await page.goto("/")
        await page.get_by_label("Email").fill(viewer.email)
        await page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        viewer.seen.append(await _overview_count(page))
        await ready.wait()
        other, path = OTHER_PAGE[viewer.email]
        sidebar = page.get_by_test_id("stSidebar")
        while not done_at or time.monotonic() - done_at[0] < AFTER_IMPORT_S:
            for name, where in ((other, path), ("Overview", "/")):
                running = importing.is_set() and not done_at
                await sidebar.get_by_role("link", name=name, exact=True).click()
                await page.wait_for_url(re.compile(rf"{re.escape(where)}(\?|$)"))
                await _idle(page)
                if name == "Overview":
                    viewer.seen.append(await _overview_count(page))
                viewer.errors += await _errors_on(page)
                viewer.during += running
        # The last look, after everything.
        await sidebar.get_by_role("link", name=other, exact=True).click()
        await page.wait_for_url(re.compile(rf"{re.escape(path)}(\?|$)"))
        await sidebar.get_by_role("link", name="Overview", exact=True).click()
        await page.wait_for_url(re.compile(r"/(\?|$)"))
        viewer.seen.append(await _overview_count(page))
    finally:
        await context.close()


async def _run(base_url: str, db: Path, report: Path, viewers: list[Viewer]) -> tuple[int, str]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            importing, done_at = asyncio.Event(), []
            ready = asyncio.Barrier(len(viewers) + 1)
            tasks = [asyncio.create_task(_keep_going(browser, base_url, v, importing, done_at, ready))
                     for v in viewers]
            await ready.wait()  # everyone signed in
            process = await asyncio.create_subprocess_exec(
                *_import_command(db, report), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE)
            importing.set()
            _, err = await process.communicate()
            done_at.append(time.monotonic())
            await asyncio.gather(*tasks)
            return process.returncode, err.decode()
        finally:
            await browser.close()


def test_five_viewers_keep_working_while_an_import_lands(
    loaded_store: tuple[DemoStore, Path], tmp_path: Path
) -> None:
    demo_store, report = loaded_store
    before = _evaluated(demo_store.db)
    # What the import will make of the store: the same import into a copy, done first.
    preview = tmp_path / "preview.duckdb"
    shutil.copyfile(demo_store.db, preview)
    subprocess.run(_import_command(preview, report), cwd=ROOT, check=True, capture_output=True, timeout=600)
    after = _evaluated(preview)
    assert all(after[e] != before[e] for e in DEMO_ACCOUNTS), "the new report changes every viewer's count"

    viewers = [Viewer(email) for email in DEMO_ACCOUNTS]
    with _serve(demo_store, tmp_path) as server:
        # In a thread of its own: the other browser tests' sync Playwright keeps an event loop running in
        # this one, and asyncio.run() needs a thread without one.
        outcome: list = []

        def viewers_run() -> None:
            try:
                outcome.append(asyncio.run(_run(server.base_url, demo_store.db, report, viewers)))
            except BaseException as error:  # noqa: BLE001 - handed to the test's thread, which raises it
                outcome.append(error)

        runner = threading.Thread(target=viewers_run)
        runner.start()
        runner.join()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        code, err = outcome[0]
    assert code == 0, err

    assert sum(v.during for v in viewers) >= RUNS_DURING_IMPORT, [(v.email, v.during) for v in viewers]
    assert all(v.during for v in viewers), [(v.email, v.during) for v in viewers]
    for viewer in viewers:
        assert viewer.errors == [], (viewer.email, viewer.errors)
        assert viewer.seen[0] == before[viewer.email], viewer.email
        # Never a number that is neither the old store's nor the new one's.
        assert set(viewer.seen) <= {before[viewer.email], after[viewer.email]}, (viewer.email, viewer.seen)
        assert viewer.seen[-1] == after[viewer.email], viewer.email
