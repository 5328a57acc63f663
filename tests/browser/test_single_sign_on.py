"""Single sign-on in a real browser: a real OpenID Connect provider on a local port, the dashboard with
the README's ``[auth]`` settings for it, and a person signing in at the provider.

The provider is ``oidc-provider-mock`` (``python -m oidc_provider_mock``): its sign-in page takes the
subject to sign in as, and a subject it has not seen gets that subject as its ``email`` claim. It accepts
any client id and secret and any redirect URI, as a provider with the client registered would.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import pytest

from .conftest import (
    ROOT,
    UI_TIMEOUT_MS,
    Dashboard,
    DemoStore,
    _free_port,
    _serve,
    background_server,
)
from .test_coaching_journey import _app_idle, _query, _settle_for_screenshot
from .test_sign_in import AGENT_EMAIL, _expect

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.browser

SIGN_IN_BUTTON = "Sign in with your organisation"
#: Someone the provider knows and the roster does not.
STRANGER_EMAIL = "stranger@example.com"
README_HEADING = "### Single sign-on (OpenID Connect)"
WIDTHS = (1280, 1440)
HEIGHT = 900


@dataclass(frozen=True)
class SsoDashboard:
    dashboard: Dashboard
    #: The provider's address (``http://127.0.0.1:<port>``).
    provider_url: str
    #: The ``[auth]`` settings the dashboard was started with, read back from its secrets file.
    auth: dict[str, Any]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An OpenID Connect provider on a free loopback port, for this module."""
    folder = tmp_path_factory.mktemp("oidc-provider")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = folder / "oidc-provider.log"
    command = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    metadata = f"{base_url}/.well-known/openid-configuration"
    with background_server(command, log_path, lambda: _answers(metadata), "the OpenID Connect provider",
                           env={**os.environ, "NO_COLOR": "1"}):
        yield base_url


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string of printable ASCII is a TOML basic string


@pytest.fixture(scope="module")
def sso_dashboard(demo_store: DemoStore, provider: str,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[SsoDashboard]:
    """The dashboard over the demo store, with an ``[auth]`` section for :func:`provider` (and no other
    secrets file)."""
    folder = tmp_path_factory.mktemp("sso-dashboard")
    port = _free_port()
    auth = {
        "redirect_uri": f"http://127.0.0.1:{port}/oauth2callback",
        "cookie_secret": secrets.token_urlsafe(32),
        "client_id": "coaching-dashboard",
        "client_secret": secrets.token_urlsafe(16),
        "server_metadata_url": f"{provider}/.well-known/openid-configuration",
    }
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text("[auth]\n" + "".join(f"{key} = {_toml_string(value)}\n" for key, value in auth.items()),
                            encoding="utf-8")
    written = tomllib.loads(secrets_file.read_text(encoding="utf-8"))["auth"]
    with _serve(demo_store, folder, port=port, extra_args=["--secrets.files", str(secrets_file)]) as served:
        yield SsoDashboard(dashboard=served, provider_url=provider, auth=written)


@pytest.fixture
def context(browser: Browser, sso_dashboard: SsoDashboard) -> Iterator[BrowserContext]:
    """A browser of its own (no cookies shared between tests)."""
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": HEIGHT},
                                  base_url=sso_dashboard.dashboard.base_url)
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def _readme_auth() -> dict[str, Any]:
    """The ``[auth]`` settings the README's single sign-on section shows."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert README_HEADING in text, f"README.md has no {README_HEADING!r} section"
    section = text.split(README_HEADING, 1)[1].split("\n#", 1)[0]
    block = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert block, f"README.md's {README_HEADING!r} section shows no ```toml block"
    settings = tomllib.loads(block.group(1))
    assert "auth" in settings, "README.md's single sign-on settings have no [auth] section"
    return settings["auth"]


def _other_agents_session(store: DemoStore) -> tuple[str, str]:
    """A coaching session of another agent (its id and the agent's person id): never the demo agent's."""
    from coaching import store as stores

    # Through the store object, as the other journeys do: a second DuckDB connection to the same file
    # with another configuration is refused while one from an earlier test is still open.
    with stores.open_store(store.db).snapshot() as con:
        row = con.execute("SELECT assignment_id, person_id FROM assignments WHERE agent = ?"
                          " ORDER BY assignment_id LIMIT 1", [store.other_agent_name]).fetchone()
    assert row, "the other agent has no coaching session"
    return row[0], row[1]


def _session_link(assignment_id: str, person_id: str) -> str:
    return f"/coaching?{urlencode({'assignment': assignment_id, 'agent': person_id})}"


def _expect_sign_in_screen(page: Page) -> None:
    expect = _expect()
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Coaching & Quality")).to_be_visible()
    expect(main.get_by_role("button", name=SIGN_IN_BUTTON)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(page.get_by_role("link", name="Coaching Assignments")).to_have_count(0)


def _sign_in_at_provider(page: Page, provider_url: str, email: str) -> None:
    """From the sign-in screen: the organisation's sign-in, as ``email`` (the provider's form takes the
    subject; a new subject's email claim is the subject)."""
    page.get_by_test_id("stMain").get_by_role("button", name=SIGN_IN_BUTTON).click()
    _expect()(page).to_have_url(re.compile(rf"^{re.escape(provider_url)}/oauth2/authorize\?"))
    page.get_by_placeholder("sub").fill(email)
    page.get_by_role("button", name="Authorize").click()


def _end_session_at_provider(page: Page, sso: SsoDashboard) -> None:
    """After "Sign out": confirm at the provider's end of session, and be back on the sign-in screen."""
    expect = _expect()
    expect(page).to_have_url(re.compile(rf"^{re.escape(sso.provider_url)}/oauth2/end_session\?"))
    page.get_by_role("button", name="End session").click()
    expect(page).to_have_url(f"{sso.dashboard.base_url}/")
    _expect_sign_in_screen(page)


def _screenshots(page: Page, folder: Path, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        _app_idle(page)
        _settle_for_screenshot(page)
        page.screenshot(path=folder / f"{name}-{width}.png")
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})


def test_the_readme_shows_the_settings_this_test_uses(sso_dashboard: SsoDashboard) -> None:
    readme = _readme_auth()
    assert sorted(readme) == sorted(sso_dashboard.auth)
    for settings in (readme, sso_dashboard.auth):
        assert settings["redirect_uri"].endswith("/oauth2callback")
        assert settings["server_metadata_url"].endswith("/.well-known/openid-configuration")


def test_agent_signs_in_through_a_deep_link_stays_signed_in_and_signs_out(
    context: BrowserContext, sso_dashboard: SsoDashboard, screenshots: Path
) -> None:
    expect = _expect()
    store = sso_dashboard.dashboard.store
    session = next((s for s in store.agent_list if s.marked), store.agent_list[0])
    link = _session_link(session.assignment_id, AGENT_EMAIL)
    wanted = {"assignment": [session.assignment_id], "agent": [AGENT_EMAIL]}

    page = context.new_page()
    page.goto(link)
    _expect_sign_in_screen(page)
    _screenshots(page, screenshots, "sso-sign-in")

    _sign_in_at_provider(page, sso_dashboard.provider_url, AGENT_EMAIL)
    main = page.get_by_test_id("stMain")
    sidebar = page.get_by_test_id("stSidebar")
    title = main.get_by_role("heading", name=session.name, exact=True, level=1)
    expect(title).to_be_visible()
    assert urlsplit(page.url).path == "/coaching"
    assert _query(page.url) == wanted
    expect(main.get_by_role("heading", name="Interactions Marked for Coaching")).to_be_visible()
    expect(sidebar.get_by_text(store.agent_name, exact=True)).to_be_visible()
    expect(sidebar.get_by_text(AGENT_EMAIL)).to_be_visible()
    expect(sidebar.get_by_role("link", name="Import")).to_have_count(0)
    assert "coaching_return_to" not in {cookie["name"] for cookie in context.cookies()}
    _screenshots(page, screenshots, "sso-session")

    # Reload: the same page, the same viewer.
    page.reload()
    expect(title).to_be_visible()
    expect(sidebar.get_by_text(AGENT_EMAIL)).to_be_visible()
    assert _query(page.url) == wanted

    # A second tab: signed in, and scope as everywhere: another agent's session is not found.
    other_id, other_person = _other_agents_session(store)
    tab = context.new_page()
    tab.goto(_session_link(other_id, other_person))
    expect(tab.get_by_test_id("stSidebar").get_by_text(AGENT_EMAIL)).to_be_visible()
    expect(tab.get_by_text("Coaching session not found")).to_be_visible()
    assert store.other_agent_name not in tab.get_by_test_id("stMain").inner_text()
    tab.goto(link)
    expect(tab.get_by_test_id("stMain").get_by_role("heading", name=session.name, exact=True, level=1)
           ).to_be_visible()
    tab.close()

    # Sign out: Streamlit ends its sign-in and sends the browser to the provider's end of session (it
    # publishes an end_session_endpoint), which asks to confirm and comes back to the dashboard's home.
    # (The tab may draw the sign-in screen for a moment before it leaves: the URL says where it is.)
    _app_idle(page)
    sidebar.get_by_role("button", name="Sign out").click()
    _end_session_at_provider(page, sso_dashboard)
    expect(page.get_by_text(store.agent_name)).to_have_count(0)
    assert not {"_streamlit_user", "_streamlit_user_tokens"} & {cookie["name"] for cookie in context.cookies()}

    # The next loads: the sign-in screen, a deep link included.
    page.goto("/")
    _expect_sign_in_screen(page)
    page.goto(link)
    _expect_sign_in_screen(page)
    expect(page.get_by_text(session.name)).to_have_count(0)


def test_someone_not_on_the_roster_is_told_so_and_sees_no_data(
    context: BrowserContext, sso_dashboard: SsoDashboard, screenshots: Path
) -> None:
    expect = _expect()
    store = sso_dashboard.dashboard.store
    page = context.new_page()
    page.goto("/")
    _expect_sign_in_screen(page)
    _sign_in_at_provider(page, sso_dashboard.provider_url, STRANGER_EMAIL)

    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("stAlertContentError")).to_contain_text(
        f"{STRANGER_EMAIL} is not on the dashboard's roster")
    expect(main.get_by_role("button", name="Sign out")).to_be_visible()
    _app_idle(page)
    # No data: no metric, table or chart, no page to open, no one's name.
    for element in ("stMetric", "stDataFrame", "stTable", "stVegaLiteChart"):
        expect(page.get_by_test_id(element)).to_have_count(0)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    for name in ("Overview", "Coaching Assignments", "Review", "Score Trends"):
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    text = page.inner_text("body")
    for name in (store.agent_name, store.other_agent_name):
        assert name not in text
    _screenshots(page, screenshots, "sso-not-on-roster")

    # A deep link shows nothing of that session either.
    session = store.agent_list[0]
    page.goto(_session_link(session.assignment_id, AGENT_EMAIL))
    expect(main.get_by_test_id("stAlertContentError")).to_contain_text("not on the dashboard's roster")
    _app_idle(page)
    expect(page.get_by_text(session.name)).to_have_count(0)
    expect(page.get_by_test_id("stMetric")).to_have_count(0)

    # Signing out is the way to try another account.
    page.get_by_role("button", name="Sign out").click()
    _end_session_at_provider(page, sso_dashboard)
