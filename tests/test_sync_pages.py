"""What the pages say about Kore syncs: the last sync on the Import page (admins), and "Data as of …" in the
sidebar of every page, for every viewer (ui/freshness.py over coaching.kore_sync.data_as_of)."""

from __future__ import annotations

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
