"""Kore's APIs into a running dashboard (issue 19), in a real browser.

`coaching sync kore` runs as a separate process against ``tests/kore_server.py`` (Kore's two reporting APIs
in their published shapes, JWT checked) while the dashboard serves the same store: the synced day lands whole
and the running server follows it. Then an admin sees the last sync on the Import page, the agent sees the
synced interaction's audit (found by their email, which the Raw Data record gives) and "Data as of …" in
the sidebar; after Kore audits that interaction, a second sync brings the audit score.

Screenshots (the README's with SAVE_SCREENSHOTS=1): the Import page with the last sync, and the synced
interaction's audit, at 1280 and 1440 px.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from coaching import credentials, store
from coaching.demo import DEMO_PASSWORD
from coaching.settings import KoreCredentials

from .conftest import ROOT, Dashboard, DemoStore, _serve
from .test_coaching_journey import _app_idle
from .test_sign_in import AGENT_EMAIL, _expect, _sign_in
from .test_team_journey import WIDTHS, _shoot
from kore_server import Conversation, KoreServer, now_utc

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

ADMIN_EMAIL = "admin@example.com"
CREDENTIALS = KoreCredentials(account_id="67a9ca06cf0e510a8632abcd", org_id="o-da5be4e0-8fbb-5229-ac20",
                              client_id="cs-2a6f1c1e-0f3b-5d2a", client_secret="kore-app-secret-0123456789abcdef",
                              stream_id="st-7e1b")


@pytest.fixture
def synced(demo_store: DemoStore, tmp_path: Path) -> Iterator[tuple[Dashboard, KoreServer, list[Conversation]]]:
    """A copy of the demo store (with its passwords) served by a dashboard of its own, and Kore with three
    of the demo agent's conversations of yesterday, one below the duration threshold."""
    db = tmp_path / "coaching.duckdb"
    shutil.copy(demo_store.db, db)
    shutil.copy(credentials.credentials_path(demo_store.db), credentials.credentials_path(db))
    yesterday = now_utc().replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    wanted = [Conversation(f"kore-{i}", yesterday + timedelta(minutes=47 * i), demo_store.agent_name, AGENT_EMAIL,
                           "a-demo-agent", score) for i, score in enumerate((72.0, 18.0, None))]
    with KoreServer(CREDENTIALS) as kore:
        kore.add(*wanted)
        with _serve(DemoStore(db, demo_store.agent_name, "", [], []), tmp_path) as served:
            yield served, kore, wanted
    store.close_all()


def _sync(db: Path, kore: KoreServer) -> str:
    env = dict(os.environ, COACHING_DB=str(db), COACHING_KORE_BACKFILL_DAYS="3", **kore.env())
    done = subprocess.run([sys.executable, "-m", "coaching.cli", "sync", "kore", "--quiet"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"coaching sync kore failed:\n{done.stdout}\n{done.stderr}"
    output = done.stdout + done.stderr
    assert CREDENTIALS.client_secret not in output
    return output


def _signed_in(browser: Browser, base_url: str, email: str, path: str) -> Page:
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, base_url=base_url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(path)
    _sign_in(page, email, DEMO_PASSWORD)
    _expect()(page.get_by_test_id("stSidebar").get_by_text(email)).to_be_visible()
    _app_idle(page)
    return page


def test_a_sync_lands_in_a_running_dashboard_and_a_later_audit_follows(
    browser: Browser, synced: tuple[Dashboard, KoreServer, list[Conversation]], screenshots: Path
) -> None:
    expect = _expect()
    dashboard, kore, wanted = synced
    first = wanted[0]

    # The agent is signed in before the sync: the running server follows the new store generation.
    agent = _signed_in(browser, dashboard.base_url, AGENT_EMAIL, f"/audit?conversation={first.conversation_id}")
    main = agent.get_by_test_id("stMain")
    expect(main.get_by_text("Interaction not found", exact=False).first) \
        .to_be_visible()

    _sync(dashboard.store.db, kore)
    assert {r.endpoint for r in kore.log} == {"scorereporting", "rawdata"} and set(kore.statuses()) == {200}

    agent.goto(f"/audit?conversation={first.conversation_id}")
    _app_idle(agent)
    expect(main.get_by_role("heading", name="Audit", exact=True, level=1)).to_be_visible()
    expect(main.get_by_text(first.conversation_id).first).to_be_visible()
    expect(main.get_by_text(dashboard.store.agent_name).first).to_be_visible()
    expect(main.get_by_test_id("stMetric").filter(has_text="Kore Evaluation Score")).to_contain_text("72")
    expect(main.get_by_test_id("stMetric").filter(has_text="Supervisor Audit Score")).not_to_contain_text("72")
    sidebar = agent.get_by_test_id("stSidebar")
    as_of = sidebar.get_by_text(re.compile(r"^Data as of \d{2} \w{3} \d{4} \d{2}:\d{2} UTC$"))
    expect(as_of).to_be_visible()
    stamp = datetime.strptime(as_of.inner_text().removeprefix("Data as of ").removesuffix(" UTC"), "%d %b %Y %H:%M")
    assert stamp >= first.start  # the synced day is in the data

    admin = _signed_in(browser, dashboard.base_url, ADMIN_EMAIL, "/import_exports")
    admin_main = admin.get_by_test_id("stMain")
    expect(admin_main.get_by_role("heading", name="Sync from Kore's APIs")).to_be_visible()
    last = admin_main.get_by_test_id("stAlertContentSuccess")
    expect(last).to_contain_text(re.compile(r"Last sync \d{2} \w{3} \d{4} \d{2}:\d{2} UTC: 6 record\(s\) read"))
    for width in WIDTHS:
        _shoot(admin, width, screenshots / f"import-last-sync-{width}.png")

    # Kore audits the first interaction; the next sync (the trailing days read again) brings the audit.
    kore.audit(first.conversation_id, 41.0, first.start + timedelta(hours=20), auditor="Quinn QA")
    _sync(dashboard.store.db, kore)
    agent.goto(f"/audit?conversation={first.conversation_id}")
    _app_idle(agent)
    expect(main.get_by_test_id("stMetric").filter(has_text="Supervisor Audit Score")).to_contain_text("41")
    for width in WIDTHS:
        _shoot(agent, width, screenshots / f"audit-synced-{width}.png")
    admin.reload()
    _app_idle(admin)
    expect(admin_main.get_by_test_id("stAlertContentSuccess")).to_contain_text("Last sync")
