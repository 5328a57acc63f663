"""Driving the app's pages with Streamlit's AppTest over one demo store per test module.

Runs go through app.py as on a server that has run it once: ``st.navigation`` decides the page (see
tests/test_pages.py for why). A viewer signs in through ``AppTest.user``. Each test module builds its
store with `exports.build_demo_store` and points the app at it with :func:`point_app_at`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from coaching import access, store
from ui import clock

from list_view import unescaped

ROOT = Path(__file__).resolve().parent.parent
AGENT_EMAIL = "agent@example.com"
LEAD_EMAIL = "lead@example.com"
ADMIN_EMAIL = "admin@example.com"
#: A download button's data callable, by its deferred file id (``button.proto.deferred_file_id``): what the
#: ``downloads`` fixture (conftest.py) records.
Downloads = dict[str, Callable[[], object]]
OTHER_LEAD_EMAIL = "zoe.zimmer@example.com"  # the demo's second team lead: their team has a group session


class NavigationOnlyPagesManager(PagesManager):
    """Runs always go through app.py's ``st.navigation``, as on a server once app.py has run."""

    uses_pages_directory = False


#: The pages' "now" in these tests (`ui.clock`): a Friday four weeks after the demo store's last day,
#: when the demo agent has an overdue follow-up and reviews waiting 2 to 30 business days. What a page
#: shows relative to now never moves with the real clock.
DEMO_NOW = datetime(2026, 11, 27, 12, 0)


def point_app_at(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reads ``db`` with the default review settings at :data:`DEMO_NOW`, and runs go through
    app.py."""
    monkeypatch.setattr(clock, "now", lambda: DEMO_NOW)
    monkeypatch.setenv("COACHING_DB", str(db))
    for name in ("COACHING_ACCEPT_DISPUTE", "COACHING_HIDE_AUDITOR_DETAILS", "COACHING_PASS_SCORE",
                 "COACHING_REVIEW_SERVICE_LEVEL_DAYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(script_runner, "PagesManager", NavigationOnlyPagesManager)


def query(db: Path, function, email: str, *args, **kwargs):
    """``function(con, viewer, *args)`` on the store, for the viewer signed in as ``email``."""
    with store.open_store(db).snapshot() as con:
        return function(con, access.identify(con, email), *args, **kwargs)


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    with store.open_store(db).snapshot() as con:
        return con.execute(sql, list(params)).fetchall()


def as_user(email: str, page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.user = {"is_logged_in": True, "email": email}
    at.run()
    if page:
        at.switch_page(page)
    for key, value in params.items():
        at.query_params[key] = value
    if page or params:
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def titles(at: AppTest) -> list[str]:
    return [unescaped(t.value) for t in at.title]


def captions(at: AppTest) -> list[str]:
    """The page's captions (the sidebar's "Data as of …" is every page's, tested in test_sync_pages.py)."""
    return [unescaped(c.value) for c in at.main.caption]


def infos(at: AppTest) -> list[str]:
    return [i.value for i in at.info]


def metrics(at: AppTest) -> dict[str, str]:
    """Each metric's value as people read it, by its label."""
    return {m.label: unescaped(m.value) for m in at.metric}


def person_of(db: Path, name: str) -> str:
    """The person_id of the one person named ``name`` (filters choose people, never names)."""
    with store.open_store(db).snapshot() as con:
        [(person_id,)] = con.execute("SELECT person_id FROM people WHERE name = ?", [name]).fetchall()
    return person_id
