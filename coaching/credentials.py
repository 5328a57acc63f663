"""The dashboard's own sign-in credentials, used when no OpenID Connect provider is configured.

Passwords are kept only as salted Argon2id hashes (``argon2-cffi``) in a JSON file beside the store,
``<store stem>.credentials.json`` with mode 0600, rewritten atomically under ``<store stem>.credentials.lock``
so two writers never lose each other's change. Only people on the roster can get a password.

:func:`attempt_sign_in` is the one door for signing in: it checks an email's lock-out, verifies the
password and records the outcome as one step, under a lock of that email shared by every thread and
process of the server. Attempts are counted in ``<store stem>.signin/`` beside the store, so 5 failures
for one email within 15 minutes lock that email for 30 s, doubling with each further failure up to
15 minutes, however many sign-ins race (:class:`ThrottlePolicy`).

Nothing here stores, prints or logs a password in clear.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeGuard

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from coaching import sessions, store

log = logging.getLogger(__name__)

FILE_VERSION = 1
MIN_PASSWORD_LENGTH = 10

#: The hasher for new hashes: the library's defaults (RFC 9106's low-memory profile). Tests replace
#: it with a cheaper one; hashes made with other parameters still verify, and are rehashed at sign-in.
HASHER = PasswordHasher()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: How many Argon2 hashes a process computes at once. Each takes a core and the hasher's memory (64 MiB
#: with the defaults): at shift start, 200 agents signing in together drove one server process to 1.7 GB
#: with every check running at once, and checks beyond the cores only queue for them anyway.
HASHING_AT_ONCE = _cores()
_hashing = threading.BoundedSemaphore(HASHING_AT_ONCE)


@contextmanager
def _hashing_slot() -> Iterator[None]:
    """Wait for one of the process's hashing slots (see :data:`HASHING_AT_ONCE`)."""
    with _hashing:
        yield


class CredentialError(ValueError):
    """A password cannot be set or the credentials file cannot be used; the message says why."""


def credentials_path(db: Path) -> Path:
    """Where the store's passwords live: ``data/coaching.duckdb`` -> ``data/coaching.credentials.json``."""
    db = Path(db)
    return db.with_name(f"{db.stem}.credentials.json")


def _key(email: str) -> str:
    return email.strip().lower()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- the file ---------------------------------------------------------------------------------------


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Writers of one credentials file queue here (threads and processes alike)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_suffix(".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _read(path: Path) -> dict[str, dict[str, str]]:
    """The accounts in the file, by lower-case email; none when there is no file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        raise CredentialError(
            f"the credentials file {path} is not valid JSON; restore it from a backup, or delete it "
            "and set every password again with `coaching users set-password`"
        ) from None
    if not isinstance(data, dict) or data.get("version") != FILE_VERSION or not isinstance(
        data.get("accounts"), dict
    ):
        raise CredentialError(
            f"the credentials file {path} is not a version {FILE_VERSION} credentials file "
            '({"version": 1, "accounts": {...}})'
        )
    accounts: dict[str, dict[str, str]] = {}
    for email, entry in data["accounts"].items():
        if isinstance(entry, dict) and isinstance(entry.get("hash"), str):
            accounts[_key(email)] = entry
    return accounts


def _write(path: Path, accounts: dict[str, dict[str, str]]) -> None:
    """Replace the file atomically and durably."""
    data: dict[str, Any] = {"version": FILE_VERSION, "accounts": dict(sorted(accounts.items()))}
    _replace_json(path, data, indent=2, durable=True)


def _replace_json(path: Path, data: dict[str, Any], *, indent: int | None, durable: bool) -> None:
    """Replace ``path`` atomically (a temporary file in the same folder, then ``os.replace``), mode 0600.

    ``durable`` also flushes the file and its folder to disk before returning.
    """
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=indent)
            handle.write("\n")
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    if durable:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# -- passwords --------------------------------------------------------------------------------------


def _on_roster(db: Path, email: str) -> bool:
    with store.open_store(db).snapshot() as con:
        found = con.execute(
            "SELECT 1 FROM people WHERE lower(email) = ? AND on_roster LIMIT 1", [email]
        ).fetchone()
    return found is not None


def _check_policy(email: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CredentialError(
            f"the password is too short: expected at least {MIN_PASSWORD_LENGTH} characters"
        )
    if not password.strip():
        raise CredentialError("the password is only whitespace: expected letters, digits or symbols too")
    if password.strip().lower() == email:
        raise CredentialError("the password is the email address: expected something else")


def set_password(db: Path, email: str, password: str) -> None:
    """Set (or replace) the password of someone on the roster of the store ``db``.

    Every session of that person ends (:func:`coaching.sessions.end_all`): whoever had the old password
    is signed out. Raises :class:`CredentialError` when the email is not on the roster or the password is
    weak, and
    :class:`coaching.store.StoreError` when there is no store.
    """
    db = Path(db)
    key = _key(email)
    _check_policy(key, password)
    if not _on_roster(db, key):
        raise CredentialError(
            f"{email.strip()} is not on the roster of {db}: only people on the roster can have a "
            "password (import a roster that lists them first)"
        )
    with _hashing_slot():
        hashed = HASHER.hash(password)  # slow: done before queueing for the file
    path = credentials_path(db)
    with _writing(path):
        accounts = _read(path)
        accounts[key] = {"hash": hashed, "set_at": _now_iso()}
        _write(path, accounts)
    sessions.end_all(db, key)  # a new password signs its person out everywhere


def has_password(db: Path, email: str) -> bool:
    """Whether ``email`` has a password (whether or not it is still on the roster)."""
    return _key(email) in _read(credentials_path(Path(db)))


_dummy: tuple[PasswordHasher, str] | None = None
_dummy_lock = threading.Lock()


def _dummy_hash() -> str:
    """A hash made with the current hasher, verified for unknown emails so they cost as much time."""
    global _dummy
    with _dummy_lock:
        if _dummy is None or _dummy[0] is not HASHER:
            with _hashing_slot():
                _dummy = (HASHER, HASHER.hash("no account has this password"))
        return _dummy[1]


def verify_password(db: Path, email: str, password: str) -> bool:
    """Whether ``password`` is the password of ``email``: False for an unknown email or a wrong password.

    Takes about as long for an unknown email as for a known one. A hash made with weaker parameters
    than the current ones is replaced after a successful check (best effort).
    """
    path = credentials_path(Path(db))
    key = _key(email)
    entry = _read(path).get(key)
    stored = entry["hash"] if entry else _dummy_hash()
    try:
        with _hashing_slot():
            HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if entry is None:
        return False
    if HASHER.check_needs_rehash(stored):
        try:
            _rehash(path, key, stored, password)
        except Exception as error:  # noqa: BLE001 - a failed upgrade must not fail the sign-in
            log.warning("could not rehash the password of %s in %s: %s", key, path, type(error).__name__)
    return True


def _rehash(path: Path, key: str, old: str, password: str) -> None:
    with _hashing_slot():
        hashed = HASHER.hash(password)
    with _writing(path):
        accounts = _read(path)
        entry = accounts.get(key)
        if entry is None or entry["hash"] != old:
            return  # changed meanwhile: the newer password wins
        accounts[key] = {**entry, "hash": hashed}
        _write(path, accounts)


# -- signing in, throttled -------------------------------------------------------------------------

THROTTLE_VERSION = 1
#: Emails are spread over this many lock files (and record files) by a hash of the email: a sign-in
#: waits only for sign-ins of emails in its own stripe, never for all of them.
STRIPES = 64


def _moment(value: object) -> TypeGuard[float]:
    """Whether ``value`` is a time a record can hold (a finite number of seconds)."""
    return isinstance(value, int | float) and math.isfinite(value)


@dataclass(frozen=True)
class _Record:
    """One email's recent failures."""

    failures: tuple[float, ...] = ()  # before the first lock, within the window
    strikes: int = 0  # locks so far; each doubles the one before
    locked_until: float = 0.0
    last: float = 0.0  # the latest failure

    def to_json(self) -> dict[str, Any]:
        return {"failures": list(self.failures), "strikes": self.strikes, "locked_until": self.locked_until,
                "last": self.last}

    @classmethod
    def from_json(cls, value: object) -> _Record | None:
        """The record, or None when ``value`` is not one (a damaged file is not worth a crash)."""
        if not isinstance(value, dict):
            return None
        failures, strikes = value.get("failures"), value.get("strikes")
        locked_until, last = value.get("locked_until"), value.get("last")
        if not (
            isinstance(failures, list) and all(_moment(t) for t in failures)
            and isinstance(strikes, int) and strikes >= 0 and _moment(locked_until) and _moment(last)
        ):
            return None
        return cls(tuple(float(t) for t in failures), strikes, float(locked_until), float(last))


@dataclass(frozen=True)
class ThrottlePolicy:
    """Repeated-failure throttling for sign-in: what a failure does to an email's record.

    After ``threshold`` failures for one email within ``window`` seconds, that email is locked for
    ``base_lock`` seconds. From then on it stays locked out: each further failure after the lock locks
    it again, for twice as long as the time before, up to ``max_lock``, counted from that failure.
    Attempts during a lock are refused unchecked and change nothing. The record is forgotten after a
    success, or once ``window`` seconds pass after both the last failure and the end of the lock. At
    most ``max_emails_per_file`` records are kept in each of the :data:`STRIPES` files (those with the
    oldest last failure go first), so the files stay small.
    """

    threshold: int = 5
    window: float = 15 * 60
    base_lock: float = 30.0
    max_lock: float = 15 * 60
    max_emails_per_file: int = 1_000

    def expired(self, record: _Record, now: float) -> bool:
        return now >= max(record.last, record.locked_until) + self.window

    def wait(self, record: _Record | None, now: float) -> float:
        """Seconds before the email may try again; 0.0 when free. Never more than ``max_lock``, even
        when the clock was set back."""
        if record is None or self.expired(record, now):
            return 0.0
        return min(self.max_lock, max(0.0, record.locked_until - now))

    def failed(self, record: _Record | None, now: float) -> _Record:
        """The record after one more failure at ``now``."""
        if record is None or self.expired(record, now):
            record = _Record()
        if record.strikes == 0:
            failures = (*[t for t in record.failures if t > now - self.window], now)
            if len(failures) < self.threshold:
                return _Record(failures, 0, 0.0, now)
            return _Record((), 1, now + min(self.max_lock, self.base_lock), now)
        strikes = record.strikes + 1
        lock = min(self.max_lock, self.base_lock * 2.0 ** min(strikes - 1, 64))
        return _Record((), strikes, max(record.locked_until, now + lock), now)

    def kept(self, records: dict[str, _Record], now: float) -> dict[str, _Record]:
        """The records worth keeping: not expired, at most ``max_emails_per_file``, newest first."""
        live = sorted(
            ((key, record) for key, record in records.items() if not self.expired(record, now)),
            key=lambda item: item[1].last, reverse=True,
        )
        return dict(live[: self.max_emails_per_file])


#: The policy the sign-in form uses (the README's "Passwords" section describes it).
POLICY = ThrottlePolicy()


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"  # a wrong password, an unknown email, or no email: the same for everyone
    LOCKED = "locked"  # too many failures: not checked
    UNAVAILABLE = "unavailable"  # the credentials or the sign-in records cannot be used: not checked


@dataclass(frozen=True)
class SignInResult:
    """What became of one sign-in attempt."""

    outcome: Outcome
    email: str  # as the dashboard knows it: trimmed, lower case
    wait: float = 0.0  # LOCKED: seconds before this email may try again
    reason: str = ""  # UNAVAILABLE: why, for people

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


def throttle_dir(db: Path) -> Path:
    """Where sign-in attempts are counted: ``data/coaching.duckdb`` -> ``data/coaching.signin/``."""
    db = Path(db)
    return db.with_name(f"{db.stem}.signin")


def _email_digest(key: str) -> str:
    """The key of an email's record: the files name no one, nor whatever was typed as an email."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@contextmanager
def _stripe(folder: Path, digest: str) -> Iterator[Path]:
    """Hold the lock of the stripe of ``digest``; yields the stripe's record file.

    ``flock`` on a descriptor of our own: sign-ins in other threads and processes, each opening the
    lock file for itself, queue here alike; closing the descriptor releases the lock.
    """
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{int(digest[:8], 16) % STRIPES:02x}"
    fd = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield folder / f"{name}.json"
    finally:
        os.close(fd)


def _load_records(path: Path) -> dict[str, _Record]:
    """The records of one stripe. A missing file has none; so has a damaged one (logged, then replaced
    at the next write): forgetting failures is better than refusing every sign-in."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:  # UnicodeDecodeError is a ValueError
        log.warning("ignoring the unreadable sign-in records %s: %s", path, type(error).__name__)
        return {}
    versioned = isinstance(data, dict) and data.get("version") == THROTTLE_VERSION
    emails = data.get("emails") if versioned else None
    if not isinstance(emails, dict):
        log.warning("ignoring the sign-in records %s: not a version %d file", path, THROTTLE_VERSION)
        return {}
    records = {}
    for digest, value in emails.items():
        record = _Record.from_json(value)
        if record is not None:
            records[digest] = record
    return records


def _save_records(path: Path, records: dict[str, _Record]) -> None:
    # Not fsynced: a power cut may lose the latest failures (a few more guesses at worst), which is
    # not worth a flush to disk on every attempt.
    emails = {digest: record.to_json() for digest, record in records.items()}
    _replace_json(path, {"version": THROTTLE_VERSION, "emails": emails}, indent=None, durable=False)


def attempt_sign_in(
    db: Path, email: str, password: str, *, clock: Callable[[], float] = time.time,
    policy: ThrottlePolicy = POLICY,
) -> SignInResult:
    """Try to sign in as ``email`` with ``password`` against the credentials of the store ``db``.

    Checking the email's lock-out, verifying the password and recording the outcome are one step:
    they run under the lock of that email, shared by every thread and process using the store, so
    at most ``policy.threshold`` wrong passwords are checked before the lock engages, and none while
    it lasts, however many sign-ins race. The attempt is counted as a failure before the password is
    checked (and forgotten if it was right): an attempt that cannot be counted is not checked, and
    one cut short by a crash still counts. ``clock`` gives wall-clock seconds, shared by processes
    and restarts.
    """
    db = Path(db)
    key = _key(email)
    if not key:
        return SignInResult(Outcome.WRONG, key)
    digest = _email_digest(key)
    folder = throttle_dir(db)
    try:
        with _stripe(folder, digest) as path:
            records = _load_records(path)
            now = clock()
            before = records.get(digest)
            wait = policy.wait(before, now)
            if wait > 0:
                return SignInResult(Outcome.LOCKED, key, wait=wait)
            records[digest] = policy.failed(before, now)
            _save_records(path, policy.kept(records, now))
            try:
                valid = verify_password(db, key, password)
            except (CredentialError, OSError) as error:
                _forget_attempt(path, records, digest, before, now, policy)  # nothing was checked
                reason = str(error) if isinstance(error, CredentialError) else (
                    f"cannot read the credentials file {credentials_path(db)}: {error.strerror or error}")
                return SignInResult(Outcome.UNAVAILABLE, key, reason=reason)
            if not valid:
                return SignInResult(Outcome.WRONG, key)
            _forget_attempt(path, records, digest, None, now, policy)
            return SignInResult(Outcome.ACCEPTED, key)
    except OSError as error:
        log.warning("cannot record sign-in attempts in %s: %s", folder, error)
        reason = f"cannot record sign-in attempts in {folder}: {error.strerror or error}"
        return SignInResult(Outcome.UNAVAILABLE, key, reason=reason)


def _forget_attempt(
    path: Path, records: dict[str, _Record], digest: str, record: _Record | None, now: float,
    policy: ThrottlePolicy,
) -> None:
    """Put back the email's record as it was (``None``: forget it), best effort: the outcome stands."""
    if record is None:
        records.pop(digest, None)
    else:
        records[digest] = record
    try:
        _save_records(path, policy.kept(records, now))
    except OSError as error:
        log.warning("could not update the sign-in records %s: %s", path, type(error).__name__)
