"""Signing in through `credentials.attempt_sign_in`: the lock-out policy, and that it holds when
sign-ins for one email race in many threads and in several processes of the server."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from coaching import credentials
from coaching.credentials import Outcome, SignInResult, ThrottlePolicy

ROOT = Path(__file__).resolve().parent.parent

PRIYA = "priya.nair@example.com"
TOM = "tom.becker@example.com"
SECRET = "correct horse battery"
WRONG = "not the password"


class CountingHasher(PasswordHasher):
    """Argon2 with tiny parameters that counts its verifications (thread-safe)."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8 * 1024, parallelism=1)
        self._lock = threading.Lock()
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(credentials, "HASHER", counting)
    return counting


@pytest.fixture
def db(template_store_copy: Path, hasher: CountingHasher) -> Path:
    """A copy of the template store where Priya and Tom have passwords; no verification counted yet."""
    credentials.set_password(template_store_copy, PRIYA, SECRET)
    credentials.set_password(template_store_copy, TOM, "tom's own passphrase")
    hasher.verified = 0
    return template_store_copy


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def attempt(db: Path, email: str, password: str, clock: FakeClock | None = None) -> SignInResult:
    if clock is None:
        return credentials.attempt_sign_in(db, email, password)
    return credentials.attempt_sign_in(db, email, password, clock=clock)


def fail(db: Path, clock: FakeClock, times: int, email: str = PRIYA) -> list[Outcome]:
    return [attempt(db, email, WRONG, clock).outcome for _ in range(times)]


# -- the policy ------------------------------------------------------------------------------------


def test_the_right_password_is_accepted_and_a_wrong_one_is_not(db: Path) -> None:
    assert attempt(db, PRIYA, SECRET) == SignInResult(Outcome.ACCEPTED, PRIYA)
    assert attempt(db, " Priya.Nair@Example.COM ", SECRET) == SignInResult(Outcome.ACCEPTED, PRIYA)
    assert attempt(db, PRIYA, WRONG) == SignInResult(Outcome.WRONG, PRIYA)
    assert attempt(db, "nobody@example.com", SECRET).outcome is Outcome.WRONG
    assert attempt(db, "   ", SECRET).outcome is Outcome.WRONG


def test_five_failures_lock_the_email_for_30_seconds(db: Path, hasher: CountingHasher) -> None:
    clock = FakeClock()
    assert fail(db, clock, 5) == [Outcome.WRONG] * 5
    locked = attempt(db, PRIYA, SECRET, clock)
    assert locked == SignInResult(Outcome.LOCKED, PRIYA, wait=30.0)
    assert attempt(db, "PRIYA.Nair@example.com", WRONG, clock).wait == 30.0  # emails ignore case
    assert hasher.verified == 5  # attempts while locked out are not checked
    assert attempt(db, TOM, "tom's own passphrase", clock).accepted  # other emails are free
    clock.advance(29)
    assert attempt(db, PRIYA, SECRET, clock).wait == pytest.approx(1.0)  # and did not extend the lock
    clock.advance(1)
    assert attempt(db, PRIYA, SECRET, clock).accepted


def test_the_right_password_before_the_fifth_failure_is_accepted(db: Path) -> None:
    clock = FakeClock()
    fail(db, clock, 4)
    assert attempt(db, PRIYA, SECRET, clock).accepted
    assert fail(db, clock, 4) == [Outcome.WRONG] * 4  # a success forgets the failures
    assert attempt(db, PRIYA, WRONG, clock).outcome is Outcome.WRONG
    assert attempt(db, PRIYA, SECRET, clock).outcome is Outcome.LOCKED


def test_each_further_failure_doubles_the_lock_up_to_15_minutes(db: Path) -> None:
    clock = FakeClock()
    fail(db, clock, 5)
    waits = []
    for _ in range(8):
        clock.advance(attempt(db, PRIYA, WRONG, clock).wait)  # the caller waits, then fails again
        assert attempt(db, PRIYA, WRONG, clock).outcome is Outcome.WRONG
        waits.append(attempt(db, PRIYA, WRONG, clock).wait)
    assert waits == [60.0, 120.0, 240.0, 480.0, 900.0, 900.0, 900.0, 900.0]


def test_failures_older_than_15_minutes_do_not_count(db: Path) -> None:
    clock = FakeClock()
    fail(db, clock, 4)
    clock.advance(15 * 60)
    fail(db, clock, 1)
    for _ in range(3):
        clock.advance(60)
        fail(db, clock, 1)
    assert attempt(db, PRIYA, SECRET, clock).outcome is not Outcome.LOCKED  # 4 failures in the window
    shutil.rmtree(credentials.throttle_dir(db))
    fail(db, clock, 4)
    clock.advance(60)
    fail(db, clock, 1)
    assert attempt(db, PRIYA, SECRET, clock).wait == 30.0  # the 5th within 15 minutes


def test_a_lockout_is_remembered_for_15_minutes_after_it_ends(db: Path) -> None:
    clock = FakeClock()
    fail(db, clock, 5)
    for _ in range(5):
        clock.advance(attempt(db, PRIYA, WRONG, clock).wait)
        fail(db, clock, 1)
    assert attempt(db, PRIYA, WRONG, clock).wait == 900.0
    clock.advance(15 * 60)
    fail(db, clock, 1)
    assert attempt(db, PRIYA, SECRET, clock).wait == 900.0  # still locked out: straight back to the cap
    clock.advance(15 * 60 + 15 * 60)
    fail(db, clock, 1)
    assert attempt(db, PRIYA, SECRET, clock).accepted  # a quarter of an hour without failures: a fresh start


def test_a_clock_set_back_never_locks_for_more_than_15_minutes(db: Path) -> None:
    clock = FakeClock()
    fail(db, clock, 5)
    clock.advance(-7 * 24 * 3600)
    assert attempt(db, PRIYA, SECRET, clock).wait == 900.0


# -- the records -----------------------------------------------------------------------------------


def stripe_file(db: Path, email: str) -> Path:
    """The file that holds the record of ``email``."""
    with credentials._stripe(credentials.throttle_dir(db), credentials._email_digest(email)) as path:
        return path


def _record_files(db: Path) -> list[Path]:
    return sorted(credentials.throttle_dir(db).glob("*.json"))


def test_the_records_name_no_email_password_or_hash(db: Path) -> None:
    clock = FakeClock()
    fail(db, clock, 3)
    attempt(db, "mistyped password in the email field", WRONG, clock)
    folder = credentials.throttle_dir(db)
    assert folder == db.parent / "coaching.signin"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    text = "".join(p.read_text(encoding="utf-8") for p in _record_files(db))
    hashes = json.loads(credentials.credentials_path(db).read_text(encoding="utf-8"))["accounts"]
    for secret in (PRIYA, "priya", "mistyped", WRONG, SECRET, hashes[PRIYA]["hash"], "argon2"):
        assert secret not in text
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("damage", ["{not json", "", '{"version": 9}', '{"version": 1, "emails": []}',
                                    '{"version": 1, "emails": {"x": {"failures": "no"}}}', "\udcff"])
def test_damaged_records_count_as_none_and_are_replaced(db: Path, damage: str) -> None:
    clock = FakeClock()
    fail(db, clock, 2)
    [path] = _record_files(db)
    path.write_bytes(damage.encode("utf-8", "surrogateescape"))
    assert fail(db, clock, 4) == [Outcome.WRONG] * 4  # the damaged file's 2 failures are forgotten
    assert attempt(db, PRIYA, WRONG, clock).outcome is Outcome.WRONG
    assert attempt(db, PRIYA, SECRET, clock).outcome is Outcome.LOCKED
    assert json.loads(path.read_text(encoding="utf-8"))["version"] == 1


def test_a_record_that_is_not_finite_is_ignored(db: Path) -> None:
    clock = FakeClock()
    fail(db, clock, 5)
    [path] = _record_files(db)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"locked_until":', '"locked_until": Infinity, "x":'), encoding="utf-8")
    assert attempt(db, PRIYA, SECRET, clock).accepted


def test_records_that_cannot_be_written_refuse_the_sign_in_unchecked(
    db: Path, hasher: CountingHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(credentials, "_save_records", full_disk)
    result = attempt(db, PRIYA, SECRET)
    assert result.outcome is Outcome.UNAVAILABLE
    assert result.reason == f"cannot record sign-in attempts in {credentials.throttle_dir(db)}: " \
                            "No space left on device"
    assert hasher.verified == 0


def test_a_folder_that_cannot_be_made_refuses_the_sign_in_unchecked(db: Path, hasher: CountingHasher) -> None:
    credentials.throttle_dir(db).write_text("in the way", encoding="utf-8")
    result = attempt(db, PRIYA, SECRET)
    assert result.outcome is Outcome.UNAVAILABLE
    assert result.reason.startswith(f"cannot record sign-in attempts in {credentials.throttle_dir(db)}: ")
    assert hasher.verified == 0


def test_a_missing_folder_is_made(hasher: CountingHasher, tmp_path: Path) -> None:
    db = tmp_path / "not" / "yet" / "coaching.duckdb"
    assert attempt(db, PRIYA, SECRET).outcome is Outcome.WRONG  # no credentials there
    assert credentials.throttle_dir(db).is_dir()


def test_unusable_credentials_are_reported_and_not_counted(db: Path) -> None:
    clock = FakeClock()
    fail(db, clock, 4)
    path = credentials.credentials_path(db)
    good = path.read_bytes()
    path.write_text("{not json", encoding="utf-8")
    for _ in range(3):
        result = attempt(db, PRIYA, SECRET, clock)
        assert result.outcome is Outcome.UNAVAILABLE
        assert "not valid JSON" in result.reason
    path.write_bytes(good)
    assert attempt(db, PRIYA, SECRET, clock).accepted  # 4 failures, not 7


def test_records_stay_bounded(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credentials, "verify_password", lambda db, email, password: False)  # quick
    clock = FakeClock()
    policy = ThrottlePolicy(max_emails_per_file=3)
    for i in range(200):
        credentials.attempt_sign_in(db, f"spray{i}@example.com", WRONG, clock=clock, policy=policy)
    for path in _record_files(db):
        assert len(json.loads(path.read_text(encoding="utf-8"))["emails"]) <= 3
    assert len(json.loads(stripe_file(db, PRIYA).read_text(encoding="utf-8"))["emails"]) == 3
    clock.advance(15 * 60)  # the window after the last failure
    credentials.attempt_sign_in(db, PRIYA, WRONG, clock=clock, policy=policy)
    emails = json.loads(stripe_file(db, PRIYA).read_text(encoding="utf-8"))["emails"]
    assert list(emails) == [credentials._email_digest(PRIYA)]  # the old records are gone


# -- racing sign-ins -------------------------------------------------------------------------------


def test_twenty_parallel_sign_ins_check_at_most_five_wrong_passwords(
    db: Path, hasher: CountingHasher
) -> None:
    """The issue's burst: 19 wrong passwords and the right one, in parallel, for one email."""
    start = threading.Barrier(19)
    answered = threading.Semaphore(0)
    results: list[SignInResult] = []
    right: list[SignInResult] = []

    def guess() -> None:
        start.wait()
        results.append(attempt(db, PRIYA, WRONG))
        answered.release()

    def owner() -> None:
        for _ in range(5):  # once five of the guesses were answered, the lock must hold
            answered.acquire()
        right.append(attempt(db, PRIYA, SECRET))

    threads = [threading.Thread(target=guess) for _ in range(19)] + [threading.Thread(target=owner)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = [r.outcome for r in results]
    assert hasher.verified == 5
    assert outcomes.count(Outcome.WRONG) == 5
    assert outcomes.count(Outcome.LOCKED) == 14
    assert right[0].outcome is Outcome.LOCKED  # the right password, too, waits
    assert min(r.wait for r in results + right if r.outcome is Outcome.LOCKED) > 0


def test_a_sign_in_does_not_wait_for_another_emails(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock is per email (its stripe), not one for everybody."""
    assert stripe_file(db, PRIYA) != stripe_file(db, TOM)
    checking, release = threading.Event(), threading.Event()
    verify = credentials.verify_password

    def slow_for_priya(db: Path, email: str, password: str) -> bool:
        if email == PRIYA:
            checking.set()
            assert release.wait(10)
        return verify(db, email, password)

    monkeypatch.setattr(credentials, "verify_password", slow_for_priya)
    priya: list[SignInResult] = []
    thread = threading.Thread(target=lambda: priya.append(attempt(db, PRIYA, SECRET)))
    thread.start()
    try:
        assert checking.wait(10)
        assert attempt(db, TOM, "tom's own passphrase").accepted  # while Priya's check is under way
    finally:
        release.set()
        thread.join()
    assert priya[0].accepted


#: A process of the server: waits for "go" on stdin, then guesses from several threads at once and
#: prints what it saw; once its own guesses were answered, it tries the right password.
WORKER = textwrap.dedent("""
    import json, sys, threading
    from argon2 import PasswordHasher
    from coaching import credentials

    class Counting(PasswordHasher):
        verified = 0
        lock = threading.Lock()
        def verify(self, hash, password):
            with self.lock:
                Counting.verified += 1
            return super().verify(hash, password)

    credentials.HASHER = Counting(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    db, email, wrong, right, guesses = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    print("ready", flush=True)
    sys.stdin.readline()
    outcomes = []
    def guess():
        outcomes.append(credentials.attempt_sign_in(db, email, wrong).outcome.value)
    threads = [threading.Thread(target=guess) for _ in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = credentials.attempt_sign_in(db, email, right).outcome.value
    print(json.dumps({"verified": Counting.verified, "outcomes": outcomes, "after": after}), flush=True)
""")


def test_two_processes_racing_check_at_most_five_wrong_passwords(db: Path, hasher: CountingHasher) -> None:
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(db), PRIYA, WRONG, SECRET, "10"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
        for worker in workers:  # both start guessing at once
            worker.stdin.write("go\n")
            worker.stdin.flush()
        reports = []
        for worker in workers:
            out, err = worker.communicate(timeout=60)
            assert worker.returncode == 0, err
            reports.append(json.loads(out))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    outcomes = [o for report in reports for o in report["outcomes"]]
    assert sum(report["verified"] for report in reports) == 5
    assert outcomes.count("wrong") == 5 and outcomes.count("locked") == 15
    assert [report["after"] for report in reports] == ["locked", "locked"]  # the right password waits
    assert attempt(db, PRIYA, SECRET).outcome is Outcome.LOCKED  # and so it does here
    assert hasher.verified == 0
