"""The dashboard's own sign-in credentials, used when no OpenID Connect provider is configured.

Passwords are kept only as salted Argon2id hashes (``argon2-cffi``) in a JSON file beside the store,
``<store stem>.credentials.json`` with mode 0600, rewritten atomically under ``<store stem>.credentials.lock``
so two writers never lose each other's change. Only people on the roster can get a password.
:class:`Throttle` slows down guessing: 5 failures for one email within 15 minutes lock that email for
30 s, doubling with each further failure up to 15 minutes.

Nothing here stores, prints or logs a password in clear.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from coaching import store

log = logging.getLogger(__name__)

FILE_VERSION = 1
MIN_PASSWORD_LENGTH = 10

#: The hasher for new hashes: the library's defaults (RFC 9106's low-memory profile). Tests replace
#: it with a cheaper one; hashes made with other parameters still verify, and are rehashed at sign-in.
HASHER = PasswordHasher()


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
    """Replace the file atomically: a temporary file in the same folder, fsync, ``os.replace``."""
    data: dict[str, Any] = {"version": FILE_VERSION, "accounts": dict(sorted(accounts.items()))}
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
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

    Raises :class:`CredentialError` when the email is not on the roster or the password is weak, and
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
    hashed = HASHER.hash(password)  # slow: done before queueing for the file
    path = credentials_path(db)
    with _writing(path):
        accounts = _read(path)
        accounts[key] = {"hash": hashed, "set_at": _now_iso()}
        _write(path, accounts)


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
    hashed = HASHER.hash(password)
    with _writing(path):
        accounts = _read(path)
        entry = accounts.get(key)
        if entry is None or entry["hash"] != old:
            return  # changed meanwhile: the newer password wins
        accounts[key] = {**entry, "hash": hashed}
        _write(path, accounts)


# -- throttling ------------------------------------------------------------------------------------


class _Record:
    """One email's recent failures."""

    __slots__ = ("failures", "strikes", "locked_until", "last")

    def __init__(self, threshold: int) -> None:
        self.failures: deque[float] = deque(maxlen=threshold)  # before the first lock, within the window
        self.strikes = 0  # locks so far; each doubles the one before
        self.locked_until = 0.0
        self.last = 0.0  # the latest failure


class Throttle:
    """Repeated-failure throttling for sign-in, shared by every thread of the process.

    After ``threshold`` failures for one email within ``window`` seconds, that email is locked for
    ``base_lock`` seconds. From then on it stays locked out: each further failure (during the lock or
    after it) locks it again, for twice as long as the time before, up to ``max_lock``, counted from
    that failure. The record is forgotten after a success, or once ``window`` seconds pass after both
    the last failure and the end of the lock. At most ``max_emails`` records are kept (those with the
    oldest last failure go first), so memory stays bounded.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        threshold: int = 5,
        window: float = 15 * 60,
        base_lock: float = 30.0,
        max_lock: float = 15 * 60,
        max_emails: int = 100_000,
    ) -> None:
        self._clock = clock
        self._threshold = threshold
        self._window = window
        self._base_lock = base_lock
        self._max_lock = max_lock
        self._max_emails = max_emails
        self._lock = threading.Lock()
        self._records: OrderedDict[str, _Record] = OrderedDict()  # oldest last failure first
        self._next_sweep = 0.0

    def _expired(self, record: _Record, now: float) -> bool:
        return now >= max(record.last, record.locked_until) + self._window

    def _sweep(self, now: float) -> None:
        if now >= self._next_sweep or len(self._records) > self._max_emails:
            for email in [e for e, r in self._records.items() if self._expired(r, now)]:
                del self._records[email]
            self._next_sweep = now + 60.0
        while len(self._records) > self._max_emails:
            self._records.popitem(last=False)

    def check(self, email: str) -> float:
        """Seconds the caller must still wait before trying ``email`` again; 0.0 when free."""
        key = _key(email)
        with self._lock:
            now = self._clock()
            record = self._records.get(key)
            if record is None:
                return 0.0
            if self._expired(record, now):
                del self._records[key]
                return 0.0
            return max(0.0, record.locked_until - now)

    def failed(self, email: str) -> None:
        """Record a failed sign-in for ``email``."""
        key = _key(email)
        with self._lock:
            now = self._clock()
            record = self._records.pop(key, None)
            if record is None or self._expired(record, now):
                record = _Record(self._threshold)
            if record.strikes == 0:
                while record.failures and record.failures[0] <= now - self._window:
                    record.failures.popleft()
                record.failures.append(now)
                if len(record.failures) >= self._threshold:
                    record.strikes = 1
                    record.locked_until = now + min(self._max_lock, self._base_lock)
                    record.failures.clear()
            else:
                record.strikes += 1
                lock = min(self._max_lock, self._base_lock * 2.0 ** min(record.strikes - 1, 64))
                record.locked_until = max(record.locked_until, now + lock)
            record.last = now
            self._records[key] = record  # now the newest
            self._sweep(now)

    def succeeded(self, email: str) -> None:
        """Record a successful sign-in for ``email``: its failures are forgotten."""
        with self._lock:
            self._records.pop(_key(email), None)


#: The process-wide throttle the sign-in page uses.
THROTTLE = Throttle()
