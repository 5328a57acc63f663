"""The store: one DuckDB file, its schema, and the only place that opens connections to it.

Concurrency design (DuckDB allows one read-write process *or* many read-only ones per file):

* Readers (the dashboard) open the live file **read-only**, one connection per file generation,
  and run each page on one cursor, so a page never mixes two imports.
* The writer (``coaching import``) never opens the live file. Under an exclusive lock file it copies
  the live file to ``<store>.next``, applies the whole import there, checkpoints, and atomically
  ``os.replace``-s it over the live path. Readers keep the old inode until their next query, which
  notices the new generation, waits for in-flight queries on the old one, and reopens.

So an import never fails because the app has the store open, the app keeps serving during an import,
and every query sees either the whole old store or the whole new one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from coaching import settings
from coaching.sql import scalar

SCHEMA_VERSION = 5

#: The schema, table by table. docs/schema.md describes the same tables for people.
SCHEMA = """
CREATE TABLE IF NOT EXISTS store_meta (
    key VARCHAR NOT NULL,
    value VARCHAR
);
CREATE TABLE IF NOT EXISTS imports (
    import_id INTEGER NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    files VARCHAR[] NOT NULL,
    summary JSON NOT NULL
);
CREATE TABLE IF NOT EXISTS people (
    person_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    email VARCHAR,
    agent_id VARCHAR,
    team VARCHAR,
    team_lead_email VARCHAR,
    role VARCHAR NOT NULL,
    permissions VARCHAR[] NOT NULL,
    on_roster BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS evaluations (
    conversation_id VARCHAR NOT NULL,
    channel VARCHAR,
    queues VARCHAR[],
    last_queue VARCHAR,
    language VARCHAR,
    agents VARCHAR[],
    scored_agent VARCHAR NOT NULL,
    agent_email VARCHAR,
    agent_id VARCHAR,
    person_id VARCHAR NOT NULL,
    start_time TIMESTAMP NOT NULL,
    sentiment_score DOUBLE,
    topics VARCHAR,
    intent VARCHAR,
    escalation BOOLEAN,
    kore_score DOUBLE,
    is_passed BOOLEAN,
    is_fatal BOOLEAN,
    audit_score DOUBLE,
    audited_at TIMESTAMP,
    auditor VARCHAR,
    contact_direction VARCHAR,
    duration_status VARCHAR,
    evaluation_form VARCHAR,
    source VARCHAR NOT NULL,
    metrics_digest UBIGINT NOT NULL,
    scored_metrics VARCHAR[] NOT NULL,
    not_adhered_metrics VARCHAR[] NOT NULL,
    metric_layout INTEGER,
    metrics STRUCT(position INTEGER, result VARCHAR, is_fatal_metric BOOLEAN, adherence_weight DOUBLE,
                   violation_weight DOUBLE)[] NOT NULL
);
CREATE TABLE IF NOT EXISTS metric_layouts (
    layout INTEGER NOT NULL,
    position INTEGER NOT NULL,
    metric VARCHAR NOT NULL,
    is_manual BOOLEAN NOT NULL
);
CREATE VIEW IF NOT EXISTS evaluation_metrics AS
    SELECT e.conversation_id, l.metric, e.m.position AS position, e.m.result AS result,
           e.m.is_fatal_metric AS is_fatal_metric, e.m.adherence_weight AS adherence_weight,
           e.m.violation_weight AS violation_weight, l.is_manual
    FROM (SELECT conversation_id, metric_layout, unnest(metrics) AS m FROM evaluations) e
    JOIN metric_layouts l ON l.layout = e.metric_layout AND l.position = e.m.position;
CREATE TABLE IF NOT EXISTS assignments (
    assignment_id VARCHAR NOT NULL,
    agent VARCHAR NOT NULL,
    agent_email VARCHAR,
    agent_id VARCHAR,
    person_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    coaching_type VARCHAR NOT NULL,
    group_name VARCHAR,
    coaching_areas VARCHAR[] NOT NULL,
    assigned_date DATE NOT NULL,
    follow_up_date DATE,
    status VARCHAR NOT NULL,
    assigned_by VARCHAR,
    feedback VARCHAR,
    action_plan VARCHAR
);
CREATE TABLE IF NOT EXISTS coaching_interactions (
    assignment_id VARCHAR NOT NULL,
    conversation_id VARCHAR NOT NULL,
    coaching_area VARCHAR NOT NULL,
    date DATE
);
CREATE TABLE IF NOT EXISTS best_responses (
    assignment_id VARCHAR NOT NULL,
    conversation_id VARCHAR NOT NULL,
    note VARCHAR
);
CREATE TABLE IF NOT EXISTS review_events (
    conversation_id VARCHAR NOT NULL,
    metric VARCHAR,
    round INTEGER NOT NULL,
    actor VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    comment VARCHAR,
    timestamp TIMESTAMP NOT NULL,
    audit_score DOUBLE
);
CREATE TABLE IF NOT EXISTS evaluation_reviews (
    conversation_id VARCHAR NOT NULL,
    review_status VARCHAR NOT NULL,
    dispute_rounds INTEGER NOT NULL,
    disputed_metrics VARCHAR[] NOT NULL,
    awaiting_response VARCHAR[] NOT NULL,
    audit_score_history DOUBLE[] NOT NULL,
    final_audit_score DOUBLE,
    audited_at TIMESTAMP NOT NULL,
    status_since TIMESTAMP NOT NULL,
    completed_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS kore_sync_windows (
    window_start TIMESTAMP NOT NULL,
    window_end TIMESTAMP NOT NULL,
    digest VARCHAR NOT NULL,
    scorereporting_records INTEGER NOT NULL,
    rawdata_records INTEGER NOT NULL,
    landed_at TIMESTAMP NOT NULL
);
"""
#: Tables added to a schema version after stores of that version were written (no data of an older store
#: needs them): the next writer creates them (``CREATE TABLE IF NOT EXISTS``); until then a reader finds
#: none, and what reads them asks :func:`has_table` first.
ADDED_TABLES = ("kore_sync_windows",)

#: Tables holding product data (everything but bookkeeping), in the order they are described.
DATA_TABLES = (
    "people",
    "evaluations",
    "metric_layouts",
    "assignments",
    "coaching_interactions",
    "best_responses",
    "review_events",
    "evaluation_reviews",
)


class StoreError(RuntimeError):
    """The store cannot be used as asked; the message says what to do."""


def _configure(con: duckdb.DuckDBPyConnection) -> None:
    # Timestamps are stored as naive UTC; make every conversion agree on that.
    con.execute("SET TimeZone = 'UTC'")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and record the schema version (only the writer calls this)."""
    con.execute(SCHEMA)
    found = con.execute("SELECT value FROM store_meta WHERE key = 'schema_version'").fetchone()
    if found is None:
        con.execute("INSERT INTO store_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    else:
        _check_version(found[0])


def _check_version(found: str | None) -> None:
    if found is None or int(found) != SCHEMA_VERSION:
        raise StoreError(
            f"the store was written with schema version {found or 'unknown'}; this version of the "
            f"dashboard reads version {SCHEMA_VERSION}. Re-import the exports into a new store file."
        )


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the store has ``table`` (one of :data:`ADDED_TABLES` may be missing from an older store), or the
    connection a temporary table of that name (the import's)."""
    return bool(scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]))


def meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM store_meta WHERE key = ?", [key]).fetchone()
    return None if row is None else row[0]


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("DELETE FROM store_meta WHERE key = ?", [key])
    con.execute("INSERT INTO store_meta VALUES (?, ?)", [key, value])


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def next_generation(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The one door for writes: a read-write connection to the next generation of the store.

    Everything done on the connection becomes visible at once when the block exits normally;
    if the block raises, the live store is untouched and the next generation is thrown away.
    Writers queue on ``<store>.lock``, so two imports never interleave.
    """
    path = Path(path)
    following = path.with_name(path.name + ".next")
    partial = (following, following.with_name(following.name + ".wal"))
    with _exclusive(path.with_name(path.name + ".lock")):
        for leftover in partial:
            leftover.unlink(missing_ok=True)
        con: duckdb.DuckDBPyConnection | None = None
        try:
            if path.exists():
                _copy_live(path, following)
            con = duckdb.connect(str(following))
            _configure(con)
            con.execute("SET preserve_insertion_order = true")
            ensure_schema(con)
            yield con
            con.execute("CHECKPOINT")
            con.close()
            _fsync(following)
        except BaseException:
            # Whatever failed (a full disk while copying, checkpointing or syncing included), the
            # partial next generation goes: left behind, it would keep the disk full.
            if con is not None:
                con.close()
            for leftover in partial:
                leftover.unlink(missing_ok=True)
            raise
        # A stale WAL beside the live file (someone opened it read-write) goes first: a reader that
        # opens in between sees the old file without it, never the new file with it.
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
        os.replace(following, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _copy_live(path: Path, following: Path) -> None:
    """Copy the live store (and its WAL) to the next generation; a failure names the live store."""
    try:
        # Only writers change the live file, and we hold the writers' lock: a copy is a snapshot.
        shutil.copyfile(path, following)
        live_wal = path.with_name(path.name + ".wal")
        if live_wal.exists():
            shutil.copyfile(live_wal, following.with_name(following.name + ".wal"))
    except OSError as error:
        raise StoreError(
            f"could not copy the store {path} to write to it ({error.strerror or error}); "
            "nothing was changed"
        ) from error


class Store:
    """Read-only access to the live store for one process, following each new generation.

    Use :func:`open_store` to get the process-wide instance for a path: DuckDB hands every
    connection on one path in a process the same database, so there must be one owner per path.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cond = threading.Condition()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._generation: tuple[int, int, int] | None = None
        self._active = 0
        self._local = threading.local()  # the snapshot this thread holds, if any

    def _current_generation(self) -> tuple[int, int, int]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise StoreError(
                f"there is no store at {self.path}; run `coaching demo` or `coaching import` first"
            ) from None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    @contextmanager
    def snapshot(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on one generation of the store; run a whole page on it.

        A snapshot taken inside another on the same thread is the same snapshot (waiting for the
        outer one to end would never end).
        """
        held = getattr(self._local, "cursor", None)
        if held is not None:
            yield held
            return
        with self._cond:
            while True:
                generation = self._current_generation()
                if self._con is not None and generation == self._generation:
                    break
                if self._active:
                    # A new generation is waiting: let in-flight reads on the old one finish.
                    self._cond.wait(timeout=0.5)
                    continue
                if self._con is not None:
                    self._con.close()
                    self._con = None
                try:
                    # Every page of a server process reads through this one connection: its memory is
                    # bounded (COACHING_READER_MEMORY_LIMIT), whatever the pages ask of it.
                    con = duckdb.connect(str(self.path), read_only=True,
                                         config={"memory_limit": settings.reader_memory_limit()})
                except settings.SettingError as error:
                    raise StoreError(f"the dashboard is misconfigured: {error}") from None
                try:
                    _configure(con)
                    # A store written by another version would fail later, on a missing column.
                    _check_version(meta(con, "schema_version"))
                except StoreError:
                    con.close()
                    raise
                except duckdb.Error as error:
                    con.close()
                    raise StoreError(f"{self.path} is not a store of this dashboard ({error})") from None
                self._con, self._generation = con, generation
            self._active += 1
            con = self._con
        try:
            cursor = con.cursor()
            try:
                _configure(cursor)
                self._local.cursor = cursor
                yield cursor
            finally:
                self._local.cursor = None
                cursor.close()
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def held_generation(self) -> tuple[int, int, int] | None:
        """The generation of the snapshot this thread holds (a cache key part), or None."""
        return self._generation if getattr(self._local, "cursor", None) is not None else None

    def close(self) -> None:
        with self._cond:
            while self._active:
                self._cond.wait()
            if self._con is not None:
                self._con.close()
            self._con = None
            self._generation = None


_stores: dict[Path, Store] = {}
_stores_lock = threading.Lock()


def open_store(path: Path) -> Store:
    """The process-wide reader of the store at ``path``."""
    key = Path(path).resolve()
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = Store(key)
        return store


def close_all() -> None:
    """Close every reader of this process (tests and tools that replace store files)."""
    with _stores_lock:
        stores = list(_stores.values())
        _stores.clear()
    for store in stores:
        store.close()


#: Views over the data tables: each evaluation's metrics, one row per metric, as readers want them.
DATA_VIEWS = ("evaluation_metrics",)


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per data table and view."""
    return {t: scalar(con, f"SELECT count(*) FROM {t}") for t in DATA_TABLES + DATA_VIEWS}
