"""The store's concurrency design: imports swap in whole generations while readers keep reading."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from coaching import store
from coaching.importer import ImportFailed, import_files

from exports import query

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "data" / "templates"
KORE_SAMPLE = ROOT.parent / "shared" / "fixtures" / "kore" / "ie-report.csv"

# Counts a reader sees in one snapshot: they must always belong together.
SNAPSHOT_SQL = (
    "SELECT (SELECT count(*) FROM evaluations), (SELECT count(*) FROM evaluation_metrics), "
    "(SELECT count(*) FROM people)"
)


@pytest.fixture(autouse=True)
def _close_readers():
    yield
    store.close_all()


def _counts(db: Path) -> tuple[int, int, int]:
    return query(db, SNAPSHOT_SQL)[0]


def test_a_new_store_gets_the_schema(tmp_path: Path) -> None:
    db = tmp_path / "new.duckdb"
    with store.next_generation(db):
        pass
    con = duckdb.connect(str(db), read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert set(store.DATA_TABLES) <= tables
    assert store.meta(con, "schema_version") == str(store.SCHEMA_VERSION)
    con.close()


def test_the_dashboard_refuses_a_store_of_another_schema_version(tmp_path: Path) -> None:
    """Reading a store another version wrote would fail later on a missing column: it is refused at
    once, with what to do."""
    db = tmp_path / "old.duckdb"
    with store.next_generation(db) as con:
        con.execute("UPDATE store_meta SET value = '2' WHERE key = 'schema_version'")
    with (
        pytest.raises(store.StoreError, match=r"schema version 2; .* reads version \d+\. Re-import"),
        store.open_store(db).snapshot(),
    ):
        pass
    stranger = tmp_path / "stranger.duckdb"
    duckdb.connect(str(stranger)).close()
    with (
        pytest.raises(store.StoreError, match="is not a store of this dashboard"),
        store.open_store(stranger).snapshot(),
    ):
        pass


def test_a_failed_write_leaves_the_live_store_and_no_leftovers(tmp_path: Path) -> None:
    db = tmp_path / "live.duckdb"
    import_files(db, [TEMPLATES])
    before = db.read_bytes()
    with pytest.raises(RuntimeError), store.next_generation(db) as con:
        con.execute("DELETE FROM evaluations")
        raise RuntimeError("the import found a problem")
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.duckdb", "live.duckdb.lock"]


def test_a_reader_in_this_process_follows_new_generations(tmp_path: Path) -> None:
    db = tmp_path / "live.duckdb"
    import_files(db, [KORE_SAMPLE])
    reader = store.open_store(db)
    with reader.snapshot() as con:
        assert con.execute("SELECT count(*) FROM evaluations").fetchone()[0] == 3
        # An import while this snapshot is open: it must neither fail nor change what we see.
        import_files(db, [TEMPLATES])
        assert con.execute("SELECT count(*) FROM evaluations").fetchone()[0] == 3
    with reader.snapshot() as con:
        assert con.execute("SELECT count(*) FROM evaluations").fetchone()[0] == 6


def test_a_missing_store_says_what_to_do(tmp_path: Path) -> None:
    reader = store.open_store(tmp_path / "absent.duckdb")
    with pytest.raises(store.StoreError, match="coaching demo"), reader.snapshot():
        pass


READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from coaching import store
    db, log, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    reader = store.open_store(db)
    seen = []
    def save():  # whole files only: the test reads the log while this process writes it
        partial = log.with_suffix(".part")
        partial.write_text(json.dumps(seen))
        partial.replace(log)
    while not stop.exists():
        with reader.snapshot() as con:
            seen.append(list(con.execute(sys.argv[4]).fetchone()))
        save()
        time.sleep(0.01)
    save()
    """
)


def test_an_import_while_another_process_reads_sees_old_or_new_never_half(tmp_path: Path) -> None:
    db = tmp_path / "live.duckdb"
    import_files(db, [KORE_SAMPLE])
    old = _counts(db)
    log, stop = tmp_path / "seen.json", tmp_path / "stop"
    process = subprocess.Popen(
        [sys.executable, "-c", READER, str(db), str(log), str(stop), SNAPSHOT_SQL], cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 30
        while not (log.exists() and json.loads(log.read_text() or "[]")):
            assert process.poll() is None, "the reader stopped"
            assert time.monotonic() < deadline, "the reader never read"
            time.sleep(0.05)
        # The reader holds the store open read-only; the import must still land.
        import_files(db, [TEMPLATES])
        new = _counts(db)
        while json.loads(log.read_text())[-1] != list(new):
            assert time.monotonic() < deadline, "the reader never saw the new generation"
            time.sleep(0.05)
        # A failing import while the reader reads changes nothing it sees.
        bad = tmp_path / "bad.csv"
        bad.write_text("Agent Name,Email,Role\nNo One,not-an-email,Agent\n")
        with pytest.raises(ImportFailed):
            import_files(db, [bad])
        time.sleep(0.2)
    finally:
        stop.touch()
        process.wait(timeout=30)
    assert process.returncode == 0
    seen = {tuple(s) for s in json.loads(log.read_text())}
    assert seen == {old, new}


def test_a_snapshot_inside_a_snapshot_is_the_same_one_even_when_a_new_generation_waits(tmp_path: Path) -> None:
    db = tmp_path / "live.duckdb"
    import_files(db, [KORE_SAMPLE])
    reader = store.open_store(db)
    with reader.snapshot() as outer:
        import_files(db, [TEMPLATES])  # a new generation is now waiting
        with reader.snapshot() as inner:
            assert inner is outer
            assert inner.execute("SELECT count(*) FROM evaluations").fetchone()[0] == 3
    with reader.snapshot() as con:
        assert con.execute("SELECT count(*) FROM evaluations").fetchone()[0] == 6
