"""Settings: where the store lives and the quality rules the contact center configured.

Every setting has a default, an environment variable, and (for the CLI) a flag that wins over both.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from coaching.sessions import DEFAULT_IDLE, DEFAULT_LIFETIME, SessionPolicy

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = PROJECT_ROOT / "data" / "coaching.duckdb"

#: Kore's default maximum of dispute rounds; at the limit an evaluation closes.
DEFAULT_MAX_DISPUTE_ROUNDS = 3
#: Kore's default pass score of an evaluation form.
DEFAULT_PASS_SCORE = 40.0
#: DuckDB's memory limit in each process that reads the store (every server process has one reader).
DEFAULT_READER_MEMORY_LIMIT = "1GB"
#: How long a pending review may wait in its status before it is flagged, in business days.
DEFAULT_REVIEW_SERVICE_LEVEL_DAYS = 2.0


class SettingError(ValueError):
    """A setting has a value that cannot be used; the message says which and why."""


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The store file: ``--db`` if given, else ``COACHING_DB``, else ``data/coaching.duckdb``."""
    chosen = explicit or os.environ.get("COACHING_DB") or DEFAULT_DB
    return Path(chosen).expanduser().resolve()


def max_dispute_rounds(explicit: int | None = None) -> int:
    """The maximum of dispute rounds: the flag, else ``COACHING_MAX_DISPUTE_ROUNDS``, else 3."""
    if explicit is not None:
        value: object = explicit
    else:
        value = os.environ.get("COACHING_MAX_DISPUTE_ROUNDS", DEFAULT_MAX_DISPUTE_ROUNDS)
    try:
        rounds = int(str(value))
    except ValueError:
        raise SettingError(
            f"COACHING_MAX_DISPUTE_ROUNDS is {value!r}; expected a whole number from 1 to 10"
        ) from None
    if not 1 <= rounds <= 10:
        raise SettingError(f"the maximum of dispute rounds is {rounds}; expected 1 to 10")
    return rounds


@dataclass(frozen=True)
class ImportSettings:
    """What an import needs to know beyond its files."""

    max_dispute_rounds: int = DEFAULT_MAX_DISPUTE_ROUNDS
    #: Problems printed in full before the rest are only counted.
    max_problems: int = 50


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingError(f"{name} is {value!r}; expected true or false")


@dataclass(frozen=True)
class ReviewSettings:
    """How the dashboard presents reviews (Kore's Quality AI settings of the same names)."""

    #: Agent Accept & Dispute: coaching sessions show pending review statuses of linked evaluations.
    accept_dispute: bool = True
    #: Hide Auditor Details: auditors show as "Anonymous".
    hide_auditor_details: bool = False
    #: The evaluation form's pass score (Kore's default is 40).
    pass_score: float = DEFAULT_PASS_SCORE
    #: A pending review waiting longer than this in its status (business days) is flagged.
    service_level_days: float = DEFAULT_REVIEW_SERVICE_LEVEL_DAYS


def review_settings() -> ReviewSettings:
    """From ``COACHING_ACCEPT_DISPUTE``, ``COACHING_HIDE_AUDITOR_DETAILS``, ``COACHING_PASS_SCORE`` and
    ``COACHING_REVIEW_SERVICE_LEVEL_DAYS``."""
    raw_pass = os.environ.get("COACHING_PASS_SCORE", str(DEFAULT_PASS_SCORE))
    try:
        pass_score = float(raw_pass)
    except ValueError:
        raise SettingError(f"COACHING_PASS_SCORE is {raw_pass!r}; expected a number from -100 to 100") from None
    if not -100 <= pass_score <= 100:
        raise SettingError(f"COACHING_PASS_SCORE is {pass_score:g}; expected -100 to 100")
    raw_level = os.environ.get("COACHING_REVIEW_SERVICE_LEVEL_DAYS", "").strip() or str(
        DEFAULT_REVIEW_SERVICE_LEVEL_DAYS)
    try:
        service_level = float(raw_level)
    except ValueError:
        service_level = float("nan")
    if not 0 < service_level <= 60:  # also refuses NaN
        raise SettingError(
            f"COACHING_REVIEW_SERVICE_LEVEL_DAYS is {raw_level!r}; expected a number of business days, "
            "more than 0 and at most 60")
    return ReviewSettings(
        accept_dispute=_flag("COACHING_ACCEPT_DISPUTE", True),
        hide_auditor_details=_flag("COACHING_HIDE_AUDITOR_DETAILS", False),
        pass_score=pass_score,
        service_level_days=service_level,
    )


def _positive(name: str, default: float, unit: str, most: float) -> float:
    raw = os.environ.get(name, "").strip() or str(default)
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value <= most:  # also refuses NaN
        raise SettingError(f"{name} is {raw!r}; expected a number of {unit}, more than 0 and at most {most:g}")
    return value


def session_policy() -> SessionPolicy:
    """How long a form sign-in lasts: ``COACHING_SESSION_IDLE_HOURS`` without use (default 8) and
    ``COACHING_SESSION_DAYS`` in all (default 7)."""
    idle = _positive("COACHING_SESSION_IDLE_HOURS", DEFAULT_IDLE / timedelta(hours=1), "hours", 24 * 31)
    days = _positive("COACHING_SESSION_DAYS", DEFAULT_LIFETIME / timedelta(days=1), "days", 366)
    return SessionPolicy(idle=timedelta(hours=idle), lifetime=timedelta(days=days))


def secure_cookies() -> bool | None:
    """``COACHING_SECURE_COOKIES``: true or false forces the cookie's ``Secure`` flag; unset, it is set
    when the browser reached the dashboard over HTTPS (directly or through a proxy saying so)."""
    if not os.environ.get("COACHING_SECURE_COOKIES", "").strip():
        return None
    return _flag("COACHING_SECURE_COOKIES", False)


_SIZE = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def reader_memory_limit() -> str:
    """``COACHING_READER_MEMORY_LIMIT``: how much memory DuckDB may use in a process reading the store
    (a size such as ``1GB`` or ``512MB``; default 1GB). Past it, a page's query fails rather than the
    process growing without bound."""
    raw = os.environ.get("COACHING_READER_MEMORY_LIMIT", "").strip() or DEFAULT_READER_MEMORY_LIMIT
    if not _SIZE.fullmatch(raw):
        raise SettingError(f"COACHING_READER_MEMORY_LIMIT is {raw!r}; expected a size such as 1GB or 512MB")
    return raw


# ------------------------------------------------------------------------------------------------
# Syncing from Kore's APIs (`coaching sync kore`, coaching/kore_sync.py)
# ------------------------------------------------------------------------------------------------
#: Where `st.secrets` reads from, and where the sync looks for a ``[kore]`` table.
SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"
#: Kore's cloud; a tenant on another host sets KORE_BASE_URL.
DEFAULT_KORE_BASE_URL = "https://platform.kore.ai"
#: Hosts KORE_BASE_URL may name with plain http (a local stand-in for Kore, as the tests start).
LOCAL_HOSTS = ("localhost", "127.0.0.1")

#: The credential settings: the environment variable, the key in secrets.toml's ``[kore]`` table, and
#: what it is (as the errors name it).
KORE_CREDENTIALS = (
    ("KORE_ACCOUNT_ID", "account_id", "the account id (the accountId header)"),
    ("KORE_ORG_ID", "org_id", "the organisation id (the orgId header)"),
    ("KORE_CLIENT_ID", "client_id", "the app's client id (the JWT's appId)"),
    ("KORE_CLIENT_SECRET", "client_secret", "the app's client secret (signs the JWT)"),
    ("KORE_STREAM_ID", "stream_id", "the app's streamId or botId (in the URL)"),
)


@dataclass(frozen=True)
class KoreCredentials:
    """What Kore's Quality AI APIs need to know who is asking. The secret never shows in a repr."""

    account_id: str
    org_id: str
    client_id: str
    client_secret: str = field(repr=False)
    stream_id: str
    base_url: str = DEFAULT_KORE_BASE_URL
    #: The JWT's ``sub`` claim: who is asking, for Kore's logs.
    subject: str = "coaching-dashboard"


def _secrets_table(path: Path) -> dict[str, object]:
    if not path.is_file():
        return {}
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        # Never quote the file: it holds secrets.
        raise SettingError(f"{path} cannot be read as TOML ({type(error).__name__}); fix or remove it") from None
    table = data.get("kore", {})
    if not isinstance(table, dict):
        raise SettingError(f"[kore] in {path} is not a table")
    return table


def kore_credentials(secrets_file: Path | None = None) -> KoreCredentials:
    """Kore's credentials from the environment (``KORE_ACCOUNT_ID``, ``KORE_ORG_ID``, ``KORE_CLIENT_ID``,
    ``KORE_CLIENT_SECRET``, ``KORE_STREAM_ID``, optionally ``KORE_BASE_URL`` and ``KORE_JWT_SUBJECT``),
    each else from the ``[kore]`` table of `.streamlit/secrets.toml` (the same names in lower case without
    ``KORE_``). Never from the command line. A missing one is named, never a value."""
    table = _secrets_table(secrets_file or SECRETS_FILE)

    def value(env: str, key: str) -> str:
        found = os.environ.get(env, "").strip() or str(table.get(key, "") or "").strip()
        return found

    values = {key: value(env, key) for env, key, _ in KORE_CREDENTIALS}
    missing = [f"{env} ({what})" for env, key, what in KORE_CREDENTIALS if not values[key]]
    if missing:
        raise SettingError(
            "Kore's API credentials are not set: " + "; ".join(missing) + ". Set them in the environment or "
            f"in the [kore] table of {secrets_file or SECRETS_FILE} (never on the command line)"
        )
    base_url = value("KORE_BASE_URL", "base_url") or DEFAULT_KORE_BASE_URL
    found = re.fullmatch(r"(https?)://([^\s/:]+)(:\d+)?(/[^\s]*)?", base_url)
    if not found:
        raise SettingError(f"KORE_BASE_URL is {base_url!r}; expected a URL such as {DEFAULT_KORE_BASE_URL}")
    if found.group(1) == "http" and found.group(2) not in LOCAL_HOSTS:
        # The JWT signed with the client secret travels in every request: never in clear text.
        raise SettingError(f"KORE_BASE_URL is {base_url!r}; it must be https:// (plain http only for "
                           f"{' or '.join(LOCAL_HOSTS)}), since every request carries a signed token")
    return KoreCredentials(
        base_url=base_url.rstrip("/"),
        subject=value("KORE_JWT_SUBJECT", "jwt_subject") or "coaching-dashboard",
        **values,
    )


def _whole(name: str, default: int, least: int, most: int) -> int:
    raw = os.environ.get(name, "").strip() or str(default)
    try:
        number = int(raw)
    except ValueError:
        number = least - 1
    if not least <= number <= most:
        raise SettingError(f"{name} is {raw!r}; expected a whole number from {least} to {most}")
    return number


#: Window sizes that tile a UTC day, so every run cuts the same windows (and resumes them).
KORE_WINDOW_HOURS = (1, 2, 3, 4, 6, 8, 12, 24)


@dataclass(frozen=True)
class KoreSyncSettings:
    """How `coaching sync kore` reads Kore (defaults: what a real tenant needs; tests make them small)."""

    #: Days before the last sync's end that each run reads again, so later audits update evaluations.
    trailing_days: int = 14
    #: How far back the first sync of a store reaches.
    backfill_days: int = 365
    #: The size of a batch: one window of time, both APIs, imported as one (all or nothing).
    window_hours: int = 24
    #: Kore's limit per account (both APIs count): requests per ``rate_window_seconds``.
    requests_per_window: int = 60
    rate_window_seconds: float = 60.0
    #: Each request's timeout (connect, read, write), in seconds.
    timeout_seconds: float = 30.0
    #: Attempts of one request before the sync gives up (429, 5xx, timeouts, broken bodies).
    max_attempts: int = 8
    #: Backoff between attempts: exponential from this, with full jitter, at most ``max_backoff_seconds``.
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 120.0
    #: Records per page (Kore's maximum is 100).
    page_size: int = 100
    #: Ask for contacts below the duration threshold too: the dashboard shows them without a score.
    include_below_threshold: bool = True
    #: Times a window is read again when it changed while being paged, before the sync gives up on it.
    max_rereads: int = 3


def kore_sync_settings() -> KoreSyncSettings:
    """From ``COACHING_KORE_TRAILING_DAYS`` (default 14), ``COACHING_KORE_BACKFILL_DAYS`` (365),
    ``COACHING_KORE_WINDOW_HOURS`` (24), ``COACHING_KORE_REQUESTS_PER_MINUTE`` (60, Kore's limit),
    ``COACHING_KORE_TIMEOUT_SECONDS`` (30) and ``COACHING_KORE_INCLUDE_BELOW_THRESHOLD`` (true)."""
    window = _whole("COACHING_KORE_WINDOW_HOURS", 24, 1, 24)
    if window not in KORE_WINDOW_HOURS:
        raise SettingError(
            f"COACHING_KORE_WINDOW_HOURS is {window}; expected one that divides a day: "
            + ", ".join(map(str, KORE_WINDOW_HOURS))
        )
    return KoreSyncSettings(
        trailing_days=_whole("COACHING_KORE_TRAILING_DAYS", 14, 0, 366),
        backfill_days=_whole("COACHING_KORE_BACKFILL_DAYS", 365, 1, 3660),
        window_hours=window,
        requests_per_window=_whole("COACHING_KORE_REQUESTS_PER_MINUTE", 60, 1, 6000),
        timeout_seconds=_positive("COACHING_KORE_TIMEOUT_SECONDS", 30.0, "seconds", 600),
        include_below_threshold=_flag("COACHING_KORE_INCLUDE_BELOW_THRESHOLD", True),
    )
