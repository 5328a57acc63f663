"""Browser tests: the real dashboard (`streamlit run app.py`) on a demo store, driven by headless Chromium.

The browser is Debian's Chromium (`/usr/bin/chromium`), never a Playwright download: `python3 dev.py test`
installs it with apt-get, and the `playwright` package (its driver only) comes from the `test` extra.
Without them the tests skip, except under CI, where a skip would hide a broken setup: there they fail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"
#: How long the server may take to answer its health check.
SERVER_START_TIMEOUT = 60.0
#: How long a locator waits for Streamlit to draw something (it renders asynchronously).
UI_TIMEOUT_MS = 20_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test (`-m "not browser"` leaves them out)."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; `python3 dev.py test` should have installed it", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class DemoSession:
    """One of the demo agent's coaching sessions, as the dashboard shows it to them."""

    assignment_id: str
    name: str
    #: The conversation ids of its interactions marked for coaching, in the session's order.
    marked: tuple[str, ...]
    #: Its coaching areas, in their order.
    areas: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoStore:
    db: Path
    #: The demo agent (agent@example.com) as the roster names them.
    agent_name: str
    #: Another agent who has coaching sessions: the demo agent must never see them.
    other_agent_name: str
    #: The demo agent's coaching sessions as (name, assigned date, follow-up date or "—"), dates as the
    #: list shows them ("05 Nov 2026"), sorted.
    agent_sessions: list[tuple[str, str, str]]
    #: The same sessions in the Coaching Assignments list's order (newest first), with their ids.
    agent_list: list[DemoSession]


@dataclass(frozen=True)
class Dashboard:
    base_url: str
    store: DemoStore


def _build_demo_store(folder: Path) -> DemoStore:
    db, out = folder / "coaching.duckdb", folder / "demo"
    command = [sys.executable, "-m", "coaching.cli", "demo", "--db", str(db), "--out", str(out),
               "--agents", "24", "--days", "60", "--end", "2026-11-01", "--quiet"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"coaching demo failed:\n{done.stdout}\n{done.stderr}"

    import duckdb  # the project's own dependency

    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT name FROM people WHERE email = 'agent@example.com'").fetchone()
        assert row, "the demo store has no agent@example.com"
        agent_name = row[0]
        other = con.execute(
            "SELECT agent FROM assignments WHERE agent <> ?"
            " GROUP BY agent ORDER BY count(*) DESC, agent LIMIT 1",
            [agent_name],
        ).fetchone()
        assert other, "the demo store has no coaching sessions of another agent"
        sessions = con.execute(
            "SELECT name, strftime(assigned_date, '%d %b %Y'),"
            " coalesce(strftime(follow_up_date, '%d %b %Y'), '—')"
            " FROM assignments WHERE agent = ? ORDER BY ALL",
            [agent_name],
        ).fetchall()
        assert sessions, "the demo agent has no coaching sessions"

        # The orders of coaching.assignments.assignment_list and marked_interactions.
        listed = con.execute(
            "SELECT assignment_id, name, coaching_areas FROM assignments WHERE agent = ?"
            " ORDER BY assigned_date DESC, assignment_id",
            [agent_name],
        ).fetchall()
        agent_list = [
            DemoSession(assignment_id, name, tuple(conversation for (conversation,) in con.execute(
                "SELECT c.conversation_id FROM coaching_interactions c"
                " JOIN evaluations e USING (conversation_id)"
                " WHERE c.assignment_id = ? AND e.scored_agent = ? ORDER BY c.date, e.start_time",
                [assignment_id, agent_name],
            ).fetchall()), tuple(areas))
            for assignment_id, name, areas in listed
        ]
    return DemoStore(db=db, agent_name=agent_name, other_agent_name=other[0],
                     agent_sessions=[tuple(row) for row in sessions], agent_list=agent_list)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def _serve(store: DemoStore, folder: Path, *, grid_downloads: bool = True, port: int | None = None,
           extra_args: Sequence[str] = ()) -> Iterator[Dashboard]:
    """`streamlit run server.py` on loopback over ``store``, until the block ends.

    ``grid_downloads``: the journeys read a grid's rows through its own "Download as CSV" (a grid is drawn
    on a canvas), which the dashboard as shipped hides (``client.disableDataExport`` in
    .streamlit/config.toml: every CSV a person gets is a page's formula-safe "Download CSV"). Only
    :func:`shipped_dashboard` serves it exactly as configured.

    ``port``: when the caller must know the address before the server starts (single sign-on's
    ``redirect_uri``); a free one otherwise. ``extra_args``: more ``streamlit run`` options.
    """
    port = port or _free_port()
    log_path = folder / f"streamlit-{port}.log"
    env = dict(os.environ, COACHING_DB=str(store.db))
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "server.py"),
               "--server.port", str(port), "--server.headless", "true",
               "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               # The sources may change under a running test (an editor, a checkout): never rerun for that.
               "--server.fileWatcherType", "none", "--server.runOnSave", "false"]
    if grid_downloads:
        command += ["--client.disableDataExport", "false"]
    command += extra_args
    health = f"http://127.0.0.1:{port}/_stcore/health"
    with background_server(command, log_path, lambda: _healthy(health), "the dashboard", env=env):
        yield Dashboard(base_url=f"http://127.0.0.1:{port}", store=store)


@contextmanager
def background_server(command: Sequence[str], log_path: Path, ready: Callable[[], bool], what: str, *,
                      env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """``command`` running (its output in ``log_path``) from when ``ready()`` until the block ends; the test
    fails with that output if it exits or is not ready within :data:`SERVER_START_TIMEOUT`."""
    with log_path.open("wb") as log:
        server = subprocess.Popen(list(command), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not ready():
            if server.poll() is not None or time.monotonic() > deadline:
                state = f"exited with {server.returncode}" if server.poll() is not None else "did not answer"
                pytest.fail(f"{what} {state} within {SERVER_START_TIMEOUT:.0f} s; its output:\n"
                            + log_path.read_text(errors="replace"), pytrace=False)
            time.sleep(0.25)
        yield server
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> DemoStore:
    return _build_demo_store(tmp_path_factory.mktemp("browser-store"))


@pytest.fixture(scope="session")
def dashboard(demo_store: DemoStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """The dashboard served by `streamlit run app.py` on loopback, over a fresh demo store, for the
    whole session."""
    with _serve(demo_store, tmp_path_factory.mktemp("server")) as served:
        yield served


@pytest.fixture
def fresh_dashboard(demo_store: DemoStore, tmp_path: Path) -> Iterator[Dashboard]:
    """A dashboard server of its own that no one has opened yet (the same demo store)."""
    with _serve(demo_store, tmp_path) as served:
        yield served


@pytest.fixture
def shipped_dashboard(demo_store: DemoStore, tmp_path: Path) -> Iterator[Dashboard]:
    """A dashboard of its own with the configuration as shipped (no grid downloads kept for the journeys)."""
    with _serve(demo_store, tmp_path, grid_downloads=False) as served:
        yield served


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium, one for the whole session."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, dashboard: Dashboard) -> Iterator[Page]:
    """A fresh page in its own context (no cookies or session shared between tests)."""
    viewport = {"width": 1400, "height": 900}
    context = browser.new_context(viewport=viewport, base_url=dashboard.base_url)
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where journeys save screenshots: docs/screenshots (the README's) with SAVE_SCREENSHOTS=1, else a
    temporary folder, so a test run leaves the work tree as it was."""
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")
