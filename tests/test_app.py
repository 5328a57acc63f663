"""The dashboard's pages through Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coaching import store
from coaching.importer import import_files

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "data" / "templates"


@pytest.fixture(autouse=True)
def _close_readers():
    yield
    store.close_all()


def _app(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("COACHING_DB", str(db))
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)


def test_overview_shows_the_loaded_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "s.duckdb"
    import_files(db, [TEMPLATES])
    at = _app(db, monkeypatch).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Evaluated interactions"] == "3"
    assert metrics["Supervisor audits"] == "1"
    assert metrics["Coaching assignments"] == "2"
    assert any("Store loaded" in s.value for s in at.success)


def test_overview_explains_a_missing_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(tmp_path / "absent.duckdb", monkeypatch).run()
    assert not at.exception
    assert any("coaching demo" in e.value for e in at.error)
