"""Several server processes behind HAProxy (`python3 dev.py serve`, deploy/haproxy.cfg), in a real browser.

Each browser is pinned to one process by HAProxy's ``coaching_server`` cookie (a Streamlit session lives
in one process); sign-in sessions are shared by every process through the file beside the store, so a
session started on one process works on the other, and ends on both.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from coaching.demo import DEMO_PASSWORD

from .conftest import ROOT, Dashboard, DemoStore, _free_port, _unavailable, background_server
from .test_sign_in import AGENT_EMAIL, _expect, _expect_sign_in_form, _sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

HAPROXY = Path("/usr/sbin/haproxy")
PINNING_COOKIE = "coaching_server"
LEAD_EMAIL = "lead@example.com"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def two_processes(demo_store: DemoStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """`python3 dev.py serve --processes 2` over the demo store, HAProxy on a free port."""
    if not HAPROXY.exists():
        _unavailable(f"{HAPROXY} is not installed (apt-get install haproxy)")
    port = _free_port()
    folder = tmp_path_factory.mktemp("two-processes")
    command = [sys.executable, str(ROOT / "dev.py"), "serve", "--processes", "2", "--port", str(port),
               "--server.fileWatcherType", "none", "--server.runOnSave", "false",
               "--browser.gatherUsageStats", "false"]
    env = dict(os.environ, COACHING_DB=str(demo_store.db))
    health = f"http://127.0.0.1:{port}/_stcore/health"
    with background_server(command, folder / "serve.log", lambda: _answers(health), "dev.py serve", env=env):
        yield Dashboard(base_url=f"http://127.0.0.1:{port}", store=demo_store)


def _signed_in_on(context: BrowserContext, email: str) -> tuple[Page, str]:
    """A page signed in as ``email`` on the Overview, and the process HAProxy pinned it to."""
    expect = _expect()
    page = context.new_page()
    page.goto("/")
    _expect_sign_in_form(page)
    _sign_in(page, email, DEMO_PASSWORD)
    expect(page.get_by_test_id("stSidebar").get_by_text(email)).to_be_visible()
    [pinned] = [c["value"] for c in context.cookies() if c["name"] == PINNING_COOKIE]
    return page, pinned


def test_viewers_spread_over_the_processes_and_share_sign_in(browser: Browser, two_processes: Dashboard) -> None:
    expect = _expect()
    options = {"viewport": {"width": 1280, "height": 800}, "base_url": two_processes.base_url}
    agent, lead = browser.new_context(**options), browser.new_context(**options)
    try:
        agent_page, agent_process = _signed_in_on(agent, AGENT_EMAIL)
        lead_page, lead_process = _signed_in_on(lead, LEAD_EMAIL)
        # The agent's websocket holds the first process, so the lead gets the other one (least connections).
        assert {agent_process, lead_process} == {"p1", "p2"}
        for page, link, heading in ((agent_page, "Review", "Review"), (lead_page, "Team", "Team")):
            page.get_by_test_id("stSidebar").get_by_role("link", name=link).click()
            expect(page.get_by_test_id("stMain").get_by_role("heading", name=heading, level=1)).to_be_visible()

        # The agent's session, taken to the other process: still signed in there (one sessions file)...
        other = lead_process
        session = [c for c in agent.cookies() if c["name"] != PINNING_COOKIE]
        moved = browser.new_context(**options)
        try:
            moved.add_cookies([*session, {"name": PINNING_COOKIE, "value": other, "url": two_processes.base_url}])
            page = moved.new_page()
            page.goto("/review")
            expect(page.get_by_test_id("stSidebar").get_by_text(AGENT_EMAIL)).to_be_visible()
            # ...and signing out there ends it on the first process too.
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url("**/account/sign-in?**")
        finally:
            moved.close()
        agent_page.reload()
        assert "/account/sign-in?" in agent_page.url and "reason=ended" in agent_page.url
        assert [c["value"] for c in agent.cookies() if c["name"] == PINNING_COOKIE] == [agent_process]
        # The lead, on the other process, is untouched.
        lead_page.reload()
        expect(lead_page.get_by_test_id("stSidebar").get_by_text(LEAD_EMAIL)).to_be_visible()
    finally:
        agent.close()
        lead.close()
