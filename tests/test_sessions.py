"""Form sign-in sessions (coaching/sessions.py): start and resolve, idle and absolute expiry, revocation,
hostile tokens, what the file holds; a new password ends its person's sessions; the session settings.

The HTTP side (the form, the cookie, the gate) is tested in test_account.py.
"""

from __future__ import annotations

import hashlib
import sqlite3
import stat
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coaching import credentials, sessions
from coaching import settings as coaching_settings
from coaching.sessions import TOUCH_EVERY, SessionPolicy, SessionStoreError
from coaching.settings import SettingError

PRIYA = "priya.nair@example.com"
TOM = "tom.becker@example.com"
SECRET = "correct horse battery"
T0 = 1_750_000_000.0  # a fixed moment: every test here passes now= explicitly
POLICY = SessionPolicy()
IDLE = POLICY.idle.total_seconds()
LIFETIME = POLICY.lifetime.total_seconds()
TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_"
PROPERTY = settings(max_examples=200, deadline=None, database=None)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Where a store would be; the sessions need no store file beside them."""
    return tmp_path / "data" / "coaching.duckdb"


def _rows(db: Path) -> list[tuple[str, str, float, float]]:
    with sqlite3.connect(sessions.sessions_path(db)) as con:
        return con.execute("SELECT token_sha256, email, started_at, last_seen_at FROM sessions").fetchall()


def _last_seen(db: Path, token: str) -> float:
    digest = hashlib.sha256(token.encode()).hexdigest()
    with sqlite3.connect(sessions.sessions_path(db)) as con:
        (moment,) = con.execute("SELECT last_seen_at FROM sessions WHERE token_sha256 = ?", (digest,)).fetchone()
    return float(moment)


def _tampered(token: str, position: int) -> str:
    replacement = "A" if token[position] != "A" else "B"
    return token[:position] + replacement + token[position + 1:]


# -- starting and resolving -------------------------------------------------------------------------


def test_the_file_sits_beside_the_store() -> None:
    assert sessions.sessions_path(Path("data/coaching.duckdb")) == Path("data/coaching.sessions.sqlite3")


def test_a_started_session_resolves_to_its_email_in_lower_case(db: Path) -> None:
    token = sessions.start(db, "  Priya.Nair@Example.COM ", now=T0)
    assert isinstance(token, str) and len(token) >= 43  # 256 bits, URL-safe
    assert set(token) <= set(TOKEN_ALPHABET)
    assert sessions.resolve(db, token, now=T0) == PRIYA
    assert sessions.resolve(db, token, now=T0 + 3600) == PRIYA
    assert sessions.sessions_path(db).exists()  # the folder was made, no store needed


def test_every_session_has_its_own_token(db: Path) -> None:
    tokens = {sessions.start(db, PRIYA, now=T0) for _ in range(20)}
    assert len(tokens) == 20
    assert all(sessions.resolve(db, token, now=T0) == PRIYA for token in tokens)


def test_a_policy_must_be_positive() -> None:
    from datetime import timedelta

    with pytest.raises(ValueError, match="positive"):
        SessionPolicy(idle=timedelta(0))
    with pytest.raises(ValueError, match="positive"):
        SessionPolicy(lifetime=timedelta(seconds=-1))


# -- expiry -----------------------------------------------------------------------------------------


def test_idle_timeout_is_inclusive_at_the_boundary_and_ends_just_after(db: Path) -> None:
    at_boundary = sessions.start(db, PRIYA, now=T0)
    just_after = sessions.start(db, TOM, now=T0)
    assert sessions.resolve(db, at_boundary, now=T0 + IDLE) == PRIYA  # idle "longer than" ends it
    assert sessions.resolve(db, just_after, now=T0 + IDLE + 0.001) is None
    # ended for good: it does not come back at an earlier clock either, and its row is gone
    assert sessions.resolve(db, just_after, now=T0) is None
    assert [email for _, email, _, _ in _rows(db)] == [PRIYA]


def test_a_custom_idle_timeout(db: Path) -> None:
    from datetime import timedelta

    short = SessionPolicy(idle=timedelta(minutes=5))
    token = sessions.start(db, PRIYA, now=T0)
    assert sessions.resolve(db, token, short, now=T0 + 300) == PRIYA
    assert sessions.resolve(db, token, short, now=T0 + 300 + 301) is None


def test_the_lifetime_ends_a_session_even_when_used_all_the_time(db: Path) -> None:
    token = sessions.start(db, PRIYA, now=T0)
    moment = T0
    while moment + 7 * 3600 < T0 + LIFETIME:  # every 7 hours: never idle for 8
        moment += 7 * 3600
        assert sessions.resolve(db, token, now=moment) == PRIYA
    assert sessions.resolve(db, token, now=T0 + LIFETIME) == PRIYA  # at the boundary: still alive
    assert sessions.resolve(db, token, now=T0 + LIFETIME + 1) is None
    assert sessions.resolve(db, token, now=T0 + LIFETIME) is None  # ended, not just out of time
    assert _rows(db) == []


def test_last_use_moves_only_after_touch_every(db: Path) -> None:
    every = TOUCH_EVERY.total_seconds()
    token = sessions.start(db, PRIYA, now=T0)
    assert sessions.resolve(db, token, now=T0 + every - 1) == PRIYA
    assert _last_seen(db, token) == T0  # not written: too soon
    assert sessions.resolve(db, token, now=T0 + every) == PRIYA
    assert _last_seen(db, token) == T0 + every
    assert sessions.resolve(db, token, now=T0 + every + 5) == PRIYA
    assert _last_seen(db, token) == T0 + every


def test_an_untouched_use_does_not_extend_the_idle_timeout(db: Path) -> None:
    every = TOUCH_EVERY.total_seconds()
    quiet = sessions.start(db, PRIYA, now=T0)
    touched = sessions.start(db, TOM, now=T0)
    assert sessions.resolve(db, quiet, now=T0 + every - 1) == PRIYA  # too soon to write
    assert sessions.resolve(db, touched, now=T0 + every) == TOM  # written
    later = T0 + IDLE + every / 2
    assert sessions.resolve(db, quiet, now=later) is None
    assert sessions.resolve(db, touched, now=later) == TOM


def test_purge_expired_forgets_only_dead_sessions(db: Path) -> None:
    assert sessions.purge_expired(db, now=T0) == 0  # no file yet: nothing to do, nothing made
    assert not sessions.sessions_path(db).exists()
    old = sessions.start(db, PRIYA, now=T0 - LIFETIME - 1)
    idle = sessions.start(db, TOM, now=T0 - IDLE - 1)
    live = sessions.start(db, PRIYA, now=T0 - 60)
    assert sessions.purge_expired(db, now=T0) == 2
    assert [email for _, email, _, _ in _rows(db)] == [PRIYA]
    assert sessions.resolve(db, live, now=T0) == PRIYA
    assert sessions.resolve(db, old, now=T0) is None
    assert sessions.resolve(db, idle, now=T0) is None


# -- ending sessions --------------------------------------------------------------------------------


def test_end_revokes_the_token_and_every_copy_of_it(db: Path) -> None:
    token = sessions.start(db, PRIYA, now=T0)
    copied = "".join(list(token))  # the same text in another string, as a second browser would send it
    assert copied is not token
    sessions.end(db, token)
    assert sessions.resolve(db, token, now=T0 + 1) is None
    assert sessions.resolve(db, copied, now=T0 + 1) is None
    sessions.end(db, token)  # twice: nothing to do
    assert _rows(db) == []


@pytest.mark.parametrize("junk", [None, b"token", 42, "", "not a token", "x" * 100_000])
def test_end_ignores_what_is_no_token(db: Path, junk: object) -> None:
    token = sessions.start(db, PRIYA, now=T0)
    sessions.end(db, junk)
    assert sessions.resolve(db, token, now=T0) == PRIYA


def test_end_all_ends_only_that_persons_sessions(db: Path) -> None:
    assert sessions.end_all(db, PRIYA) == 0  # no file yet
    assert not sessions.sessions_path(db).exists()
    priya = [sessions.start(db, PRIYA, now=T0) for _ in range(3)]
    tom = sessions.start(db, TOM, now=T0)
    assert sessions.end_all(db, " Priya.Nair@EXAMPLE.com ") == 3
    assert all(sessions.resolve(db, token, now=T0) is None for token in priya)
    assert sessions.resolve(db, tom, now=T0) == TOM
    assert sessions.end_all(db, PRIYA) == 0


@pytest.mark.usefixtures("cheap_hasher")
def test_a_new_password_ends_that_persons_sessions_only(template_store_copy: Path) -> None:
    db = template_store_copy
    credentials.set_password(db, PRIYA, SECRET)
    priya = [sessions.start(db, PRIYA), sessions.start(db, PRIYA)]
    tom = sessions.start(db, TOM)
    credentials.set_password(db, "Priya.Nair@Example.com", "another good passphrase")
    assert [sessions.resolve(db, token) for token in priya] == [None, None]
    assert sessions.resolve(db, tom) == TOM
    assert credentials.verify_password(db, PRIYA, "another good passphrase")


@pytest.mark.usefixtures("cheap_hasher")
def test_a_first_password_needs_no_sessions_file(template_store_copy: Path) -> None:
    credentials.set_password(template_store_copy, PRIYA, SECRET)
    assert not sessions.sessions_path(template_store_copy).exists()


# -- tokens a browser might send --------------------------------------------------------------------


@pytest.fixture
def started(db: Path) -> str:
    return sessions.start(db, PRIYA, now=T0)


@pytest.mark.parametrize("position", [0, 1, 21, -2, -1])
def test_a_token_with_one_character_changed_is_no_one(db: Path, started: str, position: int) -> None:
    tampered = _tampered(started, position % len(started))
    assert tampered != started and len(tampered) == len(started)
    assert sessions.resolve(db, tampered, now=T0) is None
    assert sessions.resolve(db, started, now=T0) == PRIYA


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda token: token[:-1], id="one-short"),
        pytest.param(lambda token: token + "A", id="one-long"),
        pytest.param(lambda token: token + token, id="twice"),
        pytest.param(lambda token: " " + token, id="leading-space"),
        pytest.param(lambda token: token[:-1] + "=", id="padding"),
        pytest.param(lambda token: token[:-1] + "é", id="non-ascii"),
        pytest.param(lambda token: token[:-1] + "\x00", id="nul"),
        pytest.param(lambda token: token[:-1] + "\udc80", id="lone-surrogate"),
        pytest.param(lambda token: "é" * len(token), id="all-non-ascii"),
        pytest.param(lambda token: "A" * len(token), id="unknown"),
        pytest.param(lambda token: "A" * 1_000_000, id="huge"),
        pytest.param(lambda token: "", id="empty"),
        pytest.param(lambda token: None, id="none"),
        pytest.param(lambda token: token.encode(), id="bytes"),
        pytest.param(lambda token: 12345, id="int"),
        pytest.param(lambda token: [token], id="list"),
    ],
)
def test_what_is_no_live_token_resolves_to_no_one(db: Path, started: str, make) -> None:
    assert sessions.resolve(db, make(started), now=T0) is None
    assert sessions.resolve(db, started, now=T0) == PRIYA


@pytest.fixture(scope="module")
def property_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("sessions-property") / "coaching.duckdb"
    return db, sessions.start(db, PRIYA, now=T0)


@PROPERTY
@given(token=st.one_of(st.text(), st.text(alphabet=TOKEN_ALPHABET, min_size=43, max_size=43)))
def test_any_text_resolves_to_no_one_unless_it_was_started(property_store: tuple[Path, str], token: str) -> None:
    db, started = property_store
    expected = PRIYA if token == started else None
    assert sessions.resolve(db, token, now=T0) == expected


# -- the file ---------------------------------------------------------------------------------------


def test_the_file_holds_only_digests_never_a_token(db: Path) -> None:
    tokens = [sessions.start(db, PRIYA, now=T0), sessions.start(db, TOM, now=T0)]
    sessions.resolve(db, tokens[0], now=T0 + 3600)  # a touch writes too
    files = sorted(db.parent.glob(f"{sessions.sessions_path(db).name}*"))  # with any -wal / -shm
    content = b"".join(path.read_bytes() for path in files)
    for token in tokens:
        assert token.encode() not in content
        assert hashlib.sha256(token.encode()).hexdigest().encode() in content  # we read the right bytes
    assert {digest for digest, *_ in _rows(db)} == {hashlib.sha256(t.encode()).hexdigest() for t in tokens}


def test_the_file_is_readable_by_its_owner_only(db: Path) -> None:
    sessions.start(db, PRIYA, now=T0)
    path = sessions.sessions_path(db)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for journal in db.parent.glob(f"{path.name}-*"):  # SQLite gives its journals the file's mode
        assert stat.S_IMODE(journal.stat().st_mode) == 0o600, journal


@pytest.mark.parametrize("garbage", [b"garbage" * 600, b"not sqlite", bytes(range(256)) * 8])
def test_a_corrupt_file_is_a_session_store_error(db: Path, garbage: bytes) -> None:
    token = sessions.start(db, PRIYA, now=T0)
    path = sessions.sessions_path(db)
    path.write_bytes(garbage)
    with pytest.raises(SessionStoreError, match="sign-in sessions") as raised:
        sessions.start(db, PRIYA, now=T0)
    assert str(path) in str(raised.value)
    # A well-formed token has to be looked up, and the lookup fails: resolve raises (the callers in
    # ui/ catch SessionStoreError); a malformed one never reaches the file.
    with pytest.raises(SessionStoreError):
        sessions.resolve(db, token, now=T0)
    assert sessions.resolve(db, "not a token", now=T0) is None
    with pytest.raises(SessionStoreError):
        sessions.end_all(db, PRIYA)


def test_a_folder_that_cannot_be_made_is_a_session_store_error(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the store's folder should be")
    db = tmp_path / "data" / "coaching.duckdb"
    with pytest.raises(SessionStoreError):
        sessions.start(db, PRIYA, now=T0)
    with pytest.raises(SessionStoreError):
        sessions.resolve(db, "A" * 43, now=T0)


# -- settings ---------------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("COACHING_SESSION_IDLE_HOURS", "COACHING_SESSION_DAYS", "COACHING_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_session_policy_defaults(clean_env: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    assert coaching_settings.session_policy() == SessionPolicy()
    assert SessionPolicy() == SessionPolicy(idle=timedelta(hours=8), lifetime=timedelta(days=7))
    clean_env.setenv("COACHING_SESSION_IDLE_HOURS", "  ")
    clean_env.setenv("COACHING_SESSION_DAYS", "")
    assert coaching_settings.session_policy() == SessionPolicy()


@pytest.mark.parametrize(
    ("hours", "days", "idle_seconds", "lifetime_seconds"),
    [("1", "1", 3600, 86400), ("0.5", "30", 1800, 30 * 86400), (" 12 ", "366", 12 * 3600, 366 * 86400),
     ("744", "0.25", 744 * 3600, 6 * 3600)],
)
def test_session_policy_from_the_environment(
    clean_env: pytest.MonkeyPatch, hours: str, days: str, idle_seconds: float, lifetime_seconds: float
) -> None:
    clean_env.setenv("COACHING_SESSION_IDLE_HOURS", hours)
    clean_env.setenv("COACHING_SESSION_DAYS", days)
    policy = coaching_settings.session_policy()
    assert policy.idle.total_seconds() == idle_seconds
    assert policy.lifetime.total_seconds() == lifetime_seconds


@pytest.mark.parametrize("name", ["COACHING_SESSION_IDLE_HOURS", "COACHING_SESSION_DAYS"])
@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "inf", "1e9", "8h", "745" * 2])
def test_a_session_setting_that_cannot_be_used_names_its_variable(
    clean_env: pytest.MonkeyPatch, name: str, value: str
) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(SettingError, match=name) as raised:
        coaching_settings.session_policy()
    assert repr(value) in str(raised.value)


def test_the_upper_bounds_of_the_session_settings(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("COACHING_SESSION_IDLE_HOURS", "745")
    with pytest.raises(SettingError, match="COACHING_SESSION_IDLE_HOURS"):
        coaching_settings.session_policy()
    clean_env.setenv("COACHING_SESSION_IDLE_HOURS", "8")
    clean_env.setenv("COACHING_SESSION_DAYS", "367")
    with pytest.raises(SettingError, match="COACHING_SESSION_DAYS"):
        coaching_settings.session_policy()


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("  ", None), ("true", True), ("1", True), ("YES", True), (" on ", True),
     ("false", False), ("0", False), ("No", False), ("off", False)],
)
def test_secure_cookies(clean_env: pytest.MonkeyPatch, value: str | None, expected: bool | None) -> None:
    if value is not None:
        clean_env.setenv("COACHING_SECURE_COOKIES", value)
    assert coaching_settings.secure_cookies() is expected


@pytest.mark.parametrize("value", ["maybe", "2", "secure", "tru"])
def test_a_secure_cookies_setting_that_cannot_be_used_names_its_variable(
    clean_env: pytest.MonkeyPatch, value: str
) -> None:
    clean_env.setenv("COACHING_SECURE_COOKIES", value)
    with pytest.raises(SettingError, match="COACHING_SECURE_COOKIES"):
        coaching_settings.secure_cookies()
