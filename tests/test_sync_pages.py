"""What the pages say about Kore syncs: the last sync on the Import page (admins), and "Data as of …" in the
sidebar of every page, for every viewer (ui/freshness.py over coaching.kore_sync.data_as_of)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from coaching import kore_sync, store
from coaching.kore_sync import LandedWindow, SyncRun, SyncState

from app_pages import as_user, point_app_at

ADMIN = "ada.admin@example.com"  # the templates' Admin
AGENT = "priya.nair@example.com"
IMPORT = "pages/import_exports.py"


@pytest.fixture
def db(template_store_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    point_app_at(template_store_copy, monkeypatch)
    return template_store_copy


def test_the_import_page_says_when_the_store_was_never_synced(db: Path) -> None:
    at = as_user(ADMIN, IMPORT)
    assert "Sync from Kore's APIs" in [h.value for h in at.subheader]
    assert any("has not been synced" in c.value for c in at.caption)


def test_the_import_page_shows_the_last_sync_and_its_error(db: Path) -> None:
    ok = SyncRun(started_at="2030-01-02T03:00:00Z", finished_at="2030-01-02T03:04:00Z", status="ok", windows=3,
                 windows_landed=2, windows_unchanged=1, records=1234)
    kore_sync.save_state(db, SyncState(runs=[ok]))
    [success] = [s.value for s in as_user(ADMIN, IMPORT).success]
    assert success == ("Last sync 02 Jan 2030 03:04 UTC: 1,234 record(s) read in 3 window(s), 2 imported, "
                       "1 unchanged.")
    failed = SyncRun(started_at="2030-01-02T04:00:00Z", finished_at="2030-01-02T04:00:01Z", status="failed",
                     error="Kore refused the credentials (HTTP 401 from scorereporting): check KORE_CLIENT_SECRET")
    kore_sync.save_state(db, SyncState(runs=[ok, failed]))
    [error] = [e.value for e in as_user(ADMIN, IMPORT).error]
    assert error.startswith("Last sync 02 Jan 2030 04:00 UTC failed: Kore refused the credentials")
    assert "KORE\\_CLIENT\\_SECRET" in error or "KORE_CLIENT_SECRET" in error


@pytest.mark.parametrize("page", [None, "pages/trends.py", "pages/coaching.py"])
def test_every_viewer_sees_data_as_of_in_the_sidebar(db: Path, page: str | None) -> None:
    at = as_user(AGENT, page)
    [as_of] = [c.value for c in at.sidebar.caption if c.value.startswith("Data as of")]
    assert as_of.endswith(" UTC")
    # A sync that landed Kore's data up to a later time than the last import makes the data that fresh: the
    # watermark is the store's, read from the page's own snapshot.
    with store.next_generation(db) as con:
        kore_sync.record_window(con, LandedWindow(datetime(2030, 1, 2), datetime(2030, 1, 2, 3), "d",
                                                  {"scorereporting": 1, "rawdata": 1}, datetime(2030, 1, 2, 3)))
    at = as_user(AGENT, page)
    assert "Data as of 02 Jan 2030 03:00 UTC" in [c.value for c in at.sidebar.caption]


@pytest.mark.parametrize("text", ["[]", '{"runs": [{"status": "ok"}]}', '{"runs": [{"started_at": "yesterday"}]}',
                                  '{"runs": "many"}', "{not json"])
@pytest.mark.parametrize(("email", "page"), [(AGENT, None), (AGENT, "pages/trends.py"), (ADMIN, IMPORT)])
def test_a_broken_state_file_breaks_no_page(db: Path, text: str, email: str, page: str | None) -> None:
    state = kore_sync.sync_folder(db) / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(text)
    at = as_user(email, page)
    assert not at.exception
    assert any(c.value.startswith("Data as of") for c in at.sidebar.caption)  # the store's last import
    if page == IMPORT:
        assert any("move it away" in w.value for w in at.warning)  # the next sync stops on it: said


def test_data_as_of_falls_back_to_the_last_import_when_the_sync_cannot_be_read(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise TypeError("whatever went wrong")

    monkeypatch.setattr(kore_sync, "readable_runs", broken)
    at = as_user(AGENT, None)
    assert not at.exception
    assert any(c.value.startswith("Data as of") for c in at.sidebar.caption)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_import_page_says_a_killed_sync_stopped_unexpectedly_and_names_a_refused_window(db: Path) -> None:
    running = SyncRun(started_at="2030-01-02T03:00:00Z", status="running", pid=os.getpid(), windows=3)
    kore_sync.save_state(db, SyncState(runs=[running]))
    [info] = [i.value for i in as_user(ADMIN, IMPORT).info]
    assert "is running" in info
    killed = SyncRun(started_at="2030-01-02T03:00:00Z", status="running", pid=_dead_pid(), windows=3)
    kore_sync.save_state(db, SyncState(runs=[killed]))
    [error] = [e.value for e in as_user(ADMIN, IMPORT).error]
    assert error.startswith("The sync started 02 Jan 2030 03:00 UTC") and "stopped unexpectedly" in error
    refused = SyncRun(started_at="2030-01-02T04:00:00Z", finished_at="2030-01-02T04:01:00Z", status="failed",
                      error="the import refused 1 window(s)",
                      failed_windows=[{"start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z", "total": 2,
                                       "problems": ["record 3: koreEvalutionScore 500: expected -100 to 100"],
                                       "kept": "/data/x.kore-sync/failed/w/t"}],
                      warnings=["Kore's rawdata for a window gave the same records in two full reads"])
    kore_sync.save_state(db, SyncState(runs=[refused]))
    at = as_user(ADMIN, IMPORT)
    assert any("2030-01-01 00:00–2030-01-02 00:00 UTC" in w.value and "2 problem(s)" in w.value for w in at.warning)
    assert any("koreEvalutionScore 500" in c.value for c in at.code)
    assert any("two full reads" in c.value for c in at.caption)
