"""`coaching sync kore`: Kore's reporting APIs pulled into the store, window by window, resumable.

How a run goes (docs/sync.md says it for people):

1. **Plan.** Time is cut into windows that tile the UTC day (``COACHING_KORE_WINDOW_HOURS``, default 24).
   A run reads from ``--since``, else from the watermark (the end of the last window landed in the store)
   less the trailing days (``COACHING_KORE_TRAILING_DAYS``, default 14, so that audits made days later
   update their evaluations), else, on a store never synced, from ``COACHING_KORE_BACKFILL_DAYS`` ago;
   and from the earliest window the import refused that the store still lacks; up to ``--until``, never
   past now (a window not yet over would be read short). A window landed long enough after its end (its
   trailing days had passed) is settled and skipped, so a resumed backfill does not read again what it has.
2. **Fetch.** Each window is read from both endpoints page by page (:mod:`coaching.kore_client`). Every
   page is saved at once, in the wrapper the import reads
   (``{"request": {"endpoint", "startDate", "endDate", "offset", "limit"}, "response": …}``), under
   ``<store>.kore-sync/pending/<window>/``: a run that dies resumes at the next page.
3. **Check.** Paging by offset loses or repeats records when the window changes meanwhile. A window's pages
   are accepted only when every page gave the same ``totalResults``, no conversation came twice and the
   records add up to ``totalResults``; otherwise that endpoint's window is read again (up to
   ``max_rereads`` times, then the run stops with an error and resumes next time). Two full reads alike
   that still do not add up are accepted with a warning. Paging is bounded (:class:`PagingRunaway`).
4. **Land.** A window (both endpoints) is one batch: one all-or-nothing import (:func:`import_files`),
   whose own store generation also records the window in ``kore_sync_windows`` (its digest, its records,
   when it landed). The window's evaluations, its record and so the watermark commit together or not at
   all: a crash can never leave them disagreeing. A window holds each conversation once per endpoint,
   so a batch never carries a key twice (two windows may: Kore's bounds may be inclusive); readers see
   whole windows. A window whose records are exactly those it last landed is not imported again, so a
   second sync leaves the store as it was; a window without records is recorded alone (the store then
   knows it was read, and the watermark moves on). A window the import refuses is set aside
   (``failed/``), named in the run's record, read again next run; later windows carry on.
5. **Remember.** ``<store>.kore-sync/state.json`` keeps only what cannot live in the store: the runs (a
   failed run writes nothing to the store, yet the Import page shows its error), each written as
   "running" with its pid when it starts. The pending pages and the last minute's request times
   (``requests.json``, the rate limit shared by every run) are beside it.

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
from coaching.importer import ImportFailed, ImportSummary, import_files, kore_api
from coaching.kore_client import ENDPOINTS, KoreClient, KoreError, RateLimiter, page_records, write_atomically
from coaching.settings import ImportSettings, KoreCredentials, KoreSyncSettings

log = logging.getLogger(__name__)

#: Runs kept in the state file (the newest last).
KEPT_RUNS = 50
#: Keys a record's conversation id goes by, as the import matches them (its spellings, normalised): the
#: duplicate check of a read sees every conversation the import sees.
ID_KEYS = frozenset(kore_api.normalise(s) for s in kore_api.SPELLINGS["record"]["conversation_id"])
#: Pages of one endpoint's window beyond which paging is taken as running away (a million records).
MOST_PAGES = 10_000
#: Refused windows' pages kept per window (the newest), and refused windows kept in all, for diagnosis.
KEPT_FAILED_ATTEMPTS = 3
KEPT_FAILED_WINDOWS = 10

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
    status: Status | Literal["running", "stopped"] = "running"
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
    #: The process running it: a "running" run whose process is gone stopped unexpectedly (killed).
    pid: int | None = None
    #: Windows the import refused: ``{"start", "end", "problems" (the first few), "total", "kept"}``.
    failed_windows: list[dict[str, Any]] = field(default_factory=list)
    #: What the run accepted with a doubt, or was told to do and did not (an --until in the future).
    warnings: list[str] = field(default_factory=list)

    @property
    def started(self) -> datetime:
        return _from_iso(self.started_at)

    @property
    def finished(self) -> datetime | None:
        return _from_iso(self.finished_at) if self.finished_at else None

    @property
    def stopped_unexpectedly(self) -> bool:
        """A run that never finished: its process is gone (or a later run found it so)."""
        return self.status == "stopped" or (self.status == "running" and not _alive(self.pid))


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True


def _parse_run(data: Any) -> SyncRun:
    """A run record of state.json, checked; ValueError says what is wrong with it."""
    if not isinstance(data, dict):
        raise ValueError(f"a run is {type(data).__name__}, expected an object")
    known = {f.name: f for f in fields(SyncRun)}
    values = {k: v for k, v in data.items() if k in known}
    if not isinstance(values.get("started_at"), str):
        raise ValueError("a run has no started_at time")
    for name in ("started_at", "finished_at", "since", "until", "watermark"):
        if values.get(name) is not None:
            if not isinstance(values[name], str):
                raise ValueError(f"a run's {name} is not a time")
            _from_iso(values[name])  # ValueError when it is not one
    for name in ("windows", "windows_landed", "windows_unchanged", "records", "requests", "pid"):
        value = values.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValueError(f"a run's {name} is not a whole number")
    if values.get("status", "running") not in ("ok", "failed", "interrupted", "dry run", "running", "stopped"):
        raise ValueError(f"a run's status is {values.get('status')!r}")
    if values.get("error") is not None and not isinstance(values["error"], str):
        raise ValueError("a run's error is not text")
    failed = values.get("failed_windows", [])
    if not isinstance(failed, list) or not all(isinstance(w, dict) and isinstance(w.get("start"), str)
                                                and isinstance(w.get("end"), str) for w in failed):
        raise ValueError("a run's failed_windows is not a list of windows")
    for window in failed:
        _from_iso(window["start"]), _from_iso(window["end"])
    warnings = values.get("warnings", [])
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        raise ValueError("a run's warnings are not a list of text")
    return SyncRun(**values)


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
    # A window recorded before its end had come (a clock that ran ahead) vouches only up to when it landed.
    row = con.execute(f"SELECT max(least(window_end, landed_at)) FROM {WINDOWS_TABLE}").fetchone()
    return row[0] if row else None


def read_up_to(window: LandedWindow) -> datetime:
    """How far a landed window vouches for Kore's data: its end, unless it landed before its end."""
    return min(window.end, window.landed_at)


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


def _state_path(db: Path) -> Path:
    return sync_folder(db) / "state.json"


def _read_state(db: Path) -> list[Any] | None:
    """The run records of state.json as stored (None: no file); SyncError when it is not a state file."""
    path = _state_path(db)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise SyncError(f"the sync's state {path} cannot be read ({error}); move it away to start over") from None
    # An earlier build kept the watermark and windows here too: they are the store's now, and ignored.
    if not isinstance(data, dict) or not isinstance(data.get("runs", []), list):
        raise SyncError(f"the sync's state {path} is not what the sync writes (an object with a list of runs); "
                        "move it away to start over")
    runs: list[Any] = data.get("runs", [])
    return runs


def load_state(db: Path) -> SyncState:
    """The runs of state.json, every one checked: SyncError names the file and what is wrong."""
    runs = _read_state(db)
    state = SyncState()
    for number, data in enumerate(runs or [], start=1):
        try:
            state.runs.append(_parse_run(data))
        except ValueError as error:
            raise SyncError(f"the sync's state {_state_path(db)} has a bad run (number {number}: {error}); "
                            "move it away to start over") from None
    return state


def save_state(db: Path, state: SyncState) -> None:
    data = {"runs": [asdict(run) for run in state.runs[-KEPT_RUNS:]]}
    write_atomically(sync_folder(db) / "state.json", json.dumps(data, indent=1), durable=True)


def readable_runs(db: Path) -> list[SyncRun]:
    """The runs of state.json that can be read, a bad record skipped (for pages: they must never break);
    none when the file is not a state file."""
    try:
        runs = _read_state(db)
    except SyncError as error:
        log.warning("%s", error)
        return []
    readable = []
    for data in runs or []:
        try:
            readable.append(_parse_run(data))
        except (ValueError, TypeError) as error:
            log.warning("a run of %s is skipped: %s", _state_path(db), error)
    return readable


def state_problem(db: Path) -> str | None:
    """What is wrong with state.json (the next sync stops on it), or None."""
    try:
        load_state(db)
    except SyncError as error:
        return str(error)
    return None


def last_sync(db: Path) -> SyncRun | None:
    """The newest readable run of `coaching sync kore` on this store (dry runs are not kept), or None."""
    runs = readable_runs(db)
    return runs[-1] if runs else None


def last_import(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the snapshot's last import (a file or a synced window) landed."""
    row = con.execute("SELECT max(imported_at) FROM imports").fetchone()
    return row[0] if row else None


def data_as_of(con: duckdb.DuckDBPyConnection, db: Path) -> datetime | None:
    """How fresh the store is, read from the snapshot ``con``: the later of its last import and its
    watermark. The last finished run may vouch for later still: when it ended well and this snapshot holds
    all it landed, it read Kore up to its ``until`` and found nothing newer (that is only in ``db``'s runs)."""
    imported = last_import(con)
    synced = watermark(con)
    moments = [m for m in (imported, synced) if m is not None]
    finished = [r for r in readable_runs(db) if r.status != "running"]
    run = finished[-1] if finished else None
    if (synced is not None and run is not None and run.status == "ok" and run.until
            and run.watermark == _iso(synced)):
        moments.append(_from_iso(run.until))
    return max(moments) if moments else None


# -- planning -----------------------------------------------------------------------------------------
def plan(landed: dict[datetime, LandedWindow], options: KoreSyncSettings, now: datetime,
         since: datetime | None = None, until: datetime | None = None,
         unlanded: Sequence[datetime] = ()) -> list[Window]:
    """The windows a run reads, oldest first (settled ones left out unless ``since`` asks for them);
    ``landed``: the store's (:func:`landed_windows`); ``unlanded``: starts of windows an earlier run failed
    to land (the import refused them), read again from the earliest even when later windows landed.

    Nothing is read past ``now`` (a window not yet over would be read short and taken as landed), and a
    window that claims to have landed after ``now`` (the clock went back) is not trusted as settled."""
    end = min(_utc(until), now) if until else now
    trusted = {start: w for start, w in landed.items() if w.landed_at <= now}
    if since is not None:
        start = _utc(since)
    elif trusted:
        # From the watermark less the trailing days, never before the first window landed (the backfill's start).
        high = max(read_up_to(w) for w in trusted.values())
        start = max(high - timedelta(days=options.trailing_days), min(trusted))
    else:
        start = end - timedelta(days=options.backfill_days)
    pending = [_utc(s) for s in unlanded if _utc(s) not in trusted]
    if pending:
        start = min(start, *pending)
    step = timedelta(hours=options.window_hours)
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    cursor = day + step * ((start - day) // step)
    windows = []
    while cursor < end:
        window = Window(cursor, min(cursor + step, end))
        cursor += step
        remembered = trusted.get(window.start)
        settled = (since is None and remembered is not None and remembered.end == window.end
                   and remembered.landed_at >= window.end + timedelta(days=options.trailing_days))
        if settled:
            continue  # landed after its trailing days had passed
        windows.append(window)
    return windows


def unlanded_windows(runs: Sequence[SyncRun], landed: dict[datetime, LandedWindow]) -> list[datetime]:
    """Starts of windows the import refused in the last run that tried them and that the store still lacks
    (each run that plans from one tries it again, so the newest runs name every one still refused)."""
    refused: dict[datetime, str] = {}
    for run in runs:
        for failed in run.failed_windows:
            start, _ = failed_window_times(failed)
            refused[start] = run.started_at
    return sorted(start for start in refused if start not in landed)


def failed_window_times(failed: dict[str, Any]) -> tuple[datetime, datetime]:
    return _from_iso(str(failed["start"])), _from_iso(str(failed["end"]))


# -- fetching -----------------------------------------------------------------------------------------
def record_id(record: Any) -> str | None:
    """A record's conversation id, its key matched as the import matches it (any case, spaces, underscores)."""
    if isinstance(record, dict):
        for key, value in record.items():
            if (isinstance(key, str) and kore_api.normalise(key) in ID_KEYS
                    and isinstance(value, str | int) and not isinstance(value, bool)):
                return str(value)
    return None


def results_of(response: Any, endpoint: str) -> list[Any]:
    """The records of a page, exactly when the import takes ``response`` for one (:func:`page_records`)."""
    records = page_records(response, endpoint)
    if records is None:
        raise SyncError(f"Kore's {endpoint} answered with JSON of an unexpected shape: expected an object whose "
                        "'results' is a list of records")
    return records


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


def _mismatch(pages: Sequence[Page]) -> str:
    """What does not add up in an endpoint's pages of a window ('' when all does)."""
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
    return "; ".join(problems)


def _consistent(pages: Sequence[Page], endpoint: str, window: Window) -> bool:
    """Whether the window stood still while it was paged (see the module's docstring, step 3)."""
    problems = _mismatch(pages)
    if problems:
        log.warning("Kore's %s for %s changed while it was paged (%s); reading it again", endpoint, window, problems)
    return not problems


Hook = Callable[[str, Window], None]


class PagingRunaway(SyncError):
    """Kore's paging does not end (it ignores ``offset``, or says there is more past what it counts)."""


def _endpoint_digest(pages: Sequence[Page]) -> str:
    lines = [json.dumps(r, sort_keys=True, ensure_ascii=False) for p in pages for r in p.records]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


class Fetcher:
    """Reads windows into saved pages; counts requests for the progress estimate. ``warnings`` collects
    what a read was accepted with in doubt (a mismatch that two full reads gave alike)."""

    def __init__(self, client: KoreClient, options: KoreSyncSettings, hook: Hook | None,
                 on_request: Callable[[], None]) -> None:
        self.client, self.options, self.hook, self.on_request = client, options, hook, on_request
        self.warnings: list[str] = []

    def window(self, window: Window, folder: Path) -> dict[str, list[Page]]:
        return {endpoint: self.endpoint(window, endpoint, folder) for endpoint in ENDPOINTS}

    def endpoint(self, window: Window, endpoint: str, folder: Path) -> list[Page]:
        limit = self.options.page_size
        previous: str | None = None
        reads = self.options.max_rereads + 1
        repeats = 0
        for _ in range(reads):
            pages = self._resume(folder, endpoint, limit)
            try:
                repeated = self._page_on(window, endpoint, folder, pages, limit)
            except PagingRunaway:
                for page in pages:  # nothing of a read that ran away is resumed
                    page.path.unlink(missing_ok=True)
                raise
            if repeated is not None:  # records arrived at the front meanwhile, or Kore ignores the offset
                log.warning("Kore's %s for %s: %s; reading it again", endpoint, window, repeated)
                repeats += 1
                previous = None  # a read cut short is no full read
                for page in pages:
                    page.path.unlink(missing_ok=True)
                continue
            if _consistent(pages, endpoint, window):
                return pages
            # A mismatch that a full read gives again, record for record, is how Kore counts this window
            # (a totalResults that never equals its records, a conversation listed twice): accepted, noted.
            this = _endpoint_digest(pages)
            if this == previous:
                self.warnings.append(
                    f"Kore's {endpoint} for {window} gave the same records in two full reads, which do not add up "
                    f"({_mismatch(pages)}); they were imported as given"
                )
                log.warning("%s", self.warnings[-1])
                return pages
            previous = this
            for page in pages:
                page.path.unlink(missing_ok=True)
        if repeats == reads:
            raise PagingRunaway(
                f"Kore's {endpoint} for {window} does not stop paging: in each of {reads} reads a page repeated "
                "only conversations already read, so Kore seems to ignore the offset. The run stops here; check "
                "KORE_BASE_URL (a proxy or another service?)"
            )
        raise SyncError(
            f"Kore's {endpoint} for {window} kept changing while it was paged ({self.options.max_rereads + 1} "
            "reads); the run stops here and tries again next time (smaller windows, COACHING_KORE_WINDOW_HOURS, "
            "change less while they are read)"
        )

    def _page_on(self, window: Window, endpoint: str, folder: Path, pages: list[Page], limit: int) -> str | None:
        """Pages from where ``pages`` end to the last, appended to ``pages``. Bounded: records at an offset
        at or past totalResults, more pages than totalPages (+1) or than :data:`MOST_PAGES` raise
        :class:`PagingRunaway`; a page of conversations all read already in this read ends it early (said
        in the return value): records arrived at the front meanwhile, or, when every read ends so, Kore
        ignores the offset."""
        offset = pages[-1].offset + len(pages[-1].records) if pages else 0
        more = not pages or self._saved_more(pages[-1], limit)
        seen = {i for p in pages for r in p.records if (i := record_id(r)) is not None}
        most_pages: int | None = None
        while more:
            request, response = self.client.page(endpoint, window.start, window.end, offset, limit)
            self.on_request()
            records = results_of(response, endpoint)
            total = response.get("totalResults") if isinstance(response, dict) else None
            total = total if isinstance(total, int) and not isinstance(total, bool) else None
            declared = response.get("totalPages") if isinstance(response, dict) else None
            if isinstance(declared, int) and not isinstance(declared, bool):
                most_pages = declared + 1
            ids = [i for r in records if (i := record_id(r)) is not None]
            if offset and ids and all(i in seen for i in ids):
                return f"the page at offset {offset} repeats only conversations already read"
            stop = None
            if offset and total is not None and offset >= total and records:
                stop = f"it sent records at offset {offset}, past its totalResults {total}"
            elif most_pages is not None and len(pages) + 1 > most_pages:
                stop = f"it sent more pages ({len(pages) + 1}) than its totalPages ({most_pages - 1}) + 1"
            elif len(pages) + 1 > MOST_PAGES:
                stop = f"it sent more than {MOST_PAGES} pages for one window"
            if stop is not None:
                raise PagingRunaway(f"Kore's {endpoint} for {window} does not stop paging: {stop}. The run stops "
                                    "here; check KORE_BASE_URL, or try smaller windows (COACHING_KORE_WINDOW_HOURS)")
            seen.update(ids)
            path = _page_file(folder, endpoint, offset)
            saved = {"request": {"endpoint": endpoint, "startDate": request["startDate"],
                                 "endDate": request["endDate"], "offset": offset, "limit": request["limit"]},
                     "response": response}
            write_atomically(path, json.dumps(saved, ensure_ascii=False), durable=True)
            pages.append(Page(path, offset, records, total))
            if self.hook is not None:
                self.hook("page", window)
            more = _more(response, offset, len(records), limit)
            offset += len(records)
        return None

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
    #: The import's refusal, when it refused the window (the run carried on).
    failure: ImportFailed | None = None


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


def requests_log(db: Path) -> Path:
    """Where the send times of the last minute's requests are kept, so every run and process of this store
    shares Kore's limit (:class:`~coaching.kore_client.RateLimiter`)."""
    return sync_folder(db) / "requests.json"


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
        run = SyncRun(started_at=_iso(started), pid=os.getpid())
        for earlier in state.runs:
            if earlier.status == "running":  # we hold the lock: its process is gone without a word
                earlier.status, earlier.error = "stopped", "stopped unexpectedly (the process ended before it finished)"
                run.warnings.append(f"the sync started {earlier.started_at} (process {earlier.pid}) stopped "
                                    "unexpectedly; this run resumes it")
        if until is not None and _utc(until) > started:
            run.warnings.append(f"--until {_iso(_utc(until))} is later than now: read up to now ({_iso(started)}); "
                                "what has not happened yet cannot be read")
        windows = plan(landed, options, started, since, until, unlanded_windows(state.runs, landed))
        run.since = _iso(windows[0].start) if windows else None
        run.until = _iso(windows[-1].end) if windows else None
        run.windows = len(windows)
        outcomes: list[WindowOutcome] = []
        owns_client = client is None
        kore = client or KoreClient(credentials, options, limiter=RateLimiter(
            options.requests_per_window, options.rate_window_seconds, log_path=requests_log(db)))
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

        current: Window | None = None
        fetcher = Fetcher(kore, options, hook, lambda: report(current))
        try:
            if not dry_run:  # a run killed from now on leaves this record behind, "running" with its pid
                state.runs.append(run)
                save_state(db, state)
                _clear_orphans(pending, windows, options.window_hours, landed)
            for window in windows:
                current = window
                report(window)
                folder = pending / window.name
                folder.mkdir(parents=True, exist_ok=True)
                pages = fetcher.window(window, folder)
                per_window.append(kore.requests - done_requests)
                done_requests = kore.requests
                try:
                    outcome = _land(db, landed, window, pages, now, dry_run, scratch, import_settings)
                except ImportFailed as failure:
                    # One bad record must not stop the sync for good: its pages go aside (kept to look at),
                    # the next run asks Kore again, later windows carry on; the window stays unlanded, so
                    # the next run plans from it (:func:`unlanded_windows`).
                    kept = None if dry_run else _set_aside(db, folder, window, now())
                    run.failed_windows.append({
                        "start": _iso(window.start), "end": _iso(window.end), "total": failure.total,
                        "problems": [str(p) for p in failure.problems[:5]], "kept": str(kept) if kept else None})
                    outcome = WindowOutcome(window, {e: sum(len(p.records) for p in ps) for e, ps in pages.items()},
                                            False, False, failure=failure)
                    outcomes.append(outcome)
                    continue
                outcomes.append(outcome)
                run.records += sum(outcome.records.values())
                run.windows_landed += outcome.landed
                run.windows_unchanged += outcome.unchanged
                if not dry_run:  # it is in the store: its pages are not needed again
                    shutil.rmtree(folder, ignore_errors=True)
                if hook is not None:
                    hook("landed", window)
            report(None)
            if run.failed_windows:
                first = run.failed_windows[0]
                problems = first["problems"][0] if first["problems"] else ""
                run.status, run.error = "failed", (
                    f"the import refused {len(run.failed_windows)} window(s), the first "
                    f"{Window(*failed_window_times(first))}: {first['total']} problem(s), first: {problems}; "
                    "later windows carried on, the next run reads the refused ones again")
            else:
                run.status = "dry run" if dry_run else "ok"
        except KeyboardInterrupt:
            run.status, run.error = "interrupted", "stopped before the end; the next run resumes"
            raise
        except (KoreError, SyncError, OSError) as error:
            run.status, run.error = "failed", str(error)
            _RECORDED.add(id(error))
            raise
        except Exception as error:
            run.status, run.error = "failed", f"{type(error).__name__}: {error}"
            _RECORDED.add(id(error))
            raise
        finally:
            run.warnings += fetcher.warnings
            run.finished_at = _iso(now())
            run.requests = kore.requests
            run.watermark = _iso(max(read_up_to(w) for w in landed.values())) if landed else None
            if owns_client:
                kore.close()
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            elif run.status != "running":  # else the process is dying: its "running" record says so
                if not any(r is run for r in state.runs):
                    state.runs.append(run)
                save_state(db, state)
        return SyncResult(run, outcomes, dry_run)


#: Errors a run recorded itself (by id, while they propagate): :func:`record_failure` leaves them be.
_RECORDED: set[int] = set()


def record_failure(db: Path, error: BaseException) -> None:
    """A failed run in state.json for an error that came before the run could record one (a setting, the
    store); under ``--every`` the Import page then shows it. Skipped while another process syncs."""
    if id(error) in _RECORDED:
        _RECORDED.discard(id(error))
        return
    if isinstance(error, SyncRunning):
        return
    message = str(error) if isinstance(error, SyncError | KoreError | OSError) else f"{type(error).__name__}: {error}"
    try:
        with sync_lock(db):
            try:
                state = load_state(db)
            except SyncError:
                return  # the state file is the fault: nothing is written over it
            moment = _iso(_utc_now())
            state.runs.append(SyncRun(started_at=moment, finished_at=moment, status="failed", error=message,
                                      pid=os.getpid()))
            save_state(db, state)
    except (SyncRunning, OSError) as failure:
        log.warning("the failed run could not be recorded: %s", failure)


def _set_aside(db: Path, folder: Path, window: Window, moment: datetime) -> Path | None:
    """A refused window's pages moved to ``failed/<window>/<time>/`` (the newest few kept): out of
    ``pending/``, so the next run asks Kore again instead of importing the same pages for ever."""
    base = sync_folder(db) / "failed"
    target = base / window.name / f"{moment:%Y%m%dT%H%M%S%fZ}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder), str(target))
        for old in sorted(target.parent.iterdir())[:-KEPT_FAILED_ATTEMPTS]:
            shutil.rmtree(old, ignore_errors=True)
        windows = sorted(base.iterdir(), key=lambda f: f.stat().st_mtime)
        for old in windows[:-KEPT_FAILED_WINDOWS]:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as error:
        log.warning("the refused pages of %s could not be kept (%s); they are dropped", window, error)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return target


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
