"""Sign-in sessions of the dashboard's own form: what keeps a person signed in across reloads and tabs.

Signing in through the form starts a session: a random token (256 bits) that the browser keeps in an
``HttpOnly`` cookie. The server keeps only the token's SHA-256, the person's email and three moments,
in SQLite beside the store (``<store stem>.sessions.sqlite3``, mode 0600), which every thread and process
of the server shares. A session ends when it has been idle longer than :attr:`SessionPolicy.idle`, when
it is older than :attr:`SessionPolicy.lifetime`, when its person signs out (:func:`end`), and when their
password changes (:func:`end_all`). Unknown, malformed, ended or expired tokens resolve to no one;
the only error is :class:`SessionStoreError`, when the file cannot be used (then nobody can be told
apart, and callers must not take a live session for an ended one).

Nothing here logs or returns a token except :func:`start`, which hands it to the cookie.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import string
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from time import time

#: Default idle timeout and absolute lifetime of a session (``COACHING_SESSION_IDLE_HOURS``,
#: ``COACHING_SESSION_DAYS``).
DEFAULT_IDLE = timedelta(hours=8)
DEFAULT_LIFETIME = timedelta(days=7)
#: A session's last use is written at most this often (every page run reads it; few need to write).
TOUCH_EVERY = timedelta(minutes=1)

TOKEN_BYTES = 32
#: The alphabet of `secrets.token_urlsafe`; a cookie with anything else is no token of ours.
_TOKEN_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_")
_TOKEN_LENGTH = len(secrets.token_urlsafe(TOKEN_BYTES))

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY,
    email        TEXT NOT NULL,   -- lower case: the person, as the roster and credentials key them
    started_at   REAL NOT NULL,   -- seconds since the epoch
    last_seen_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_email ON sessions (email);
"""


class SessionStoreError(RuntimeError):
    """The session store cannot be read or written; the message says where."""


@dataclass(frozen=True)
class SessionPolicy:
    """How long a form session lasts: ``idle`` since its last use, ``lifetime`` since it started."""

    idle: timedelta = DEFAULT_IDLE
    lifetime: timedelta = DEFAULT_LIFETIME

    def __post_init__(self) -> None:
        if self.idle <= timedelta(0) or self.lifetime <= timedelta(0):
            raise ValueError("a session's idle timeout and lifetime must be positive")


def sessions_path(db: Path) -> Path:
    """Where a store's sessions live: ``data/coaching.duckdb`` -> ``data/coaching.sessions.sqlite3``."""
    db = Path(db)
    return db.with_name(f"{db.stem}.sessions.sqlite3")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _well_formed(token: object) -> bool:
    return (isinstance(token, str) and len(token) == _TOKEN_LENGTH
            and all(character in _TOKEN_CHARACTERS for character in token))


@contextmanager
def _connect(db: Path) -> Iterator[sqlite3.Connection]:
    path = sessions_path(db)
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # never readable by others
        with closing(sqlite3.connect(path, timeout=10, isolation_level=None)) as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.executescript(_SCHEMA)
            yield con
    except (sqlite3.Error, OSError) as error:
        raise SessionStoreError(f"the sign-in sessions at {path} cannot be used: {error}") from None


def start(db: Path, email: str, *, now: float | None = None) -> str:
    """Start a session for ``email`` (already signed in) and return its token, for the cookie alone."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    moment = time() if now is None else now
    with _connect(db) as con:
        con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (_digest(token), email.strip().lower(), moment, moment))
    return token


def resolve(db: Path, token: object, policy: SessionPolicy = SessionPolicy(), *,
            now: float | None = None) -> str | None:
    """The email whose session ``token`` is, or None when it is no live session.

    A live session's last use moves to now (at most once a :data:`TOUCH_EVERY`); an expired one is ended.
    """
    if not _well_formed(token):
        return None
    assert isinstance(token, str)
    digest = _digest(token)
    moment = time() if now is None else now
    with _connect(db) as con:
        row = con.execute("SELECT email, started_at, last_seen_at FROM sessions WHERE token_sha256 = ?",
                          (digest,)).fetchone()
        if row is None:
            return None
        email, started_at, last_seen_at = row
        if (moment - last_seen_at > policy.idle.total_seconds()
                or moment - started_at > policy.lifetime.total_seconds()):
            con.execute("DELETE FROM sessions WHERE token_sha256 = ?", (digest,))
            return None
        if moment - last_seen_at >= TOUCH_EVERY.total_seconds():
            con.execute("UPDATE sessions SET last_seen_at = ? WHERE token_sha256 = ?", (moment, digest))
    return str(email)


def end(db: Path, token: object) -> None:
    """End the session ``token`` (signing out); a token that is no session is ignored."""
    if _well_formed(token):
        assert isinstance(token, str)
        with _connect(db) as con:
            con.execute("DELETE FROM sessions WHERE token_sha256 = ?", (_digest(token),))


def end_all(db: Path, email: str) -> int:
    """End every session of ``email`` (their password changed); how many ended."""
    if not sessions_path(db).exists():
        return 0
    with _connect(db) as con:
        return con.execute("DELETE FROM sessions WHERE email = ?", (email.strip().lower(),)).rowcount


def purge_expired(db: Path, policy: SessionPolicy = SessionPolicy(), *, now: float | None = None) -> int:
    """Forget sessions past their idle timeout or lifetime (they resolve to no one already); how many."""
    if not sessions_path(db).exists():
        return 0
    moment = time() if now is None else now
    with _connect(db) as con:
        return con.execute(
            "DELETE FROM sessions WHERE ? - last_seen_at > ? OR ? - started_at > ?",
            (moment, policy.idle.total_seconds(), moment, policy.lifetime.total_seconds()),
        ).rowcount
