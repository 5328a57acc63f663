"""`coaching sync kore`: Kore's reporting APIs pulled into the store, window by window, resumable.

How a run goes (docs/sync.md says it for people):

1. **Plan.** Time is cut into windows that tile the UTC day (``COACHING_KORE_WINDOW_HOURS``, default 24).
   A run reads from ``--since``, else from the watermark (the end of the last window landed in the store)
   less the trailing days (``COACHING_KORE_TRAILING_DAYS``, default 14, so that audits made days later
   update their evaluations), else, on a store never synced, from ``COACHING_KORE_BACKFILL_DAYS`` ago;
   up to ``--until``, else now. A window landed long enough after its end (its trailing days had
   passed) is settled and skipped, so a resumed backfill does not read again what it has.
2. **Fetch.** Each window is read from both endpoints page by page (:mod:`coaching.kore_client`). Every
   page is saved at once, in the wrapper the import reads
   (``{"request": {"endpoint", "startDate", "endDate", "offset", "limit"}, "response": …}``), under
   ``<store>.kore-sync/pending/<window>/``: a run that dies resumes at the next page.
3. **Check.** Paging by offset loses or repeats records when the window changes meanwhile. A window's pages
   are accepted only when every page gave the same ``totalResults``, no conversation came twice and the
   records add up to ``totalResults``; otherwise that endpoint's window is read again (up to
   ``max_rereads`` times, then the run stops with an error and resumes next time).
4. **Land.** A window (both endpoints) is one batch: one all-or-nothing import (:func:`import_files`),
   whose own store generation also records the window in ``kore_sync_windows`` (its digest, its records,
   when it landed). The window's evaluations, its record and so the watermark commit together or not at
   all: a crash can never leave them disagreeing. A window holds each conversation once per endpoint,
   so a batch never carries a key twice (two windows may: Kore's bounds may be inclusive); readers see
   whole windows. A window whose records are exactly those it last landed is not imported again, so a
   second sync leaves the store as it was; a window without records is recorded alone (the store then
   knows it was read, and the watermark moves on).
5. **Remember.** ``<store>.kore-sync/state.json`` keeps only what cannot live in the store: the runs (a
   failed run writes nothing to the store, yet the Import page shows its error). The pending pages
   are beside it.

One sync per store at a time: ``<store>.kore-sync/lock``. Nothing here prints or logs a credential.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TextIO

import duckdb

from coaching import store
from coaching.importer import ImportFailed, ImportSummary, import_files
from coaching.kore_client import ENDPOINTS, KoreClient, KoreError
from coaching.settings import ImportSettings, KoreCredentials, KoreSyncSettings

log = logging.getLogger(__name__)

#: Runs kept in the state file (the newest last).
KEPT_RUNS = 50
#: Keys a record's conversation id goes by in Kore's responses.
ID_KEYS = ("conversationId", "Conversation ID", "ConversationID", "conversation_id")

Status = Literal["ok", "failed", "interrupted", "dry run"]


class SyncError(RuntimeError):
    """The sync cannot go on; the message says why and what to do."""


class SyncRunning(SyncError):
    """Another process is syncing this store."""


def sync_folder(db: Path) -> Path:
    """Where the sync keeps its state, lock and pending pages: beside the store."""
    return db.with_name(db.name + ".kore-sync")


def _utc(moment: datetime) -> datetime:
    """Naive UTC, as the store keeps time."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _from_iso(text: str) -> datetime:
    return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


@dataclass(frozen=True)
class Window:
    """A span of time read from both endpoints and landed as one batch."""

    start: datetime
    end: datetime

    @property
    def name(self) -> str:
        return f"{self.start:%Y%m%dT%H%M%SZ}-{self.end:%Y%m%dT%H%M%SZ}"

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M} UTC"


@dataclass
class SyncRun:
    """One run's outcome, as the Import page shows it."""

    started_at: str
    finished_at: str | None = None
    status: Status | Literal["running"] = "running"
    since: str | None = None
    until: str | None = None
    windows: int = 0
    windows_landed: int = 0
    windows_unchanged: int = 0
    records: int = 0
    requests: int = 0
    error: str | None = None
    #: The store's watermark when the run ended: what its ``until`` vouches for (see :func:`data_as_of`).
    watermark: str | None = None

    @property
    def started(self) -> datetime:
        return _from_iso(self.started_at)

    @property
    def finished(self) -> datetime | None:
        return _from_iso(self.finished_at) if self.finished_at else None


@dataclass
class SyncState:
    """What the sync keeps beside the store (``<store>.kore-sync/state.json``): its runs, the newest last.
    What landed (the windows, the watermark) is in the store: :func:`landed_windows`."""

    runs: list[SyncRun] = field(default_factory=list)


@dataclass(frozen=True)
class LandedWindow:
    """A window as the store remembers it (a row of ``kore_sync_windows``)."""

    start: datetime
    end: datetime
    digest: str
    records: dict[str, int]
    landed_at: datetime


WINDOWS_TABLE = "kore_sync_windows"


def landed_windows(con: duckdb.DuckDBPyConnection) -> dict[datetime, LandedWindow]:
    """The windows landed in this generation of the store, by start (none in a store older than the table)."""
    if not store.has_table(con, WINDOWS_TABLE):
        return {}
    rows = con.execute(f"SELECT window_start, window_end, digest, scorereporting_records, rawdata_records, "
                       f"landed_at FROM {WINDOWS_TABLE}").fetchall()
    return {start: LandedWindow(start, end, fingerprint, {"scorereporting": auto_qa, "rawdata": raw}, landed)
            for start, end, fingerprint, auto_qa, raw, landed in rows}


def watermark(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The end of the last window landed in this generation of the store, or None (never synced)."""
    if not store.has_table(con, WINDOWS_TABLE):
        return None
    row = con.execute(f"SELECT max(window_end) FROM {WINDOWS_TABLE}").fetchone()
    return row[0] if row else None


def record_window(con: duckdb.DuckDBPyConnection, window: LandedWindow) -> None:
    """Remember a landed window in the generation ``con`` writes (the one its evaluations land in)."""
    con.execute(f"DELETE FROM {WINDOWS_TABLE} WHERE window_start = ?", [window.start])
    con.execute(f"INSERT INTO {WINDOWS_TABLE} VALUES (?, ?, ?, ?, ?, ?)",
                [window.start, window.end, window.digest, window.records.get("scorereporting", 0),
                 window.records.get("rawdata", 0), window.landed_at])


def _read_landed(db: Path) -> dict[datetime, LandedWindow]:
    if not db.exists():
        return {}
    with store.open_store(db).snapshot() as con:
        return landed_windows(con)


def load_state(db: Path) -> SyncState:
    path = sync_folder(db) / "state.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return SyncState()
    except (OSError, ValueError) as error:
        raise SyncError(f"the sync's state {path} cannot be read ({error}); move it away to start over") from None
    # An earlier build kept the watermark and windows here too: they are the store's now, and ignored.
    known = {f.name for f in fields(SyncRun)}
    return SyncState(runs=[SyncRun(**{k: v for k, v in run.items() if k in known}) for run in data.get("runs", [])])


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def save_state(db: Path, state: SyncState) -> None:
    data = {"runs": [asdict(run) for run in state.runs[-KEPT_RUNS:]]}
    _write_atomically(sync_folder(db) / "state.json", json.dumps(data, indent=1))


def last_sync(db: Path) -> SyncRun | None:
    """The newest run of `coaching sync kore` on this store (dry runs are not kept), or None."""
    try:
        runs = load_state(db).runs
    except SyncError:
        return None
    return runs[-1] if runs else None


def data_as_of(con: duckdb.DuckDBPyConnection, db: Path) -> datetime | None:
    """How fresh the store is, read from the snapshot ``con``: the later of its last import and its
    watermark. The last run may vouch for later still: when it ended well and this snapshot holds all it
    landed, it read Kore up to its ``until`` and found nothing newer (that is only in ``db``'s runs)."""
    row = con.execute("SELECT max(imported_at) FROM imports").fetchone()
    imported: datetime | None = row[0] if row else None
    synced = watermark(con)
    moments = [m for m in (imported, synced) if m is not None]
    run = last_sync(db)
    if (synced is not None and run is not None and run.status == "ok" and run.until
            and run.watermark == _iso(synced)):
        moments.append(_from_iso(run.until))
    return max(moments) if moments else None


# -- planning -----------------------------------------------------------------------------------------
def plan(landed: dict[datetime, LandedWindow], options: KoreSyncSettings, now: datetime,
         since: datetime | None = None, until: datetime | None = None) -> list[Window]:
    """The windows a run reads, oldest first (settled ones left out unless ``since`` asks for them);
    ``landed``: the store's (:func:`landed_windows`)."""
    end = _utc(until) if until else now
    if since is not None:
        start = _utc(since)
    elif landed:
        # From the watermark less the trailing days, never before the first window landed (the backfill's start).
        start = max(max(w.end for w in landed.values()) - timedelta(days=options.trailing_days), min(landed))
    else:
        start = end - timedelta(days=options.backfill_days)
    step = timedelta(hours=options.window_hours)
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    cursor = day + step * ((start - day) // step)
    windows = []
    while cursor < end:
        window = Window(cursor, min(cursor + step, end))
        cursor += step
        remembered = landed.get(window.start)
        settled = (since is None and remembered is not None and remembered.end == window.end
                   and remembered.landed_at >= window.end + timedelta(days=options.trailing_days))
        if settled:
            continue  # landed after its trailing days had passed
        windows.append(window)
    return windows


# -- fetching -----------------------------------------------------------------------------------------
def record_id(record: Any) -> str | None:
    if isinstance(record, dict):
        for key in ID_KEYS:
            value = record.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value)
    return None


def results_of(response: Any, endpoint: str) -> list[Any]:
    """The records of a page (Kore's ``results``)."""
    if isinstance(response, dict) and isinstance(response.get("results"), list):
        return list(response["results"])
    if isinstance(response, list):
        return response
    raise SyncError(f"Kore's {endpoint} answered with JSON of an unexpected shape: expected an object whose "
                    "'results' is a list of records")


def _more(response: Any, offset: int, count: int, limit: int) -> bool:
    if isinstance(response, dict):
        if isinstance(response.get("hasMore"), bool):
            return bool(response["hasMore"]) and count > 0
        total = response.get("totalResults")
        if isinstance(total, int) and not isinstance(total, bool):
            return offset + count < total and count > 0
    return count == limit


@dataclass
class Page:
    path: Path
    offset: int
    records: list[Any]
    total: int | None


def _page_file(folder: Path, endpoint: str, offset: int) -> Path:
    return folder / f"{endpoint}-{offset:09d}.json"


def _read_page(path: Path, endpoint: str) -> Page | None:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        request, response = saved["request"], saved["response"]
        records = results_of(response, endpoint)
    except (OSError, ValueError, KeyError, TypeError, SyncError):
        return None  # a page cut short by a crash: fetched again
    total = response.get("totalResults") if isinstance(response, dict) else None
    return Page(path, int(request["offset"]), records, total if isinstance(total, int) else None)


def _consistent(pages: Sequence[Page], endpoint: str, window: Window) -> bool:
    """Whether the window stood still while it was paged (see the module's docstring, step 3)."""
    totals = {p.total for p in pages if p.total is not None}
    ids = [record_id(r) for p in pages for r in p.records]
    known = [i for i in ids if i is not None]
    count = sum(len(p.records) for p in pages)
    problems = []
    if len(totals) > 1:
        problems.append(f"totalResults went {' → '.join(str(p.total) for p in pages)}")
    if len(set(known)) != len(known):
        problems.append("a conversation came twice")
    if len(totals) == 1 and count != next(iter(totals)):
        problems.append(f"{count} records against totalResults {next(iter(totals))}")
    if problems:
        log.warning("Kore's %s for %s changed while it was paged (%s); reading it again", endpoint, window,
                    "; ".join(problems))
    return not problems


Hook = Callable[[str, Window], None]


class Fetcher:
    """Reads windows into saved pages; counts requests for the progress estimate."""

    def __init__(self, client: KoreClient, options: KoreSyncSettings, hook: Hook | None,
                 on_request: Callable[[], None]) -> None:
        self.client, self.options, self.hook, self.on_request = client, options, hook, on_request

    def window(self, window: Window, folder: Path) -> dict[str, list[Page]]:
        return {endpoint: self.endpoint(window, endpoint, folder) for endpoint in ENDPOINTS}

    def endpoint(self, window: Window, endpoint: str, folder: Path) -> list[Page]:
        limit = self.options.page_size
        for _ in range(self.options.max_rereads + 1):
            pages = self._resume(folder, endpoint, limit)
            offset = pages[-1].offset + len(pages[-1].records) if pages else 0
            more = not pages or self._saved_more(pages[-1], limit)
            while more:
                request, response = self.client.page(endpoint, window.start, window.end, offset, limit)
                self.on_request()
                records = results_of(response, endpoint)
                path = _page_file(folder, endpoint, offset)
                saved = {"request": {"endpoint": endpoint, "startDate": request["startDate"],
                                     "endDate": request["endDate"], "offset": offset, "limit": request["limit"]},
                         "response": response}
                _write_atomically(path, json.dumps(saved, ensure_ascii=False))
                total = response.get("totalResults") if isinstance(response, dict) else None
                pages.append(Page(path, offset, records, total if isinstance(total, int) else None))
                if self.hook is not None:
                    self.hook("page", window)
                more = _more(response, offset, len(records), limit)
                offset += len(records)
            if _consistent(pages, endpoint, window):
                return pages
            for page in pages:
                page.path.unlink(missing_ok=True)
        raise SyncError(
            f"Kore's {endpoint} for {window} kept changing while it was paged ({self.options.max_rereads + 1} "
            "reads); the run stops here and tries again next time (smaller windows, COACHING_KORE_WINDOW_HOURS, "
            "change less while they are read)"
        )

    @staticmethod
    def _saved_more(page: Page, limit: int) -> bool:
        saved = json.loads(page.path.read_text(encoding="utf-8"))
        return _more(saved["response"], page.offset, len(page.records), limit)

    @staticmethod
    def _resume(folder: Path, endpoint: str, limit: int) -> list[Page]:
        """The pages of an earlier, interrupted read of this window, when they follow on from each other."""
        pages: list[Page] = []
        for path in sorted(folder.glob(f"{endpoint}-*.json")):
            page = _read_page(path, endpoint)
            expected = pages[-1].offset + len(pages[-1].records) if pages else 0
            if page is None or page.offset != expected:
                for stale in sorted(folder.glob(f"{endpoint}-*.json")):
                    if stale.name >= path.name:
                        stale.unlink(missing_ok=True)
                break
            pages.append(page)
        if pages:
            log.info("resuming %s of %s at offset %d", endpoint, folder.name,
                     pages[-1].offset + len(pages[-1].records))
        return pages


def digest(pages: dict[str, list[Page]]) -> str:
    """The window's records, whatever their order or paging: equal digests, equal data."""
    lines = sorted(f"{endpoint}\t{json.dumps(r, sort_keys=True, ensure_ascii=False)}"
                   for endpoint, endpoint_pages in pages.items() for p in endpoint_pages for r in p.records)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


# -- running ------------------------------------------------------------------------------------------
@dataclass
class SyncProgress:
    """How far a run is; ``requests_left`` is an estimate (pages per window so far)."""

    window: Window | None
    windows_done: int
    windows_total: int
    requests: int
    requests_left: int


@dataclass
class WindowOutcome:
    window: Window
    records: dict[str, int]
    landed: bool
    unchanged: bool
    summary: dict[str, Any] | None = None


@dataclass
class SyncResult:
    run: SyncRun
    windows: list[WindowOutcome]
    dry_run: bool = False


@contextmanager
def sync_lock(db: Path, wait: bool = False) -> Iterator[None]:
    """One sync of a store at a time: the other waits (``wait``) or gets :class:`SyncRunning`."""
    path = sync_folder(db) / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise SyncRunning(f"a sync of {db} is already running ({holder}); nothing was done") from None
        try:
            _write_holder(handle)
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_holder(handle: TextIO) -> None:
    handle.seek(0)
    handle.truncate(0)
    handle.write(f"pid {os.getpid()}, started {_iso(datetime.now(UTC).replace(tzinfo=None))}")
    handle.flush()


def _clear_orphans(pending: Path, windows: Sequence[Window], window_hours: int,
                   landed: dict[datetime, LandedWindow]) -> None:
    """Pending pages that can never be resumed: of a window that ended at 'now' of an earlier run (its end
    moved), or of one the store has landed that this run does not read (left by a crash after it landed)."""
    if not pending.is_dir():
        return
    names = {w.name for w in windows}
    done = {Window(w.start, w.end).name for w in landed.values()}
    for folder in pending.iterdir():
        if folder.name in names:
            continue
        if folder.name in done:
            shutil.rmtree(folder, ignore_errors=True)
            continue
        try:
            end = datetime.strptime(folder.name.split("-", 1)[1], "%Y%m%dT%H%M%SZ")
        except (IndexError, ValueError):
            continue
        if end.minute or end.second or end.hour % window_hours:
            shutil.rmtree(folder, ignore_errors=True)


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def sync(
    db: Path,
    credentials: KoreCredentials,
    options: KoreSyncSettings,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    dry_run: bool = False,
    import_settings: ImportSettings | None = None,
    progress: Callable[[SyncProgress], None] | None = None,
    hook: Hook | None = None,
    client: KoreClient | None = None,
    now: Callable[[], datetime] = _utc_now,
    wait_for_lock: bool = False,
) -> SyncResult:
    """One run of `coaching sync kore` (see the module's docstring). ``hook(event, window)`` is called after
    each saved page (``"page"``) and landed window (``"landed"``): tests stop a run there."""
    db = Path(db)
    with sync_lock(db, wait=wait_for_lock):
        state = load_state(db)
        landed = _read_landed(db)
        started = now()
        windows = plan(landed, options, started, since, until)
        run = SyncRun(started_at=_iso(started), since=_iso(windows[0].start) if windows else None,
                      until=_iso(windows[-1].end) if windows else None, windows=len(windows))
        outcomes: list[WindowOutcome] = []
        owns_client = client is None
        kore = client or KoreClient(credentials, options)
        scratch = Path(tempfile.mkdtemp(prefix="coaching-kore-dry-run-")) if dry_run else None
        pending = (scratch or sync_folder(db)) / "pending"
        per_window: list[int] = []
        done_requests = 0

        def report(window: Window | None) -> None:
            if progress is None:
                return
            average = sum(per_window) / len(per_window) if per_window else len(ENDPOINTS)
            left_windows = len(windows) - len(outcomes)
            in_this = kore.requests - done_requests
            left = max(0, round(average * left_windows) - in_this)
            progress(SyncProgress(window, len(outcomes), len(windows), kore.requests, left))

        try:
            if not dry_run:
                _clear_orphans(pending, windows, options.window_hours, landed)
            current: Window | None = None
            fetcher = Fetcher(kore, options, hook, lambda: report(current))
            for window in windows:
                current = window
                report(window)
                folder = pending / window.name
                folder.mkdir(parents=True, exist_ok=True)
                pages = fetcher.window(window, folder)
                per_window.append(kore.requests - done_requests)
                done_requests = kore.requests
                outcome = _land(db, landed, window, pages, now, dry_run, scratch, import_settings)
                outcomes.append(outcome)
                run.records += sum(outcome.records.values())
                run.windows_landed += outcome.landed
                run.windows_unchanged += outcome.unchanged
                if not dry_run:  # it is in the store: its pages are not needed again
                    shutil.rmtree(folder, ignore_errors=True)
                if hook is not None:
                    hook("landed", window)
            report(None)
            run.status = "dry run" if dry_run else "ok"
        except KeyboardInterrupt:
            run.status, run.error = "interrupted", "stopped before the end; the next run resumes"
            raise
        except ImportFailed as failure:
            first = failure.problems[0] if failure.problems else ""
            run.status, run.error = "failed", f"the import refused a batch: {failure.total} problem(s), first: {first}"
            raise
        except (KoreError, SyncError, OSError) as error:
            run.status, run.error = "failed", str(error)
            raise
        except Exception as error:
            run.status, run.error = "failed", f"{type(error).__name__}: {error}"
            raise
        finally:
            run.finished_at = _iso(now())
            run.requests = kore.requests
            run.watermark = _iso(max(w.end for w in landed.values())) if landed else None
            if owns_client:
                kore.close()
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            elif run.status != "running":
                state.runs.append(run)
                save_state(db, state)
        return SyncResult(run, outcomes, dry_run)


def _land(db: Path, landed: dict[datetime, LandedWindow], window: Window, pages: dict[str, list[Page]],
          now: Callable[[], datetime], dry_run: bool, scratch: Path | None, import_settings: ImportSettings | None,
          ) -> WindowOutcome:
    """One window's batch into the store, with its record in the same generation (or, in a dry run, into a
    copy of the store, remembering nothing). ``landed`` is kept in step with the store."""
    records = {endpoint: sum(len(p.records) for p in endpoint_pages) for endpoint, endpoint_pages in pages.items()}
    fingerprint = digest(pages)
    remembered = landed.get(window.start)
    unchanged = remembered is not None and remembered.digest == fingerprint
    paths = [p.path for endpoint_pages in pages.values() for p in endpoint_pages if p.records]
    summary: dict[str, Any] | None = None
    imported = False
    if not unchanged and dry_run:
        if paths and scratch is not None:
            target = scratch / "store.duckdb"
            if not target.exists() and db.exists():
                shutil.copyfile(db, target)
            summary = _summary(import_files(target, paths, import_settings))
    elif not unchanged:
        row = LandedWindow(window.start, window.end, fingerprint, records, _utc(now()))
        if paths:
            summary = _summary(import_files(db, paths, import_settings, also_write=lambda con: record_window(con, row)))
            imported = True
        else:  # nothing to import, but the store learns the window was read: the watermark moves on
            with store.next_generation(db) as con:
                record_window(con, row)
        landed[window.start] = row
    log.info("%s: %s records, %s", window, sum(records.values()),
             "unchanged" if unchanged else ("landed" if imported else "nothing to import"))
    return WindowOutcome(window, records, imported, unchanged, summary)


def _summary(result: ImportSummary) -> dict[str, Any]:
    return {kind: asdict(counts) for kind, counts in result.kinds.items()}


# -- keeping at it --------------------------------------------------------------------------------------
def every(interval: float, run_once: Callable[[], None], *, stop: Callable[[], bool],
          sleep: Callable[[float], None] = time.sleep) -> int:
    """Run ``run_once`` now and then every ``interval`` seconds (from the start of each) until ``stop()``;
    returns the runs made. A failed run is the caller's to report; the next one still comes."""
    runs = 0
    while not stop():
        began = time.monotonic()
        run_once()
        runs += 1
        while not stop():
            left = interval - (time.monotonic() - began)
            if left <= 0:
                break
            sleep(min(left, 0.2))
    return runs
