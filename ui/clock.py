"""The time the pages see: naive UTC, as the store keeps it. One place, so tests can fix it."""

from __future__ import annotations

from datetime import UTC, date, datetime


def now() -> datetime:
    """Now in UTC, without a time zone (the store's timestamps are naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    """Today's date in UTC."""
    return now().date()
