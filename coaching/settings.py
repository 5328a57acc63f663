"""Settings: where the store lives and the quality rules the contact center configured.

Every setting has a default, an environment variable, and (for the CLI) a flag that wins over both.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
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
