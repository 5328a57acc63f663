"""The dashboard's entry point through Streamlit's AppTest (tests/test_pages.py covers the pages)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from coaching import sessions, store
from coaching.importer import import_files
from ui import account

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "data" / "templates"
pytestmark = pytest.mark.usefixtures("cheap_hasher")  # conftest's: sign-ins without Argon2's full cost


class _NavigationOnlyPagesManager(PagesManager):
    """Runs go through app.py's ``st.navigation``, as on a server once app.py has run.

    (AppTest re-enables Streamlit's ``pages/`` folder mode before every run; see tests/test_pages.py.)
    """

    uses_pages_directory = False


@pytest.fixture(autouse=True)
def _close_readers():
    yield
    store.close_all()


def _app(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("COACHING_DB", str(db))
    monkeypatch.setattr(script_runner, "PagesManager", _NavigationOnlyPagesManager)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)


def test_overview_shows_the_loaded_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "s.duckdb"
    import_files(db, [TEMPLATES])
    at = _app(db, monkeypatch)
    at.user = {"is_logged_in": True, "email": "ada.admin@example.com"}  # the templates' admin
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Overview"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Evaluated interactions"] == "3"
    assert metrics["Supervisor audits"] == "1"
    # One per agent of an assignment (A-200 is a group assignment of two), like the coaching list.
    assert metrics["Coaching assignments"] == "3"
    assert "Agents" in metrics
    # How fresh the data is: in the sidebar, on every page (ui/freshness.py).
    assert any(c.value.startswith("Data as of ") for c in at.sidebar.caption)


def test_a_missing_store_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    absent = tmp_path / "absent.duckdb"
    at = _app(absent, monkeypatch)
    at.user = {"is_logged_in": True, "email": "ada.admin@example.com"}
    at.run()
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert error.startswith("The dashboard's data is not loaded") and "coaching demo" in error
    assert not at.metric
    # Signing in through the form without a store is refused like any wrong password, not a crash.
    client = TestClient(Starlette(routes=account.routes()), base_url="http://dashboard.test")
    form = client.get(account.SIGN_IN_PATH)
    token = re.search(r'name="form_token" value="([^"]+)"', form.text)
    assert token, form.text
    response = client.post(account.SIGN_IN_PATH, follow_redirects=False, data={
        "email": "ada.admin@example.com", "password": "any-password-at-all", "form_token": token.group(1)})
    assert response.status_code == 401 and "That email and password do not match an account." in response.text
    assert account.SESSION_COOKIE not in response.cookies
    assert not absent.exists() and not sessions.sessions_path(absent).exists()
