"""The dashboard's own passwords: hashes only, roster members only, atomic file (throttled sign-in:
test_sign_in_throttle.py)."""

from __future__ import annotations

import io
import json
import stat
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from coaching import cli, credentials, demo, store
from coaching.credentials import CredentialError

ROOT = Path(__file__).resolve().parent.parent

PRIYA = "priya.nair@example.com"
TOM = "tom.becker@example.com"
SECRET = "correct horse battery"
#: The hasher production uses, taken before conftest's cheap_hasher, which every test here uses, swaps in a
#: cheap one.
PRODUCTION_HASHER = credentials.HASHER
#: Cheap, but stronger than the tests' usual hasher: hashes made before need a rehash.
STRONGER = PasswordHasher(time_cost=2, memory_cost=8 * 1024, parallelism=1)
pytestmark = pytest.mark.usefixtures("cheap_hasher")


@pytest.fixture
def db(template_store_copy: Path) -> Path:
    """A fresh copy of the template store, so every test has its own credentials file."""
    return template_store_copy


def _file(db: Path) -> dict:
    return json.loads(credentials.credentials_path(db).read_text(encoding="utf-8"))


# -- passwords --------------------------------------------------------------------------------------


def test_the_file_sits_beside_the_store() -> None:
    path = credentials.credentials_path(Path("data/coaching.duckdb"))
    assert path == Path("data/coaching.credentials.json")


def test_set_and_verify(db: Path) -> None:
    assert not credentials.has_password(db, PRIYA)
    credentials.set_password(db, PRIYA, SECRET)
    assert credentials.has_password(db, PRIYA)
    assert credentials.verify_password(db, PRIYA, SECRET)
    assert not credentials.verify_password(db, PRIYA, SECRET + "!")
    assert not credentials.verify_password(db, PRIYA, "")
    assert not credentials.verify_password(db, TOM, SECRET)  # on the roster, no password
    assert not credentials.verify_password(db, "nobody@example.com", SECRET)


def test_emails_match_ignoring_case(db: Path) -> None:
    credentials.set_password(db, "Priya.Nair@Example.COM", SECRET)
    assert list(_file(db)["accounts"]) == [PRIYA]
    assert credentials.verify_password(db, PRIYA, SECRET)
    assert credentials.verify_password(db, "PRIYA.NAIR@EXAMPLE.COM", SECRET)
    assert credentials.has_password(db, "priya.NAIR@example.com")


def test_the_file_holds_an_argon2_hash_never_the_password(db: Path) -> None:
    credentials.set_password(db, PRIYA, SECRET)
    path = credentials.credentials_path(db)
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    data = json.loads(text)
    assert data["version"] == 1
    entry = data["accounts"][PRIYA]
    assert entry["hash"].startswith("$argon2id$")
    assert entry["set_at"].endswith("Z")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_production_uses_the_library_defaults() -> None:
    default = PasswordHasher()
    assert (PRODUCTION_HASHER.time_cost, PRODUCTION_HASHER.memory_cost, PRODUCTION_HASHER.parallelism) == (
        default.time_cost, default.memory_cost, default.parallelism
    )


def test_only_people_on_the_roster_get_a_password(db: Path) -> None:
    with pytest.raises(CredentialError, match="not on the roster"):
        credentials.set_password(db, "stranger@example.com", SECRET)
    assert not credentials.credentials_path(db).exists()


def test_a_missing_store_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(store.StoreError, match="no store"):
        credentials.set_password(tmp_path / "none.duckdb", PRIYA, SECRET)


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short", "at least 10 characters"),
        ("123456789", "at least 10 characters"),
        (" " * 12, "whitespace"),
        ("\t \n" * 4, "whitespace"),
        (PRIYA, "the email"),
        (PRIYA.upper(), "the email"),
    ],
)
def test_weak_passwords_are_refused(db: Path, password: str, expected: str) -> None:
    with pytest.raises(CredentialError, match=expected):
        credentials.set_password(db, PRIYA, password)
    assert not credentials.has_password(db, PRIYA)


def test_a_rewrite_keeps_the_other_accounts_and_leaves_no_temporary_file(db: Path) -> None:
    credentials.set_password(db, PRIYA, SECRET)
    credentials.set_password(db, TOM, "tom's own passphrase")
    first = _file(db)["accounts"][TOM]
    credentials.set_password(db, PRIYA, "a brand new passphrase")
    assert credentials.verify_password(db, PRIYA, "a brand new passphrase")
    assert not credentials.verify_password(db, PRIYA, SECRET)
    assert credentials.verify_password(db, TOM, "tom's own passphrase")
    assert _file(db)["accounts"][TOM] == first
    names = {p.name for p in db.parent.iterdir()}
    assert not [n for n in names if n.endswith(".tmp")], names
    assert "coaching.credentials.json" in names


def test_a_failed_write_leaves_the_old_file(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    credentials.set_password(db, PRIYA, SECRET)
    before = credentials.credentials_path(db).read_bytes()

    def broken_dump(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(credentials.json, "dump", broken_dump)
    with pytest.raises(OSError):
        credentials.set_password(db, TOM, "tom's own passphrase")
    assert credentials.credentials_path(db).read_bytes() == before
    assert not [p for p in db.parent.iterdir() if p.name.endswith(".tmp")]


def test_an_unreadable_file_is_reported_not_overwritten(db: Path) -> None:
    path = credentials.credentials_path(db)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CredentialError, match="not valid JSON"):
        credentials.set_password(db, PRIYA, SECRET)
    assert path.read_text(encoding="utf-8") == "{not json"
    path.write_text('{"version": 2, "accounts": {}}', encoding="utf-8")
    with pytest.raises(CredentialError, match="version 1"):
        credentials.verify_password(db, PRIYA, SECRET)


def test_an_unknown_email_costs_a_verification_too(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    credentials.set_password(db, PRIYA, SECRET)
    calls: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            calls.append("verify")
            return super().verify(hash, password)

    monkeypatch.setattr(credentials, "HASHER", Counting(time_cost=1, memory_cost=8 * 1024, parallelism=1))
    assert not credentials.verify_password(db, "nobody@example.com", SECRET)
    assert not credentials.verify_password(db, "nobody@example.com", "no account has this password")
    assert not credentials.verify_password(db, PRIYA, "wrong password")
    assert calls == ["verify"] * 3


def test_old_parameters_are_rehashed_at_sign_in(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    credentials.set_password(db, PRIYA, SECRET)
    credentials.set_password(db, TOM, "tom's own passphrase")
    before = _file(db)["accounts"]
    monkeypatch.setattr(credentials, "HASHER", STRONGER)
    assert credentials.verify_password(db, PRIYA, SECRET)
    after = _file(db)["accounts"]
    assert ",t=2," in after[PRIYA]["hash"] and after[PRIYA]["hash"] != before[PRIYA]["hash"]
    assert after[PRIYA]["set_at"] == before[PRIYA]["set_at"]
    assert after[TOM] == before[TOM]
    assert credentials.verify_password(db, PRIYA, SECRET)
    assert not credentials.verify_password(db, PRIYA, "wrong password")


def test_a_failed_rehash_does_not_fail_the_sign_in(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    credentials.set_password(db, PRIYA, SECRET)
    before = credentials.credentials_path(db).read_bytes()
    monkeypatch.setattr(credentials, "HASHER", STRONGER)

    def broken_write(path: Path, accounts: dict) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(credentials, "_write", broken_write)
    assert credentials.verify_password(db, PRIYA, SECRET)
    assert credentials.credentials_path(db).read_bytes() == before


# -- the command line ------------------------------------------------------------------------------


def coaching(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The real command in a child process, as people run it."""
    return subprocess.run(
        [sys.executable, "-m", "coaching.cli", *args], input=stdin, capture_output=True, text=True, cwd=ROOT
    )


def coaching_here(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = ""
) -> tuple[int, str, str]:
    """The same command in this process (with the cheap hasher): exit status, stdout, stderr."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    status = cli.main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_set_password_reads_the_first_line_of_stdin(db: Path) -> None:
    result = coaching("users", "set-password", "Priya.Nair@example.com", "--db", str(db),
                      stdin=SECRET + "\nignored second line\n")
    assert result.returncode == 0, result.stderr
    assert "Password set for priya.nair@example.com" in result.stdout
    assert SECRET not in result.stdout + result.stderr
    assert credentials.verify_password(db, PRIYA, SECRET)
    assert not credentials.verify_password(db, PRIYA, SECRET + "\n")
    assert stat.S_IMODE(credentials.credentials_path(db).stat().st_mode) == 0o600


def test_a_refused_password_exits_1_without_traceback_or_echo(db: Path) -> None:
    result = coaching("users", "set-password", PRIYA, "--db", str(db), stdin="too-short\n")
    assert result.returncode == 1
    assert "at least 10 characters" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "too-short" not in result.stdout + result.stderr
    assert not credentials.credentials_path(db).exists()


@pytest.mark.parametrize(
    ("email", "stdin", "message"),
    [
        (PRIYA, "   \t      \n", "only whitespace"),
        ("stranger@example.com", SECRET + "\n", "not on the roster"),
        ("[bold]x@example.com", SECRET + "\n", "[bold]x@example.com is not on the roster"),
        (PRIYA, "", "no password on standard input"),
    ],
)
def test_set_password_refusals(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    email: str, stdin: str, message: str,
) -> None:
    status, out, err = coaching_here(capsys, monkeypatch, "users", "set-password", email, "--db", str(db),
                                     stdin=stdin)
    assert status == 1
    assert message in " ".join(err.split())
    assert SECRET not in out + err
    assert not credentials.credentials_path(db).exists()


def test_set_password_without_a_store_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, _, err = coaching_here(capsys, monkeypatch, "users", "set-password", PRIYA,
                                   "--db", str(tmp_path / "none.duckdb"), stdin=SECRET + "\n")
    assert status == 1
    assert "no store" in err


def test_the_password_is_never_an_argument(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit) as exited:
        coaching_here(capsys, monkeypatch, "users", "set-password", PRIYA, SECRET, "--db", str(db))
    assert exited.value.code == 2
    assert not credentials.credentials_path(db).exists()


def test_at_a_terminal_the_password_is_asked_twice(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter([SECRET, SECRET + "?"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": next(answers))
    monkeypatch.setattr(sys, "stdin", Terminal())
    assert cli.main(["users", "set-password", PRIYA, "--db", str(db)]) == 1
    assert "differ" in capsys.readouterr().err
    assert not credentials.has_password(db, PRIYA)
    answers = iter([SECRET, SECRET])
    assert cli.main(["users", "set-password", PRIYA, "--db", str(db)]) == 0
    assert credentials.verify_password(db, PRIYA, SECRET)


def test_demo_gives_every_demo_account_the_demo_password(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    result = coaching("demo", "--agents", "12", "--days", "30", "--end", "2026-11-01", "--quiet",
                      "--db", str(db), "--out", str(tmp_path / "exports"))
    assert result.returncode == 0, result.stderr
    assert demo.DEMO_PASSWORD not in result.stdout + result.stderr
    assert credentials.verify_password(db, "agent@example.com", demo.DEMO_PASSWORD)
    assert all(credentials.has_password(db, email) for email in demo.DEMO_ACCOUNTS)
    assert not credentials.verify_password(db, "lead@example.com", "not-the-demo-password")
    store.close_all()


def test_demo_without_import_sets_no_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "demo.duckdb"
    status, _, err = coaching_here(capsys, monkeypatch, "demo", "--agents", "12", "--days", "30", "--end",
                                   "2026-11-01", "--quiet", "--no-import", "--db", str(db),
                                   "--out", str(tmp_path / "exports"))
    assert status == 0, err
    assert not credentials.credentials_path(db).exists()


def test_a_crowd_signing_in_at_once_hashes_a_few_at_a_time(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At shift start every agent signs in together: the process checks at most HASHING_AT_ONCE passwords
    at a time (each Argon2 check holds a core and the hasher's memory), and every answer is still right."""
    credentials.set_password(db, PRIYA, SECRET)
    running = 0
    most = 0
    count = threading.Lock()

    class Watching(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            nonlocal running, most
            with count:
                running += 1
                most = max(most, running)
            try:
                time.sleep(0.02)  # long enough for every thread to be waiting at once
                return super().verify(hash, password)
            finally:
                with count:
                    running -= 1

    monkeypatch.setattr(credentials, "HASHER", Watching(time_cost=1, memory_cost=8 * 1024, parallelism=1))
    monkeypatch.setattr(credentials, "_hashing", threading.BoundedSemaphore(2))
    guesses = [(PRIYA, SECRET), (PRIYA, "wrong password"), ("nobody@example.com", SECRET)] * 8
    with ThreadPoolExecutor(max_workers=len(guesses)) as pool:
        answers = list(pool.map(lambda guess: credentials.verify_password(db, *guess), guesses))
    assert answers == [True, False, False] * 8
    assert most == 2
    assert credentials.HASHING_AT_ONCE >= 1
