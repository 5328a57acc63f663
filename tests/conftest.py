"""Shared test fixtures: where the example exports are, a store of them, and a way to write test files.

The exports the tests write themselves, and the helpers that build stores from them, are in
tests/exports.py.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from argon2 import PasswordHasher
from streamlit.runtime.media_file_manager import MediaFileManager

from coaching import store

from app_pages import Downloads, point_app_at
from exports import build_demo_store

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "data" / "templates"
#: Kore.ai's published sample exports (read only: tests write modified copies into tmp_path).
KORE_FIXTURES = Path(os.environ.get("KORE_FIXTURES", ROOT.parent / "shared" / "fixtures" / "kore"))

#: write(name, content) -> path: a file in the test's tmp_path, text written as UTF-8 exactly as
#: given (no newline translation), bytes as they are.
WriteFile = Callable[[str, "str | bytes"], Path]


@pytest.fixture(scope="session")
def templates() -> Path:
    """The folder of template exports: one small valid example per format."""
    return TEMPLATES


@pytest.fixture(scope="session")
def kore_report() -> Path:
    """Kore.ai's sample Interaction Evaluation report."""
    path = KORE_FIXTURES / "ie-report.csv"
    if not path.is_file():
        pytest.skip(f"the Kore sample export is not at {path} (set KORE_FIXTURES)")
    return path


@pytest.fixture(scope="session")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the templates folder (read only: copy it before changing it)."""
    from coaching.importer import import_files

    db = tmp_path_factory.mktemp("template-store") / "coaching.duckdb"
    import_files(db, [TEMPLATES])
    store.close_all()
    return db


@pytest.fixture
def con(small_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A snapshot of the test module's small store (a module that asks for it defines ``small_db``)."""
    from coaching import store

    with store.open_store(small_db).snapshot() as cursor:
        yield cursor


@pytest.fixture
def template_store_copy(template_store: Path, tmp_path: Path) -> Iterator[Path]:
    """A fresh copy of the template store, ``tmp_path``/data/coaching.duckdb: a test may change it, and
    has its own credentials file beside it."""
    from coaching import store

    copy = tmp_path / "data" / "coaching.duckdb"
    copy.parent.mkdir()
    shutil.copyfile(template_store, copy)
    yield copy
    store.close_all()


@pytest.fixture
def cheap_hasher(monkeypatch: pytest.MonkeyPatch) -> PasswordHasher:
    """Argon2 with tiny parameters: the same code paths, milliseconds instead of a tenth of a second."""
    from coaching import credentials

    hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    monkeypatch.setattr(credentials, "HASHER", hasher)
    return hasher


@pytest.fixture
def write(tmp_path: Path) -> WriteFile:
    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return path

    return _write


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Downloads:
    """The data callables of the page runs' download buttons, by file id: what a click would run (the
    pages write their CSVs only when asked)."""
    made: Downloads = {}
    add = MediaFileManager.add_deferred

    def recording(self, data, *args, **kwargs):
        file_id = add(self, data, *args, **kwargs)
        made[file_id] = data
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", recording)
    return made


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A demo store of the module's own (`coaching demo`'s data, built once per test module)."""
    yield build_demo_store(tmp_path_factory.mktemp("demo"))
    store.close_all()


@pytest.fixture
def demo_app(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reads the module's demo store (`app_pages.point_app_at`): page-test modules use it for
    every test (``pytestmark = pytest.mark.usefixtures("demo_app")``)."""
    point_app_at(demo_db, monkeypatch)
