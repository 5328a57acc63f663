"""`coaching sync kore` against a local server that plays Kore (tests/kore_server.py): the store ends with
exactly Kore's data whatever fault comes, a second sync changes nothing, later audits arrive through the
trailing window, a crash resumes without reading or landing anything twice, credentials never show."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from coaching import kore_sync, store
from coaching.kore_client import KoreClient, RateLimiter, retry_after_seconds
from coaching.settings import KORE_CREDENTIALS, KoreCredentials, KoreSyncSettings, SettingError, kore_credentials

import kore_server
from kore_server import Conversation, KoreServer, conversations

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cret-of-the-kore-app-0123456789abcdef"
CREDENTIALS = KoreCredentials(account_id="67a9ca06cf0e510a8632abcd", org_id="o-da5be4e0-8fbb-5229-ac20",
                              client_id="cs-2a6f1c1e-0f3b-5d2a", client_secret=SECRET, stream_id="st-7e1b")
DAY = datetime(2026, 3, 1)
NOW = datetime(2026, 3, 3)
#: Small pages, short timeouts and backoff: every fault is met within a second.
FAST = KoreSyncSettings(trailing_days=1, backfill_days=2, page_size=5, timeout_seconds=0.5, backoff_seconds=0.01,
                        max_backoff_seconds=0.05, requests_per_window=10_000, rate_window_seconds=1.0)


@pytest.fixture
def kore() -> KoreServer:
    with KoreServer(CREDENTIALS, rate_limit=10_000, rate_window=1.0) as server:
        server.add(*conversations(16, DAY, 2))
        yield server


@pytest.fixture
def db(tmp_path: Path) -> Path:
    yield tmp_path / "coaching.duckdb"
    store.close_all()


def evaluations(db: Path) -> dict[str, tuple[float | None, float | None]]:
    with store.open_store(db).snapshot() as con:
        rows = con.execute("SELECT conversation_id, kore_score, audit_score FROM evaluations").fetchall()
    return {c: (k, a) for c, k, a in rows}


def run(db: Path, kore: KoreServer, options: KoreSyncSettings = FAST, now: datetime = NOW,
        **kwargs: object) -> kore_sync.SyncResult:
    return kore_sync.sync(db, kore.client_credentials(), options, now=lambda: now, **kwargs)  # type: ignore[arg-type]


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def requested_windows(kore: KoreServer, since: int = 0) -> set[str]:
    return {r.start[:10] for r in kore.log[since:]}


# -- the whole data, whatever happens ----------------------------------------------------------------------
def test_a_first_sync_lands_exactly_the_servers_data_and_a_second_changes_nothing(db: Path,
                                                                                   kore: KoreServer) -> None:
    assert kore_sync.last_sync(db) is None
    result = run(db, kore)
    assert result.run.status == "ok" and result.run.windows == 2
    assert evaluations(db) == kore.expected()
    with store.open_store(db).snapshot() as con:  # the watermark is the store's, beside the data it vouches for
        assert kore_sync.watermark(con) == NOW
        assert sorted(kore_sync.landed_windows(con)) == [DAY, DAY + timedelta(days=1)]
    assert set(json.loads((kore_sync.sync_folder(db) / "state.json").read_text())) == {"runs"}
    assert not list((kore_sync.sync_folder(db) / "pending").iterdir())  # landed pages are not kept
    assert set(kore.statuses()) == {200}
    last = kore_sync.last_sync(db)
    assert last is not None and last.status == "ok" and last.records == 32 and last.error is None
    with store.open_store(db).snapshot() as con:
        as_of = kore_sync.data_as_of(con, db)
    assert as_of is not None and as_of >= NOW

    before, seen = fingerprint(db), len(kore.log)
    second = run(db, kore)
    assert second.run.windows == 1 and second.run.windows_unchanged == 1 and second.run.windows_landed == 0
    assert len(kore.log) > seen  # the trailing day was read again, and was the same
    assert fingerprint(db) == before


@pytest.mark.parametrize(("fault", "endpoint", "offset"), [
    ("500", "rawdata", 5), ("429", "scorereporting", 0), ("timeout", "rawdata", 0),
    ("truncated", "scorereporting", 5), ("cut_json", "rawdata", 5), ("shift", "scorereporting", 0),
])
def test_after_any_fault_the_store_holds_exactly_the_servers_data(db: Path, kore: KoreServer, fault: str,
                                                                   endpoint: str, offset: int) -> None:
    kore.inject(fault, endpoint, offset, delay=1.0)
    result = run(db, kore, since=DAY, until=DAY + timedelta(days=1))
    assert result.run.status == "ok"
    first_day = {c: v for c, v in kore.expected().items()
                 if any(x.conversation_id == c and x.start < DAY + timedelta(days=1) for x in kore.conversations)}
    assert evaluations(db) == first_day
    assert not kore.faults, "the fault was met"
    if fault == "shift":  # a new conversation came mid-paging: the window was read again, with it
        assert "c-shift-1" in evaluations(db)
        assert [r.offset for r in kore.log if r.endpoint == "scorereporting"].count(0) == 2


def test_the_trailing_window_brings_an_audit_made_days_later(db: Path, kore: KoreServer) -> None:
    run(db, kore)
    late = next(c for c in kore.conversations if DAY + timedelta(days=1) <= c.start)
    early = next(c for c in kore.conversations if c.start < DAY + timedelta(days=1))
    kore.audit(late.conversation_id, 55.0, NOW + timedelta(hours=20))
    kore.audit(early.conversation_id, 10.0, NOW + timedelta(hours=20))  # past its trailing days
    seen = len(kore.log)
    result = run(db, kore, now=NOW + timedelta(days=1))
    stored = evaluations(db)
    assert stored[late.conversation_id] == (late.kore_score, 55.0)
    assert stored[early.conversation_id][1] is None  # settled: not read again (--since would)
    assert "2026-03-01" not in requested_windows(kore, seen)
    assert result.run.windows_landed >= 1


def test_a_crash_between_batches_resumes_without_reading_a_landed_window_again(db: Path, kore: KoreServer) -> None:
    def crash(event: str, window: kore_sync.Window) -> None:
        if event == "landed" and window.start == DAY:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        run(db, kore, hook=crash)
    assert set(evaluations(db).values()) and kore_sync.load_state(db).runs[-1].status == "failed"
    seen = len(kore.log)
    result = run(db, kore)
    assert result.run.status == "ok"
    assert "2026-03-01" not in requested_windows(kore, seen)
    assert evaluations(db) == kore.expected()


# -- the watermark lands with the window's evaluations -------------------------------------------------------
def landed(db: Path) -> dict[datetime, kore_sync.LandedWindow]:
    with store.open_store(db).snapshot() as con:
        return kore_sync.landed_windows(con)


def imports(db: Path) -> int:
    with store.open_store(db).snapshot() as con:
        row = con.execute("SELECT count(*) FROM imports").fetchone()
    return row[0] if row else 0


@pytest.mark.parametrize("failure", ["the import refuses the batch", "recording the window fails"])
def test_a_failed_import_lands_neither_the_window_nor_its_record(db: Path, kore: KoreServer, failure: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    second = DAY + timedelta(days=1)
    real_import, real_record = kore_sync.import_files, kore_sync.record_window

    def refusing_import(target: Path, paths: list[Path], *args: object, **kwargs: object) -> object:
        if paths[0].parent.name.startswith(second.strftime("%Y%m%d")):
            bad = paths[0].with_name("bad.csv")
            bad.write_text("no known header\n1\n")
            paths = [*paths, bad]
        return real_import(target, paths, *args, **kwargs)  # type: ignore[arg-type]

    def failing_record(con: object, window: kore_sync.LandedWindow) -> None:
        real_record(con, window)  # type: ignore[arg-type]
        if window.start == second:
            raise OSError("the disk filled up")

    if failure == "recording the window fails":
        monkeypatch.setattr(kore_sync, "record_window", failing_record)
        with pytest.raises(OSError):
            run(db, kore)
    else:
        monkeypatch.setattr(kore_sync, "import_files", refusing_import)
        refused = run(db, kore)  # the run carries on past a refused window, and says so
        assert refused.run.status == "failed" and [o.failure is not None for o in refused.windows] == [False, True]
    assert list(landed(db)) == [DAY]
    with store.open_store(db).snapshot() as con:
        assert kore_sync.watermark(con) == second
    first_day = {c.conversation_id for c in kore.conversations if c.start < second}
    assert set(evaluations(db)) == first_day  # the second day's evaluations did not land either
    assert kore_sync.last_sync(db) is not None and kore_sync.last_sync(db).status == "failed"  # type: ignore[union-attr]
    monkeypatch.undo()
    result = run(db, kore)
    assert result.run.status == "ok" and evaluations(db) == kore.expected()
    assert sorted(landed(db)) == [DAY, second]


def test_a_crash_after_landing_before_the_state_file_does_not_import_the_window_again(
        db: Path, kore: KoreServer, monkeypatch: pytest.MonkeyPatch) -> None:
    def killed(event: str, window: kore_sync.Window) -> None:
        if event == "landed" and window.start == DAY:
            raise SystemExit("killed")  # as if the process died: nothing after the landing is written

    monkeypatch.setattr(kore_sync, "save_state", lambda db, state: None)
    with pytest.raises(SystemExit):
        run(db, kore, hook=killed)
    monkeypatch.undo()
    assert not (kore_sync.sync_folder(db) / "state.json").exists() and kore_sync.last_sync(db) is None
    assert list(landed(db)) == [DAY] and imports(db) == 1  # the store says it landed
    seen = len(kore.log)
    result = run(db, kore)
    assert result.run.status == "ok" and result.run.windows == 1 and result.run.windows_landed == 1
    assert "2026-03-01" not in requested_windows(kore, seen)
    assert imports(db) == 2 and evaluations(db) == kore.expected()
    # Pages of a landed window left by a crash before they were cleared go once it is settled.
    stale = kore_sync.sync_folder(db) / "pending" / kore_sync.Window(DAY, DAY + timedelta(days=1)).name
    stale.mkdir(parents=True)
    (stale / "rawdata-000000000.json").write_text("{}")
    run(db, kore, now=NOW + timedelta(hours=1))
    assert not stale.exists()


def test_a_window_without_records_is_recorded_and_an_idle_sync_writes_nothing(db: Path, kore: KoreServer) -> None:
    run(db, kore)
    later = NOW + timedelta(hours=1)
    run(db, kore, now=later)  # 03-03 00:00-01:00 has no records: the store learns it was read
    assert landed(db)[NOW].records == {"scorereporting": 0, "rawdata": 0}
    before = fingerprint(db)
    idle = run(db, kore, now=later + timedelta(hours=1))
    assert idle.run.status == "ok" and idle.run.windows_landed == 0
    assert fingerprint(db) == before  # nothing new: no generation
    with store.open_store(db).snapshot() as con:
        assert kore_sync.watermark(con) == later
    last = kore_sync.last_sync(db)  # it found nothing newer than the store's watermark, up to its until
    assert last is not None and (last.watermark, last.until) == ("2026-03-03T01:00:00Z", "2026-03-03T02:00:00Z")


def test_data_as_of_reads_the_snapshot_and_a_run_vouches_only_for_what_the_snapshot_holds(
        db: Path, kore: KoreServer) -> None:
    run(db, kore, since=DAY, until=DAY + timedelta(days=1))
    future = datetime(2030, 1, 2, 3)  # later than the import, whatever the clock says
    with store.next_generation(db) as con:
        kore_sync.record_window(con, kore_sync.LandedWindow(future - timedelta(hours=1), future, "d", {}, future))

    def as_of(*runs: kore_sync.SyncRun) -> datetime | None:
        kore_sync.save_state(db, kore_sync.SyncState(runs=list(runs)))
        with store.open_store(db).snapshot() as con:
            return kore_sync.data_as_of(con, db)

    assert as_of() == future
    idle = kore_sync.SyncRun(started_at="2030-01-02T05:00:00Z", status="ok", until="2030-01-02T05:00:00Z",
                             watermark="2030-01-02T03:00:00Z")
    assert as_of(idle) == datetime(2030, 1, 2, 5)
    ahead = kore_sync.SyncRun(started_at="2030-01-02T05:00:00Z", status="ok", until="2030-01-02T05:00:00Z",
                              watermark="2030-01-02T04:00:00Z")  # it landed a window this snapshot lacks
    assert as_of(ahead) == future
    failed = kore_sync.SyncRun(started_at="2030-01-02T05:00:00Z", status="failed", until="2030-01-02T05:00:00Z",
                               watermark="2030-01-02T03:00:00Z")
    assert as_of(idle, failed) == future


def test_a_store_created_before_the_table_opens_and_syncs(db: Path, kore: KoreServer) -> None:
    run(db, kore, since=DAY, until=DAY + timedelta(days=1))
    with store.next_generation(db) as con:  # the store as an earlier build (same schema version) wrote it
        con.execute(f"DROP TABLE {kore_sync.WINDOWS_TABLE}")
    store.close_all()
    with store.open_store(db).snapshot() as con:
        assert not store.has_table(con, kore_sync.WINDOWS_TABLE)
        assert kore_sync.landed_windows(con) == {} and kore_sync.watermark(con) is None
        as_of = kore_sync.data_as_of(con, db)
        assert as_of is not None and as_of <= datetime.now()  # its last import's time
    result = run(db, kore)
    assert result.run.status == "ok" and evaluations(db) == kore.expected()
    assert sorted(landed(db)) == [DAY, DAY + timedelta(days=1)]


def test_schema_md_documents_the_sync_table_as_the_store_has_it(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with store.next_generation(db) as con:
        actual = {c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ?",
                                            [kore_sync.WINDOWS_TABLE]).fetchall()}
    text = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    section = text.split(f"#### {kore_sync.WINDOWS_TABLE}\n", 1)[1].split("\n#", 1)[0]
    assert set(re.findall(r"^\| ([a-z_]+) \| [A-Z]", section, flags=re.M)) == actual


def test_a_crash_mid_window_resumes_at_the_next_page(db: Path, kore: KoreServer) -> None:
    pages = 0

    def crash(event: str, window: kore_sync.Window) -> None:
        nonlocal pages
        pages += event == "page"
        if pages == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(db, kore, hook=crash)
    assert kore_sync.load_state(db).runs[-1].status == "interrupted"
    first = [(r.endpoint, r.start, r.offset) for r in kore.log]
    seen = len(kore.log)
    run(db, kore)
    again = [(r.endpoint, r.start, r.offset) for r in kore.log[seen:]]
    assert not set(first) & set(again), "no page fetched before the crash is asked for again"
    assert evaluations(db) == kore.expected()


def test_a_dry_run_changes_nothing_and_says_what_would_land(db: Path, kore: KoreServer) -> None:
    run(db, kore)
    late = next(c for c in kore.conversations if DAY + timedelta(days=1) <= c.start)
    kore.audit(late.conversation_id, 70.0, NOW)
    before, state_before = fingerprint(db), (kore_sync.sync_folder(db) / "state.json").read_bytes()
    result = run(db, kore, dry_run=True)
    assert fingerprint(db) == before
    assert (kore_sync.sync_folder(db) / "state.json").read_bytes() == state_before
    changed = [o for o in result.windows if not o.unchanged]
    assert len(changed) == 1 and changed[0].summary is not None
    assert changed[0].summary["evaluations"]["updated"] == 1


# -- the client -----------------------------------------------------------------------------------------
def test_the_client_keeps_under_the_rate_limit(kore: KoreServer) -> None:
    kore.rate_limit, kore.rate_window = 5, 0.3
    options = KoreSyncSettings(page_size=1, requests_per_window=4, rate_window_seconds=0.3, backoff_seconds=0.01)
    started = time.monotonic()
    with KoreClient(kore.client_credentials(), options) as client:
        for offset in range(12):
            client.page("rawdata", DAY, NOW, offset, 1)
    assert time.monotonic() - started >= 0.55  # 12 requests, 4 per 0.3 s
    assert set(kore.statuses()) == {200}


def test_a_429_waits_at_least_what_retry_after_asks(kore: KoreServer) -> None:
    kore.rate_limit, kore.rate_window = 3, 0.4
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    with KoreClient(kore.client_credentials(), FAST, sleep=sleep) as client:
        records = [client.page("rawdata", DAY, NOW, offset, 5)[1]["results"] for offset in range(0, 16, 5)]
    assert 429 in kore.statuses()
    assert sum(len(r) for r in records) == 16
    assert max(slept) >= 0.05  # the server's Retry-After, not the 0.01 s backoff


def test_the_sliding_window_limiter_with_an_injected_clock() -> None:
    clock = [0.0]
    limiter = RateLimiter(60, 60.0, clock=lambda: clock[0], sleep=lambda s: clock.__setitem__(0, clock[0] + s))
    for _ in range(61):
        limiter.acquire()
    assert clock[0] == pytest.approx(60.0)  # the 61st waited for the first to leave the minute


def test_retry_after_is_read_as_seconds_or_a_date() -> None:
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", datetime(2015, 10, 21, 7, 28, 0).astimezone()) \
        is not None
    assert retry_after_seconds("soon") is None


# -- the property: any faults, any page size --------------------------------------------------------------
FAULT = st.tuples(st.sampled_from(["500", "429", "cut_json", "truncated", "shift"]),
                  st.sampled_from(["scorereporting", "rawdata"]), st.integers(0, 4))


@pytest.fixture(scope="module")
def shared_kore() -> KoreServer:
    with KoreServer(CREDENTIALS, rate_limit=10_000, rate_window=1.0) as server:
        yield server


@hypothesis_settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(0, 17), page_size=st.integers(1, 6), faults=st.lists(FAULT, max_size=4))
def test_any_faults_and_page_boundaries_give_each_record_once(shared_kore: KoreServer, tmp_path: Path, count: int,
                                                              page_size: int, faults: list[tuple[str, str, int]]
                                                              ) -> None:
    kore = shared_kore
    kore.conversations, kore.faults, kore.shifted = list(conversations(count, DAY, 1)), [], 0
    throughout = set(kore.expected())  # on the server before, during and after the read
    for kind, endpoint, page in faults:
        kore.inject(kind, endpoint, page * page_size)
    options = KoreSyncSettings(page_size=page_size, timeout_seconds=0.5, backoff_seconds=0.001,
                               max_backoff_seconds=0.005, requests_per_window=10_000, max_rereads=5)
    window = kore_sync.Window(DAY, DAY + timedelta(days=1))
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    with KoreClient(kore.client_credentials(), options) as client:
        fetched = kore_sync.Fetcher(client, options, None, lambda: None).window(window, folder)
    for endpoint, pages in fetched.items():
        ids = [kore_sync.record_id(r) for p in pages for r in p.records]
        assert len(ids) == len(set(ids)), endpoint  # none twice
        # None lost; a conversation that arrived after the endpoint's last page comes next time.
        assert throughout <= set(ids) <= set(kore.expected()), endpoint
        saved = [json.loads(p.path.read_text())["request"] for p in pages]
        assert [s["offset"] for s in saved] == [p.offset for p in pages]
    shutil.rmtree(folder)


# -- credentials ------------------------------------------------------------------------------------------
def test_credentials_come_from_the_environment_else_secrets_toml(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KORE_ACCOUNT_ID", "KORE_ORG_ID", "KORE_CLIENT_ID", "KORE_CLIENT_SECRET", "KORE_STREAM_ID",
                 "KORE_BASE_URL", "KORE_JWT_SUBJECT"):
        monkeypatch.delenv(name, raising=False)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[kore]\naccount_id = "acc"\norg_id = "org"\nclient_id = "cs-1"\n'
                       f'client_secret = "{SECRET}"\nstream_id = "st-1"\n')
    monkeypatch.setenv("KORE_ORG_ID", "org-from-env")
    found = kore_credentials(secrets)
    assert (found.account_id, found.org_id, found.client_secret) == ("acc", "org-from-env", SECRET)
    assert SECRET not in repr(found)
    secrets.write_text('[kore]\naccount_id = "acc"\n')
    with pytest.raises(SettingError) as missing:
        kore_credentials(secrets)
    assert "KORE_CLIENT_SECRET" in str(missing.value) and "KORE_STREAM_ID" in str(missing.value)


def coaching(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "coaching.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)


def cli_env(kore: KoreServer, **changes: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
            "COACHING_KORE_TIMEOUT_SECONDS": "5"} | kore.env() | changes


def test_a_wrong_secret_says_which_settings_to_check_without_a_traceback(db: Path, kore: KoreServer) -> None:
    result = coaching("sync", "kore", "--db", str(db), "--since", "2026-03-01", "--until", "2026-03-02",
                      env=cli_env(kore, KORE_CLIENT_SECRET="not-the-secret-of-this-app-0123456789"))
    assert result.returncode == 1
    assert "HTTP 401" in result.stderr and "KORE_CLIENT_SECRET" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert set(kore.statuses()) == {401}
    [failed] = kore_sync.load_state(db).runs
    assert failed.status == "failed" and "KORE_CLIENT_SECRET" in (failed.error or "")


def test_secrets_and_tokens_never_show_in_output_or_logs(db: Path, kore: KoreServer,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    kore.inject("500", "rawdata")
    result = coaching("sync", "kore", "--db", str(db), "--since", "2026-03-01", "--until", "2026-03-02",
                      "--verbose", env=cli_env(kore))
    assert result.returncode == 0, result.stderr
    assert "scorereporting" in result.stderr and "HTTP 500" in result.stderr  # it did log, at DEBUG
    caplog.set_level(logging.DEBUG)
    kore.inject("429", "scorereporting")
    run(db, kore, since=DAY, until=DAY + timedelta(days=1))
    written = [result.stdout, result.stderr, caplog.text]
    written += [p.read_text() for p in kore_sync.sync_folder(db).rglob("*") if p.is_file()]
    assert kore.tokens and caplog.text
    for text in written:
        assert SECRET not in text
        for token in kore.tokens:
            assert token not in text


# -- the command ------------------------------------------------------------------------------------------
def test_dry_run_on_the_command_line_prints_what_would_land(db: Path, kore: KoreServer) -> None:
    result = coaching("sync", "kore", "--db", str(db), "--since", "2026-03-01", "--until", "2026-03-02",
                      "--dry-run", env=cli_env(kore))
    assert result.returncode == 0, result.stderr
    assert "Dry run" in result.stdout and "new" in result.stdout
    assert not db.exists()
    assert not (kore_sync.sync_folder(db) / "state.json").exists()


def test_every_keeps_syncing_until_sigterm(db: Path, kore: KoreServer) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "coaching.cli", "sync", "kore", "--db", str(db), "--since", "2026-03-01",
         "--until", "2026-03-02", "--every", "0.2s"],
        cwd=ROOT, env=cli_env(kore), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = kore_sync.sync_folder(db) / "state.json"
            if state.exists() and sum(r.status == "ok" for r in kore_sync.load_state(db).runs) >= 2:
                break
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Stopped" in err and "Traceback" not in err
    runs = kore_sync.load_state(db).runs
    assert len(runs) >= 2 and runs[0].status == "ok" and runs[1].status in ("ok", "interrupted")
    assert out.count("Synced 1 window(s)") >= 2


def test_one_sync_at_a_time(db: Path, kore: KoreServer) -> None:
    with kore_sync.sync_lock(db):
        with pytest.raises(kore_sync.SyncRunning):
            run(db, kore)
        result = coaching("sync", "kore", "--db", str(db), env=cli_env(kore))
    assert result.returncode == 0
    assert "already running" in result.stderr and f"pid {os.getpid()}" in result.stderr
    assert kore.log == [] and not db.exists()



# -- a refused window ----------------------------------------------------------------------------------------
def test_a_refused_window_is_set_aside_later_windows_land_and_the_next_run_reads_it_again(
        db: Path, kore: KoreServer) -> None:
    bad = next(c for c in kore.conversations if c.start < DAY + timedelta(days=1) and c.kore_score is not None)
    bad.kore_score = 500.0  # out of Kore's range: the import refuses the first day
    result = run(db, kore)
    assert result.run.status == "failed" and result.run.windows_landed == 1
    assert list(landed(db)) == [DAY + timedelta(days=1)]  # the later window landed meanwhile
    [failed] = kore_sync.last_sync(db).failed_windows  # type: ignore[union-attr]
    assert failed["start"] == "2026-03-01T00:00:00Z" and failed["total"] >= 1
    assert any("500" in p for p in failed["problems"])
    kept = Path(failed["kept"])
    assert kept.is_dir() and kept.parent.parent == kore_sync.sync_folder(db) / "failed" and list(kept.iterdir())
    assert not (kore_sync.sync_folder(db) / "pending" / kore_sync.Window(DAY, DAY + timedelta(days=1)).name).exists()
    with store.open_store(db).snapshot() as con:
        assert kore_sync.data_as_of(con, db) is not None
    # Refused again (the record is as it was): Kore is asked again, nothing lands, the window is still named.
    seen = len(kore.log)
    again = run(db, kore, now=NOW + timedelta(days=3))  # its trailing days long past: still read
    assert "2026-03-01" in requested_windows(kore, seen) and again.run.status == "failed"
    assert [w["start"] for w in again.run.failed_windows] == ["2026-03-01T00:00:00Z"]
    assert len(list((kore_sync.sync_folder(db) / "failed" / kept.parent.name).iterdir())) == 2
    bad.kore_score = 50.0  # corrected at Kore
    fixed = run(db, kore, now=NOW + timedelta(days=4))
    assert fixed.run.status == "ok" and not fixed.run.failed_windows
    assert evaluations(db) == kore.expected()  # nothing lost
    assert DAY in landed(db)


def test_every_refused_attempt_is_kept_only_a_few_times(db: Path, kore: KoreServer) -> None:
    for c in kore.conversations:
        c.kore_score = 500.0
    for hours in range(kore_sync.KEPT_FAILED_ATTEMPTS + 2):
        run(db, kore, since=DAY, until=DAY + timedelta(days=1), now=NOW + timedelta(hours=hours))
    [window] = (kore_sync.sync_folder(db) / "failed").iterdir()
    assert len(list(window.iterdir())) == kore_sync.KEPT_FAILED_ATTEMPTS


# -- nothing read before it happened ---------------------------------------------------------------------------
def test_a_future_until_reads_up_to_now_and_loses_nothing_that_comes_later(db: Path, kore: KoreServer) -> None:
    result = run(db, kore, until=NOW + timedelta(days=5))
    assert result.run.until == "2026-03-03T00:00:00Z" and result.run.windows == 2
    assert any("--until" in w and "later than now" in w for w in result.run.warnings)
    with store.open_store(db).snapshot() as con:
        assert kore_sync.watermark(con) == NOW
    later = Conversation("c-later", NOW + timedelta(hours=30), "Priya Nair", "priya.nair@example.com", "a-priya", 42.0)
    kore.add(later)
    run(db, kore, now=NOW + timedelta(days=3))
    assert evaluations(db)["c-later"] == (42.0, None)


def test_a_window_recorded_before_it_ended_vouches_only_up_to_when_it_landed(db: Path) -> None:
    early = datetime(2026, 3, 1, 6)  # the window 03-01 landed at 06:00 (a clock that ran ahead, an older build)
    with store.next_generation(db) as con:
        kore_sync.record_window(con, kore_sync.LandedWindow(DAY, DAY + timedelta(days=1), "d", {}, early))
    with store.open_store(db).snapshot() as con:
        assert kore_sync.watermark(con) == early
        windows = kore_sync.landed_windows(con)
    planned = kore_sync.plan(windows, FAST, NOW)
    assert planned[0].start == DAY  # read again: it was read short
    # A window that says it landed after now (the clock went back) is not taken as settled.
    ahead = {DAY: kore_sync.LandedWindow(DAY, DAY + timedelta(days=1), "d", {}, datetime(2030, 1, 1))}
    assert kore_sync.plan(ahead, FAST, NOW)[0].start <= DAY


# -- paging that does not end ------------------------------------------------------------------------------------
def test_a_server_that_ignores_the_offset_stops_the_run_clearly(db: Path, kore: KoreServer) -> None:
    kore.ignore_offset = True
    with pytest.raises(kore_sync.PagingRunaway) as runaway:
        run(db, kore, since=DAY, until=DAY + timedelta(days=1))
    assert "ignore the offset" in str(runaway.value)
    assert len(kore.log) <= 2 * (FAST.max_rereads + 1)  # two pages a read, then it stops
    assert kore_sync.last_sync(db).status == "failed"  # type: ignore[union-attr]
    assert not list((kore_sync.sync_folder(db) / "pending").rglob("*.json"))  # nothing of it is resumed


class _Endless:
    """A client whose every page is new records and says there is more (no Kore ever ends)."""

    def __init__(self, total: int | None, pages: int | None) -> None:
        self.total, self.pages, self.requests = total, pages, 0

    def page(self, endpoint: str, start: datetime, end: datetime, offset: int, limit: int) -> tuple[dict, dict]:
        self.requests += 1
        records = [dict(kore_server.SCOREREPORTING_RECORD, conversationId=f"c-{offset + i}") for i in range(limit)]
        body: dict[str, object] = {"results": records, "hasMore": True}
        if self.total is not None:
            body["totalResults"] = self.total
        if self.pages is not None:
            body["totalPages"] = self.pages
        return {"startDate": "s", "endDate": "e", "offset": offset, "limit": limit}, body


@pytest.mark.parametrize(("total", "pages", "said"), [(12, None, "past its totalResults 12"),
                                                        (None, 3, "than its totalPages (3) + 1")])
def test_paging_past_totalresults_or_totalpages_stops(tmp_path: Path, total: int | None, pages: int | None,
                                                       said: str) -> None:
    client = _Endless(total, pages)
    fetcher = kore_sync.Fetcher(client, FAST, None, lambda: None)  # type: ignore[arg-type]
    with pytest.raises(kore_sync.PagingRunaway) as runaway:
        fetcher.window(kore_sync.Window(DAY, NOW), tmp_path)
    assert said in str(runaway.value) and client.requests <= 5


def test_raw_data_requests_carry_the_documented_page_too(db: Path, kore: KoreServer) -> None:
    run(db, kore, since=DAY, until=DAY + timedelta(days=1))
    raw = [r for r in kore.log if r.endpoint == "rawdata"]
    assert raw and all(r.page == r.offset // r.limit + 1 for r in raw)
    assert all(r.page is None for r in kore.log if r.endpoint == "scorereporting")  # its docs do not list it


def test_a_stable_mismatch_is_accepted_after_two_alike_reads_with_a_warning(db: Path, kore: KoreServer) -> None:
    kore.total_bias = 1  # totalResults one more than the records, every time
    result = run(db, kore, since=DAY, until=DAY + timedelta(days=1))
    assert result.run.status == "ok" and evaluations(db) == {
        c.conversation_id: (c.kore_score, c.audit_score)
        for c in kore.conversations if c.start < DAY + timedelta(days=1)}
    assert len(result.run.warnings) == 2 and all("two full reads" in w for w in result.run.warnings)
    assert kore_sync.last_sync(db).warnings == result.run.warnings  # type: ignore[union-attr]


# -- the limit across runs -----------------------------------------------------------------------------------
def test_consecutive_runs_share_the_rate_limit(db: Path, kore: KoreServer) -> None:
    options = KoreSyncSettings(trailing_days=1, backfill_days=2, page_size=5, timeout_seconds=0.5,
                               backoff_seconds=0.01, max_backoff_seconds=0.05, requests_per_window=6,
                               rate_window_seconds=0.5)
    run(db, kore, options)
    run(db, kore, options, since=DAY)  # straight after: its first requests wait for the first run's minute
    times = sorted(r.at for r in kore.log)
    assert len(times) >= 14
    # Any 7 requests in a row span the window (a little slack for the trip from client to server).
    assert min(b - a for a, b in zip(times, times[6:], strict=False)) >= 0.45
    saved = json.loads(kore_sync.requests_log(db).read_text())
    assert len(saved["sent"]) <= 6


# -- a run that never finished ---------------------------------------------------------------------------------
def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_running_sync_is_on_record_and_a_killed_one_shows_as_stopped(db: Path, kore: KoreServer) -> None:
    seen: list[kore_sync.SyncRun | None] = []

    def look(event: str, window: kore_sync.Window) -> None:
        if event == "page" and not seen:
            seen.append(kore_sync.last_sync(db))

    run(db, kore, hook=look)
    assert seen[0] is not None and seen[0].status == "running" and seen[0].pid == os.getpid()
    assert not seen[0].stopped_unexpectedly
    [done] = kore_sync.load_state(db).runs  # replaced at the end, not added to
    assert done.status == "ok"
    killed = kore_sync.SyncRun(started_at="2026-03-03T00:10:00Z", status="running", pid=_dead_pid())
    kore_sync.save_state(db, kore_sync.SyncState(runs=[done, killed]))
    last = kore_sync.last_sync(db)
    assert last is not None and last.stopped_unexpectedly
    result = coaching("sync", "kore", "--db", str(db), "--since", "2026-03-01", "--until", "2026-03-02",
                      env=cli_env(kore))
    assert result.returncode == 0, result.stderr
    assert "stopped unexpectedly" in result.stderr
    runs = kore_sync.load_state(db).runs
    assert [r.status for r in runs] == ["ok", "stopped", "ok"]
    assert "stopped unexpectedly" in (runs[1].error or "")


# -- a state file that is not one -------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "said"), [
    ("[]", "not what the sync writes"), ('{"runs": [{"status": "ok"}]}', "no started_at"),
    ('{"runs": [{"started_at": "yesterday"}]}', "number 1"), ("{", "cannot be read"),
])
def test_a_malformed_state_file_is_a_clear_error_and_pages_skip_it(db: Path, kore: KoreServer, text: str,
                                                                  said: str) -> None:
    run(db, kore, since=DAY, until=DAY + timedelta(days=1))
    state = kore_sync.sync_folder(db) / "state.json"
    state.write_text(text)
    with pytest.raises(kore_sync.SyncError) as error:
        kore_sync.load_state(db)
    assert said in str(error.value) and str(state) in str(error.value)
    assert kore_sync.last_sync(db) is None and kore_sync.state_problem(db) is not None
    with store.open_store(db).snapshot() as con:
        assert kore_sync.data_as_of(con, db) is not None  # the store's own times
    good = kore_sync.SyncRun(started_at="2026-03-03T00:00:00Z", status="ok")
    state.write_text(json.dumps({"runs": [asdict(good), {"started_at": "later"}, ["no"]]}))
    assert kore_sync.last_sync(db) == good  # a bad record is skipped where pages read


# -- the import's spellings, Kore's messages, https ----------------------------------------------------------
def test_conversation_ids_are_found_under_any_spelling_the_import_takes() -> None:
    for key in ("conversationId", "Conversation ID", "conversation_id", "ConversationId", "conversation id",
                "CONVERSATION-ID"):
        assert kore_sync.record_id({key: "c-1", "Language": "English"}) == "c-1", key
    assert kore_sync.record_id({"id": "c-1"}) is None


@pytest.mark.parametrize("fault", ["limit_400", "array", "error_object"])
def test_a_rate_limit_message_or_a_200_that_is_no_page_is_retried(db: Path, kore: KoreServer, fault: str) -> None:
    kore.inject(fault, "rawdata", 0)
    result = run(db, kore, since=DAY, until=DAY + timedelta(days=1))
    assert result.run.status == "ok" and not kore.faults
    assert evaluations(db) == {c.conversation_id: (c.kore_score, c.audit_score) for c in kore.conversations
                               if c.start < DAY + timedelta(days=1)}


def test_a_page_is_what_the_import_takes_for_one() -> None:
    record = kore_server.RAWDATA_RECORD
    assert kore_sync.results_of({"results": [record], "totalResults": 1}, "rawdata") == [record]
    assert kore_sync.results_of({"results": [], "totalResults": 0}, "rawdata") == []
    for body in ([record], {"errors": [{"msg": "Something went wrong"}]}, {"message": "no"}, "text"):
        with pytest.raises(kore_sync.SyncError):
            kore_sync.results_of(body, "rawdata")


@pytest.mark.parametrize(("url", "ok"), [("https://platform.kore.ai", True), ("http://localhost:8080", True),
                                         ("http://127.0.0.1:5000/x", True), ("http://platform.kore.ai", False),
                                         ("http://localhost.example.com", False)])
def test_kore_base_url_is_https_except_on_this_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str,
                                                       ok: bool) -> None:
    for env, _, _ in KORE_CREDENTIALS:
        monkeypatch.setenv(env, "x")
    monkeypatch.setenv("KORE_BASE_URL", url)
    if ok:
        assert kore_credentials(tmp_path / "none.toml").base_url == url.rstrip("/")
    else:
        with pytest.raises(SettingError) as error:
            kore_credentials(tmp_path / "none.toml")
        assert "KORE_BASE_URL" in str(error.value) and "https" in str(error.value)


def test_every_carries_on_after_an_unexpected_error(db: Path, kore: KoreServer, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from coaching import cli

    for name, value in cli_env(kore).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("COACHING_DEBUG", raising=False)
    calls = 0
    real = kore_sync.sync

    def flaky(*args: object, **kwargs: object) -> kore_sync.SyncResult:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ZeroDivisionError("a surprise")
        if calls == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kore_sync, "sync", flaky)
    status = cli.main(["sync", "kore", "--db", str(db), "--since", "2026-03-01", "--until", "2026-03-02",
                       "--every", "0.01s", "--quiet"])
    out, err = capsys.readouterr()
    assert status == 0 and calls == 3
    assert "ZeroDivisionError: a surprise" in err and "Traceback" not in err and "Stopped" in err
    assert "Synced 1 window(s)" in out  # the run after the surprise
    runs = kore_sync.load_state(db).runs
    assert runs[0].status == "failed" and "ZeroDivisionError" in (runs[0].error or "")
    assert runs[1].status == "ok"
